"""Is the lab's attenuation the init's doing? The lab's U(−r, r) against Xavier/Glorot and
Kaiming/He (uniform and normal, gain matched to the activation), at the roll's depth and after
its structural break.

    python experiments/init_study.py --roll 102303346 --seeds 0-49 --out results/init-study

A thin caller of `tinygrad-lab study init`; every option of that command works here.
"""

import sys

from tinygrad_lab.lab.cli import main

if __name__ == "__main__":
    sys.exit(main(["study", "init", *sys.argv[1:]]))

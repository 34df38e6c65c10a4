"""Does a larger learning rate overshoot? Final loss and the share of seeds that diverge over 13
log-spaced rates from 1e-4 to 1, and the best rate.

    python experiments/lr_study.py --roll 102303346 --lrs 1e-4:1:13 --out results/lr-study

A thin caller of `tinygrad-lab study lr`; every option of that command works here.
"""

import sys

from tinygrad_lab.lab.cli import main

if __name__ == "__main__":
    sys.exit(main(["study", "lr", *sys.argv[1:]]))

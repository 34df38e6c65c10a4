"""Part A of the lab (the gradient-flow stress test) for one roll number and seed.

    python experiments/part_a.py --roll 102303346 --seed 0 --out results/part-a

A thin caller of `tinygrad-lab stress-test`; every option of that command works here.
"""

import sys

from tinygrad_lab.lab.cli import main

if __name__ == "__main__":
    sys.exit(main(["stress-test", *sys.argv[1:]]))

"""Q4: which rule values of each student's configuration differ from the example roll's, so
that a submission which copied the example's code shows where (and one that differs in none
cannot be told apart by its architecture).

    python experiments/spec_against.py --rolls roster.csv --against 102303346 --out results/q4

A thin caller of `tinygrad-lab spec --against`; every option of that command works here.
"""

import sys

from tinygrad_lab.lab.cli import main

if __name__ == "__main__":
    sys.exit(main(["spec", *sys.argv[1:]]))

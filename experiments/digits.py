"""A small CNN learns scikit-learn's handwritten digits (needs ``pip install -e '.[digits]'``).

    python experiments/digits.py --out digits-report

A thin caller of `tinygrad-lab digits`; every option of that command works here.
"""

import sys

from tinygrad_lab.lab.cli import main

if __name__ == "__main__":
    sys.exit(main(["digits", *sys.argv[1:]]))

"""Part B of the lab (parameter counts, output size, manual convolution) for one roll number.

    python experiments/part_b.py --roll 102303346

A thin caller of `tinygrad-lab part-b`; every option of that command works here.
"""

import sys

from tinygrad_lab.lab.cli import main

if __name__ == "__main__":
    sys.exit(main(["part-b", *sys.argv[1:]]))

"""Part A over many seeds: how much GRI varies, how often it falls, how often a layer dies.

    python experiments/seeds.py --roll 102303346 --seeds 0-49 --out results/seeds

A thin caller of `tinygrad-lab stress-test --seeds`.
"""

import sys

from tinygrad_lab.lab.cli import main

if __name__ == "__main__":
    sys.exit(main(["stress-test", *sys.argv[1:]]))

"""Q1 and Q3/Q5 over many seeds: GRI, gradient norms, final loss and R² against hidden depth 1…20,
for ReLU, tanh, sigmoid and leaky ReLU (the default: 4,000 trainings).

    python experiments/depth_study.py --roll 102303346 --seeds 0-49 --out results/depth-study

A thin caller of `tinygrad-lab study depth`; every option of that command works here.
"""

import sys

from tinygrad_lab.lab.cli import main

if __name__ == "__main__":
    sys.exit(main(["study", "depth", *sys.argv[1:]]))

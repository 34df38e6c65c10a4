"""Optimizers and learning-rate schedulers, as ``torch.optim``: `SGD`, `RMSprop`, `Adam` and
`AdamW` over parameter groups with options of their own, with ``state_dict`` and
``load_state_dict``; `lr_scheduler` changes their learning rates as training goes.
docs/pytorch/optim.md lists every difference from PyTorch."""

from tinygrad_lab.optim import lr_scheduler
from tinygrad_lab.optim.adam import Adam, AdamW
from tinygrad_lab.optim.optimizer import Optimizer
from tinygrad_lab.optim.rmsprop import RMSprop
from tinygrad_lab.optim.sgd import SGD

__all__ = ["SGD", "Adam", "AdamW", "Optimizer", "RMSprop", "lr_scheduler"]

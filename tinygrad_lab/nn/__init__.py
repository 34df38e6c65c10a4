"""Layers, containers, losses, initialisation, the activation registry, the gradient recorder,
`functional` (PyTorch's ``F``) and `utils` (gradient clipping). docs/pytorch/nn.md lists what is
here and where it differs from PyTorch's ``torch.nn``."""

from tinygrad_lab.nn import activations, functional, init, utils
from tinygrad_lab.nn.activations import *  # noqa: F403  (every activation layer, by its op)
from tinygrad_lab.nn.container import ModuleDict, ModuleList, Sequential
from tinygrad_lab.nn.dropout import Dropout
from tinygrad_lab.nn.embedding import Embedding
from tinygrad_lab.nn.layers import Conv1d, Conv2d, Flatten, Linear, Unflatten
from tinygrad_lab.nn.loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    SmoothL1Loss,
)
from tinygrad_lab.nn.module import Module, Parameter
from tinygrad_lab.nn.normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from tinygrad_lab.nn.pooling import AvgPool2d, MaxPool2d
from tinygrad_lab.nn.recorder import GradientRecorder, LayerLabel, Record
from tinygrad_lab.nn.rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell

__all__ = [
    "Conv2d",
    "Embedding",
    "Flatten",
    "GradientRecorder",
    "LayerLabel",
    "Linear",
    "Module",
    "ModuleDict",
    "ModuleList",
    "Parameter",
    "Record",
    "Sequential",
    "Unflatten",
    "functional",
    "init",
    "utils",
]
__all__ += ["AvgPool2d", "BatchNorm1d", "BatchNorm2d", "Dropout", "LayerNorm", "MaxPool2d"]
__all__ += ["Conv1d"]
__all__ += ["BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "HuberLoss", "L1Loss"]
__all__ += ["MSELoss", "NLLLoss", "SmoothL1Loss"]  # losses
__all__ += ["GRU", "GRUCell", "LSTM", "LSTMCell", "RNN", "RNNCell"]  # recurrent
__all__ += activations.__all__


def __getattr__(name: str) -> type[Module]:
    """The layer of an op registered after ``nn`` was imported (``register(..., layer=True)``)."""
    if name in activations.LAYERS:
        return activations.LAYERS[name]
    raise AttributeError(f"module 'tinygrad_lab.nn' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(activations.LAYERS))

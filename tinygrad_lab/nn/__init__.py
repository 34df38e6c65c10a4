"""Layers, containers, losses, initialisation, the activation registry, the gradient recorder,
and `functional` (PyTorch's ``F``)."""

from tinygrad_lab.nn import activations, functional, init
from tinygrad_lab.nn.activations import *  # noqa: F403  (every activation layer, by its op)
from tinygrad_lab.nn.container import ModuleDict, ModuleList, Sequential
from tinygrad_lab.nn.dropout import Dropout
from tinygrad_lab.nn.layers import Conv2d, CrossEntropyLoss, Flatten, Linear, MSELoss
from tinygrad_lab.nn.module import Module, Parameter
from tinygrad_lab.nn.normalization import BatchNorm1d, BatchNorm2d
from tinygrad_lab.nn.pooling import AvgPool2d, MaxPool2d
from tinygrad_lab.nn.recorder import GradientRecorder, LayerLabel, Record

__all__ = [
    "Conv2d",
    "CrossEntropyLoss",
    "Flatten",
    "GradientRecorder",
    "LayerLabel",
    "Linear",
    "MSELoss",
    "Module",
    "ModuleDict",
    "ModuleList",
    "Parameter",
    "Record",
    "Sequential",
    "functional",
    "init",
]
__all__ += ["AvgPool2d", "BatchNorm1d", "BatchNorm2d", "Dropout", "MaxPool2d"]  # CNN layers
__all__ += activations.__all__


def __getattr__(name: str) -> type[Module]:
    """The layer of an op registered after ``nn`` was imported (``register(..., layer=True)``)."""
    if name in activations.LAYERS:
        return activations.LAYERS[name]
    raise AttributeError(f"module 'tinygrad_lab.nn' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(activations.LAYERS))

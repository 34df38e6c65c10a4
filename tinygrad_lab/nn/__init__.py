"""Layers, containers, losses, initialisation, the activation registry, the gradient recorder,
and `functional` (PyTorch's ``F``)."""

from tinygrad_lab.nn import functional, init
from tinygrad_lab.nn.activations import (
    ACTIVATIONS,
    ELU,
    GELU,
    Activation,
    Hardswish,
    Identity,
    LeakyReLU,
    Mish,
    ReLU,
    ReLU6,
    Sigmoid,
    SiLU,
    Softplus,
    Tanh,
    activation_of,
    get_activation,
    register_activation,
)
from tinygrad_lab.nn.container import Sequential
from tinygrad_lab.nn.dropout import Dropout
from tinygrad_lab.nn.layers import Conv2d, CrossEntropyLoss, Flatten, Linear, MSELoss
from tinygrad_lab.nn.module import Module, Parameter
from tinygrad_lab.nn.normalization import BatchNorm1d, BatchNorm2d
from tinygrad_lab.nn.pooling import AvgPool2d, MaxPool2d
from tinygrad_lab.nn.recorder import GradientRecorder, LayerLabel, Record

__all__ = [
    "ACTIVATIONS",
    "Activation",
    "Conv2d",
    "CrossEntropyLoss",
    "Flatten",
    "GradientRecorder",
    "Identity",
    "LayerLabel",
    "LeakyReLU",
    "Linear",
    "MSELoss",
    "Module",
    "Parameter",
    "ReLU",
    "Record",
    "Sequential",
    "Sigmoid",
    "Tanh",
    "activation_of",
    "functional",
    "get_activation",
    "init",
    "register_activation",
]
__all__ += ["AvgPool2d", "BatchNorm1d", "BatchNorm2d", "Dropout", "MaxPool2d"]  # CNN layers
__all__ += ["ELU", "GELU", "Hardswish", "Mish", "ReLU6", "SiLU", "Softplus"]  # more activations

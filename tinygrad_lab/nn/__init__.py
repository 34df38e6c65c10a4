"""Layers, containers, losses, initialisation and the gradient recorder."""

from tinygrad_lab.nn import init
from tinygrad_lab.nn.container import Sequential
from tinygrad_lab.nn.layers import (
    Conv2d,
    CrossEntropyLoss,
    Flatten,
    Identity,
    LeakyReLU,
    Linear,
    MSELoss,
    ReLU,
    Sigmoid,
    Tanh,
)
from tinygrad_lab.nn.module import Module, Parameter
from tinygrad_lab.nn.recorder import GradientRecorder, Record

__all__ = [
    "Conv2d",
    "CrossEntropyLoss",
    "Flatten",
    "GradientRecorder",
    "Identity",
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
    "init",
]

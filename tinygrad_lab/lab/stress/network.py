"""The lab's network, built from tinygrad_lab's own layers, drawing weights as the notebook does."""

from __future__ import annotations

from typing import Any

from tinygrad_lab import nn
from tinygrad_lab.lab.rules import LabConfig


def activation_layer(name: str) -> nn.Module:
    return nn.get_activation(name).make()


def linear(config: LabConfig, fan_in: int, fan_out: int, rng: Any) -> nn.Linear:
    """A Linear layer with the lab's init: W ~ U(-r, r) in one draw from ``rng``, zero bias."""
    r = config.init_range
    return nn.Linear(fan_in, fan_out, init=nn.init.uniform(-r, r), rng=rng)


def build_network(config: LabConfig, rng: Any, activation: str | None = None) -> nn.Sequential:
    """Run 1's network: 3 → width × layers → 1, the activation after every hidden Linear and a
    linear output. Weight matrices are drawn from ``rng`` in layer order (biases draw nothing),
    exactly as the notebook's loop draws them."""
    sizes = config.layer_sizes
    act = activation or config.activation
    layers: list[nn.Module] = []
    for index, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(linear(config, fan_in, fan_out, rng))
        if index < len(sizes) - 2:
            layers.append(activation_layer(act))
    return nn.Sequential(*layers)


def insert_hidden_layers(
    model: nn.Sequential,
    config: LabConfig,
    rng: Any,
    count: int | None = None,
    activation: str | None = None,
) -> None:
    """The structural break: ``count`` hidden layers (width × width) inserted just before the
    output layer, trained weights kept. Drawn in insertion order, like the notebook's
    ``weights.insert(-1, W)``."""
    width = config.hidden_width
    act = activation or config.activation
    for _ in range(config.added_layers if count is None else count):
        model.insert(-1, linear(config, width, width, rng))
        model.insert(-1, activation_layer(act))

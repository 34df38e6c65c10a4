"""`Sequential`: layers applied in order, with list semantics (index, slice, insert...)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from tinygrad_lab.nn.module import Module, structure_changed


def _check_module(value: Any, where: str) -> Module:
    if not isinstance(value, Module):
        raise TypeError(f"Sequential.{where}: expected a Module, got {type(value).__name__}")
    return value


class Sequential(Module):
    """``Sequential(Linear(3, 12), ReLU(), ...)``: feeds each layer's output to the next.

    Layers are named by position (``"0"``, ``"1"``, ...), so parameters are ``"0.weight"`` as in
    PyTorch; ``insert`` and ``append`` renumber, which the lab relies on when it inserts layers
    before the output layer of a trained network.
    """

    def __init__(self, *modules: Module) -> None:
        super().__init__()
        self._set_layers([_check_module(m, "__init__") for m in modules])

    def _set_layers(self, layers: list[Module]) -> None:
        self._modules.clear()
        for index, layer in enumerate(layers):
            self._modules[str(index)] = layer
        structure_changed()

    @property
    def layers(self) -> list[Module]:
        return list(self._modules.values())

    def forward(self, x: Any) -> Any:
        for layer in self._modules.values():
            x = layer(x)
        return x

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(list(self._modules.values()))

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return Sequential(*self.layers[index])
        return self.layers[index]

    def __setitem__(self, index: int, module: Module) -> None:
        layers = self.layers
        layers[index] = _check_module(module, "__setitem__")
        self._set_layers(layers)

    def __delitem__(self, index: int | slice) -> None:
        layers = self.layers
        del layers[index]
        self._set_layers(layers)

    def append(self, module: Module) -> Sequential:
        return self.insert(len(self), _check_module(module, "append"))

    def extend(self, modules: Iterable[Module]) -> Sequential:
        new = [_check_module(m, "extend") for m in modules]
        self._set_layers(self.layers + new)
        return self

    def insert(self, index: int, module: Module) -> Sequential:
        """Insert before position ``index`` (negative counts from the end), as ``list.insert``;
        an index beyond either end is an IndexError, not a silent append."""
        layers = self.layers
        if not -len(layers) <= index <= len(layers):
            raise IndexError(
                f"Sequential.insert: index {index} is out of range for {len(layers)} layers "
                f"(expected {-len(layers)} to {len(layers)})"
            )
        layers.insert(index, _check_module(module, "insert"))
        self._set_layers(layers)
        return self

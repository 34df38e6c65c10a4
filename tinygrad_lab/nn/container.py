"""Containers, as PyTorch's: `Sequential` (layers applied in order), `ModuleList` (a list of
modules that `parameters()` sees) and `ModuleDict` (a dict of them).

Children are named by position (``"0"``, ``"1"``, ...), so parameters are ``"0.weight"`` as in
PyTorch. A slice of a `Sequential` keeps the original names (``model[1:3]`` holds ``"1"`` and
``"2"``, as PyTorch's does); a slice of a `ModuleList` is numbered from 0 (as PyTorch's is).
Edits that move layers (``insert``, ``append``, ``extend``, ``del``) renumber them 0..n-1: what
PyTorch gives when the names are 0..n-1, and the lab relies on when it inserts layers before the
output layer of a trained network.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from tinygrad_lab.nn.module import Module, structure_changed


def _check_module(container: Module, value: Any, where: str) -> Module:
    if not isinstance(value, Module):
        raise TypeError(
            f"{type(container).__name__}.{where}: expected a Module, got {type(value).__name__}"
        )
    return value


class _ModuleSequence(Module):
    """What `Sequential` and `ModuleList` share: a list of modules, numbered by position."""

    def __init__(self, modules: Iterable[Module] = ()) -> None:
        super().__init__()
        self._set_layers([_check_module(self, m, "__init__") for m in modules])

    def _set_layers(self, layers: list[Module]) -> None:
        """Make ``layers`` the children, named "0".."n-1" (attributes too, as setattr makes)."""
        for key in self._modules:
            self.__dict__.pop(key, None)
        self._modules.clear()
        for index, layer in enumerate(layers):
            self._modules[str(index)] = layer
            object.__setattr__(self, str(index), layer)
        structure_changed()

    def _key(self, index: int, where: str) -> str:
        """The name of the child at position ``index`` (negative counts from the end)."""
        keys = list(self._modules)
        if isinstance(index, bool) or not isinstance(index, int):
            raise TypeError(
                f"{type(self).__name__}.{where}: an index must be an int, got {index!r:.40}"
            )
        if not -len(keys) <= index < len(keys):
            raise IndexError(
                f"{type(self).__name__}.{where}: index {index} is out of range for "
                f"{len(keys)} modules"
            )
        return keys[index]

    @property
    def layers(self) -> list[Module]:
        return list(self._modules.values())

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(list(self._modules.values()))

    def __setitem__(self, index: int, module: Module) -> None:
        """Replace the module at ``index``; it keeps its name, as in PyTorch."""
        setattr(self, self._key(index, "__setitem__"), _check_module(self, module, "__setitem__"))

    def __delitem__(self, index: int | slice) -> None:
        layers = self.layers
        if not isinstance(index, slice):
            index = list(self._modules).index(self._key(index, "__delitem__"))
        del layers[index]
        self._set_layers(layers)

    def pop(self, index: int = -1) -> Module:
        module = self._modules[self._key(index, "pop")]
        del self[index]
        return module

    def append(self, module: Module) -> _ModuleSequence:
        return self.insert(len(self), _check_module(self, module, "append"))

    def extend(self, modules: Iterable[Module]) -> _ModuleSequence:
        new = [_check_module(self, m, "extend") for m in modules]
        self._set_layers(self.layers + new)
        return self

    def insert(self, index: int, module: Module) -> _ModuleSequence:
        """Insert before position ``index`` (negative counts from the end), as ``list.insert``;
        an index beyond either end is an IndexError, not a silent append."""
        layers = self.layers
        if not -len(layers) <= index <= len(layers):
            raise IndexError(
                f"{type(self).__name__}.insert: index {index} is out of range for "
                f"{len(layers)} layers (expected {-len(layers)} to {len(layers)})"
            )
        layers.insert(index, _check_module(self, module, "insert"))
        self._set_layers(layers)
        return self


class Sequential(_ModuleSequence):
    """``Sequential(Linear(3, 12), ReLU(), ...)``: feeds each layer's output to the next.

    ``Sequential(OrderedDict([("hidden", Linear(3, 12)), ...]))`` names the layers. An int
    index is a position; a slice is a `Sequential` of the same modules under their own names.
    """

    def __init__(self, *modules: Module | OrderedDict[str, Module]) -> None:
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            super().__init__()
            for name, module in modules[0].items():
                self.add_module(name, _check_module(self, module, "__init__"))
        else:
            super().__init__(modules)

    def forward(self, x: Any) -> Any:
        for layer in self._modules.values():
            x = layer(x)
        return x

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return Sequential(OrderedDict(list(self._modules.items())[index]))
        return self._modules[self._key(index, "__getitem__")]


class ModuleList(_ModuleSequence):
    """A list of modules whose parameters the model sees (a plain list would hide them):
    ``self.blocks = nn.ModuleList([Linear(4, 4) for _ in range(3)])``, then a loop over it
    in ``forward``. It has no forward of its own."""

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__(modules or ())

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            "ModuleList has no forward: loop over its modules in your module's forward"
        )

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return ModuleList(self.layers[index])
        return self._modules[self._key(index, "__getitem__")]

    def __iadd__(self, modules: Iterable[Module]) -> ModuleList:
        return self.extend(modules)

    def __add__(self, other: Iterable[Module]) -> ModuleList:
        return ModuleList([*self, *other])


class ModuleDict(Module):
    """A dict of modules whose parameters the model sees, each under its key
    (``heads.weight`` for ``ModuleDict({"heads": Linear(4, 2)})``). Keys are strings, without
    ``.``, and not the name of an attribute such as ``update``. It has no forward of its own."""

    def __init__(
        self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]] | None = None
    ) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            "ModuleDict has no forward: call its modules in your module's forward"
        )

    def __getitem__(self, key: str) -> Module:
        try:
            return self._modules[key]
        except KeyError:
            raise KeyError(
                f"ModuleDict: no module {key!r}; keys are {list(self._modules)}"
            ) from None

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, _check_module(self, module, "__setitem__"))

    def __delitem__(self, key: str) -> None:
        self[key]  # (the KeyError that names the keys)
        delattr(self, key)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._modules))

    def __contains__(self, key: object) -> bool:
        return key in self._modules

    def keys(self) -> list[str]:
        return list(self._modules)

    def values(self) -> list[Module]:
        return list(self._modules.values())

    def items(self) -> list[tuple[str, Module]]:
        return list(self._modules.items())

    def pop(self, key: str) -> Module:
        module = self[key]
        del self[key]
        return module

    def clear(self) -> None:
        for key in list(self._modules):
            del self[key]

    def update(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]]) -> None:
        """Add or replace modules from a mapping or ``(key, module)`` pairs; every one is
        checked before any is added."""
        pairs = list(modules.items() if isinstance(modules, Mapping) else modules)
        for k, pair in enumerate(pairs):
            if not (isinstance(pair, tuple | list) and len(pair) == 2):
                raise TypeError(
                    f"ModuleDict.update: item {k} must be a (key, module) pair, got {pair!r:.60}"
                )
            _check_module(self, pair[1], "update")
            self._check_key(pair[0])
        for key, module in pairs:
            self.add_module(key, module)

    def _check_key(self, key: Any) -> None:
        """add_module's checks, made before anything is added."""
        if not isinstance(key, str) or not key or "." in key:
            raise KeyError(f"ModuleDict: a key must be a non-empty string without '.', got {key!r}")
        if hasattr(self, key) and key not in self._modules:
            raise KeyError(f"ModuleDict: {key!r} is already an attribute of ModuleDict")

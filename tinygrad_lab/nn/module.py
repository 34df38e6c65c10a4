"""`Module` and `Parameter`: what a student subclasses to write a layer, PyTorch's way.

Assigning a `Parameter` or a `Module` as an attribute registers it; ``parameters()`` and
``named_parameters()`` walk the registered tree. Hooks take PyTorch's signatures.
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import numpy as np

from tinygrad_lab import grad_mode, ops
from tinygrad_lab.display import markdown_table
from tinygrad_lab.grad_mode import no_grad
from tinygrad_lab.grad_mode import state as _state
from tinygrad_lab.hooks import RemovableHandle, add_hook
from tinygrad_lab.tensor import Tensor


class Parameter(Tensor):
    """A Tensor that is a learnable parameter: it always requires grad."""

    __slots__ = ()

    def __init__(self, data: Any, dtype: Any = None) -> None:
        super().__init__(data, requires_grad=True, dtype=dtype)

    def __repr__(self) -> str:
        return "Parameter" + super().__repr__()[len("Tensor") :]


_structure_changes = 0  # registrations of modules and parameters so far, in every module


def structure_changed() -> None:
    """Note that some module's children or parameters changed (the recorder re-hooks then)."""
    global _structure_changes
    _structure_changes += 1


def structure_changes() -> int:
    return _structure_changes


def leaf_modules(model: Module) -> list[Module]:
    """The modules of ``model`` that hold no other module, in order (``model`` if it is one)."""
    leaves, stack = [], [model]
    while stack:
        module = stack.pop()
        if module._modules:
            stack.extend(reversed(module._modules.values()))
        else:
            leaves.append(module)
    return leaves


class _FullBackwardHook:
    """One forward call's full backward hooks: they run once the gradients of all its inputs
    are known. Backward reaches the inputs one by one, so a hook's replacement can take effect
    only for the input reached last; replacing another is an error, not silently dropped."""

    def __init__(self, module: Module, inputs: tuple, output: Tensor) -> None:
        self.module, self.name = module, type(module).__name__
        self.needed = [k for k, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
        self.grad_input: list = [None] * len(inputs)
        self.grad_output: Any = None
        self.arrived: set[int] = set()  # a set: a retried backward arrives twice, harmlessly
        output.register_hook(self.on_output)
        for k in self.needed:
            inputs[k].register_hook(functools.partial(self.on_input, k))

    def fire(self) -> Any:
        replaced = None
        for hook in list(self.module._backward_hooks.values()):
            result = hook(self.module, tuple(self.grad_input), (self.grad_output,))
            if result is not None:
                replaced = result
        return replaced

    def on_output(self, grad: Tensor) -> None:
        self.grad_output = grad
        if not self.needed:  # no input needs grad: backward ends here, as in PyTorch
            self.fire()

    def on_input(self, k: int, grad: Tensor) -> Any:
        self.grad_input[k] = grad
        self.arrived.add(k)
        if len(self.arrived) < len(self.needed):
            return None
        replaced = self.fire()
        if replaced is None:
            return None
        if len(replaced) != len(self.grad_input):
            raise RuntimeError(
                f"{self.name}: a full backward hook returned {len(replaced)} gradients "
                f"for {len(self.grad_input)} inputs"
            )
        changed = [j for j, g in enumerate(self.grad_input) if j != k and replaced[j] is not g]
        if changed:
            raise RuntimeError(
                f"{self.name}: a full backward hook can replace only the gradient of input "
                f"{k}, the one backward reaches last; inputs {changed} have gone on"
            )
        new = replaced[k]
        if new is not None and np.shape(getattr(new, "data", new)) != grad.shape:
            raise ValueError(
                f"{self.name}: a full backward hook returned a gradient of shape "
                f"{np.shape(getattr(new, 'data', new))} for input {k}, of shape {grad.shape}"
            )
        return new


class Module:
    """Base class of layers and models. Subclasses call ``super().__init__()`` and define
    ``forward``; calling the module runs pre-hooks, ``forward``, then forward hooks."""

    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())
        object.__setattr__(self, "_backward_hooks", OrderedDict())
        object.__setattr__(self, "training", True)

    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"{type(self).__name__}: call super().__init__() before "
                f"assigning attributes such as {name!r}"
            )
        if name in self._buffers:  # a buffer stays a buffer: an array (or None)
            self._buffers[name] = _buffer(type(self).__name__, name, value)
            object.__setattr__(self, name, self._buffers[name])
            return
        if name in self._parameters and not isinstance(value, Parameter) and value is not None:
            # `layer.weight = layer.weight - lr * g` would make the weight a plain Tensor: it
            # would silently drop out of parameters(), state_dict() and the optimizer's updates
            raise TypeError(
                f"{type(self).__name__}.{name} is a parameter: cannot assign a "
                f"{type(value).__name__} to it (an nn.Parameter or None is expected); to "
                f"update it in place, write `with no_grad(): module.{name} -= ...`"
            )
        # an existing name keeps its place in the order (dict assignment), as in PyTorch
        if isinstance(value, Parameter):
            self._modules.pop(name, None)
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._parameters.pop(name, None)
            self._modules[name] = value
        else:
            self._parameters.pop(name, None)
            if self._modules.pop(name, None) is not None:
                structure_changed()
            object.__setattr__(self, name, value)
            return
        structure_changed()
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        if self._parameters.pop(name, None) is not None or self._modules.pop(name, None):
            structure_changed()
        object.__delattr__(self, name)

    # ----------------------------------------------------------------------------- running
    def forward(self, *inputs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *inputs: Any) -> Any:
        if not (
            self._forward_pre_hooks
            or self._forward_hooks
            or self._backward_hooks
            or (grad_mode.switched and _state.record_sites)
        ):
            return self.forward(*inputs)  # no hook, no trace: the common case, kept cheap
        for hook in list(self._forward_pre_hooks.values()):
            replaced = hook(self, inputs)
            if replaced is not None:
                inputs = replaced if isinstance(replaced, tuple) else (replaced,)
        switched = grad_mode.switched  # (the thread's modes are read only if some are on)
        backward_hooks = self._backward_hooks and (not switched or _state.grad_enabled)
        if backward_hooks:
            inputs = tuple(
                ops.ModuleInput.apply(x) if isinstance(x, Tensor) and x.requires_grad else x
                for x in inputs
            )
        if switched and _state.record_sites:
            _state.module_stack.append(self)
            try:
                output = self.forward(*inputs)
            finally:
                _state.module_stack.pop()
        else:
            output = self.forward(*inputs)
        for hook in list(self._forward_hooks.values()):
            replaced = hook(self, inputs, output)
            if replaced is not None:
                output = replaced
        if backward_hooks and isinstance(output, Tensor) and output.requires_grad:
            _FullBackwardHook(self, inputs, output)
        return output

    # ----------------------------------------------------------------------------- hooks
    def register_forward_pre_hook(self, fn: Callable) -> RemovableHandle:
        """``fn(module, inputs)`` before forward; a non-None return replaces the inputs."""
        return add_hook(self._forward_pre_hooks, fn)

    def register_forward_hook(self, fn: Callable) -> RemovableHandle:
        """``fn(module, inputs, output)`` after forward; a non-None return replaces the output."""
        return add_hook(self._forward_hooks, fn)

    def register_full_backward_hook(self, fn: Callable) -> RemovableHandle:
        """``fn(module, grad_input, grad_output)`` when backward has passed through the module.

        ``grad_input`` holds one gradient (a Tensor, or None) per forward input, ``grad_output``
        the gradient of the output. A returned tuple replaces ``grad_input``.
        """
        return add_hook(self._backward_hooks, fn)

    # ----------------------------------------------------------------------------- the tree
    def named_parameters(
        self, prefix: str = "", recurse: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """``(name, parameter)`` pairs, each once, named as PyTorch does (``0.weight``)."""
        seen: set[int] = set()
        modules = self.named_modules(prefix) if recurse else [(prefix, self)]
        for module_name, module in modules:
            for name, param in module._parameters.items():
                if id(param) not in seen:
                    seen.add(id(param))
                    yield (f"{module_name}.{name}" if module_name else name), param

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every parameter, in registration order, each once."""
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_children(self) -> Iterator[tuple[str, Module]]:
        yield from self._modules.items()

    def children(self) -> Iterator[Module]:
        yield from self._modules.values()

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module and every descendant, depth first, each once."""
        seen: set[int] = set()
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            children = [
                (f"{name}.{key}" if name else key, child) for key, child in module._modules.items()
            ]
            stack.extend(reversed(children))

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def num_parameters(self) -> int:
        """Total number of learnable scalars."""
        return sum(p.size for p in self.parameters())

    def zero_grad(self) -> None:
        for param in self.parameters():
            param.grad = None

    def train(self, mode: bool = True) -> Module:
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self) -> Module:
        return self.train(False)

    def register_buffer(self, name: str, array: Any) -> None:
        """Keep ``array`` as state that is not learned (BatchNorm's running statistics): it is
        an attribute, it goes into ``state_dict()``, and no optimizer sees it."""
        if name in self._parameters or name in self._modules:
            raise KeyError(f"{type(self).__name__}.register_buffer: {name!r} is already taken")
        self._buffers[name] = _buffer(type(self).__name__, name, array)
        object.__setattr__(self, name, self._buffers[name])

    def named_buffers(self, prefix: str = "") -> Iterator[tuple[str, np.ndarray]]:
        """``(name, array)`` pairs of every buffer, named as PyTorch does (``1.running_mean``)."""
        for module_name, module in self.named_modules(prefix):
            for name, array in module._buffers.items():
                if array is not None:
                    yield (f"{module_name}.{name}" if module_name else name), array

    def state_dict(self) -> OrderedDict[str, np.ndarray]:
        """A copy of every parameter's values and every buffer, by name."""
        state = OrderedDict((name, p.data.copy()) for name, p in self.named_parameters())
        state.update((name, array.copy()) for name, array in self.named_buffers())
        return state

    def load_state_dict(self, state: dict[str, Any], strict: bool = True) -> IncompatibleKeys:
        """Copy values into the parameters and buffers, in place. Every key, shape and value is
        checked before anything is written; with ``strict`` (the default) a missing or
        unexpected key is an error, otherwise those keys are skipped and returned."""
        params: dict[str, Any] = dict(self.named_parameters())
        params.update(self.named_buffers())
        missing = [name for name in params if name not in state]
        unexpected = [name for name in state if name not in params]
        if strict and (missing or unexpected):
            raise KeyError(f"load_state_dict: missing keys {missing}, unexpected keys {unexpected}")
        arrays = {name: _state_value(name, state[name]) for name in params if name in state}
        for name, array in arrays.items():
            if array.shape != params[name].shape:
                raise ValueError(
                    f"load_state_dict: {name} has shape {params[name].shape} in the model "
                    f"but {array.shape} in the state"
                )
        with no_grad():  # a write into parameters, as an optimizer step is
            for name, array in arrays.items():
                target = params[name]
                if isinstance(target, Tensor):
                    target.copy_(array)
                else:
                    target[...] = array
        return IncompatibleKeys(missing, unexpected)

    # ----------------------------------------------------------------------------- display
    def extra_repr(self) -> str:
        """What goes inside the parentheses of this module's one-line repr."""
        return ""

    def _line(self) -> str:
        shapes = ", ".join(f"{name} {tuple(p.shape)}" for name, p in self._parameters.items())
        return f"{type(self).__name__}({self.extra_repr()})" + (f"  [{shapes}]" if shapes else "")

    def _repr_markdown_(self) -> str:
        """In Jupyter: one row a layer, with its parameter shapes and count."""
        rows = []
        for name, module in self.named_modules():
            if module is self and self._modules:
                continue
            shapes = ", ".join(f"{k} {tuple(p.shape)}" for k, p in module._parameters.items())
            count = sum(p.size for p in module._parameters.values())
            rows.append(
                (name or "—", f"{type(module).__name__}({module.extra_repr()})", shapes, count)
            )
        table = markdown_table(["layer", "module", "parameters", "count"], rows)
        return f"**{type(self).__name__}**: {self.num_parameters():,} parameters\n\n{table}"

    def __repr__(self) -> str:
        if not self._modules:
            return self._line()
        lines = [f"{type(self).__name__}("]
        for name, child in self._modules.items():
            body = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {body}")
        lines.append(f")  # {self.num_parameters():,} parameters")
        return "\n".join(lines)


class IncompatibleKeys(NamedTuple):
    """What `Module.load_state_dict` skipped (with ``strict=False``)."""

    missing_keys: list[str]
    unexpected_keys: list[str]


def _state_value(name: str, value: Any) -> np.ndarray:
    """A state entry as an array of numbers, or an error naming the key."""
    array = np.asarray(value.data if isinstance(value, Tensor) else value)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"load_state_dict: {name} holds {array.dtype} values; expected numbers")
    return array


def _buffer(module: str, name: str, value: Any) -> np.ndarray | None:
    if value is None or isinstance(value, np.ndarray):
        return value
    raise TypeError(f"{module}.{name} is a buffer: expected an ndarray or None, got {value!r:.60}")

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
    only for the input reached last; replacing another is an error, not silently dropped.

    ``grad_output`` holds one entry per output (one for a Tensor, one per item of a tuple):
    the gradient that reached it, or None (not a Tensor, or no gradient reached it). When no
    input needs a gradient, the hooks fire once every output's gradient is in, with
    ``grad_input`` all None, as in PyTorch."""

    def __init__(self, module: Module, inputs: tuple) -> None:
        self.module, self.name = module, type(module).__name__
        self.needed = [k for k, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
        self.grad_input: list = [None] * len(inputs)
        self.grad_output: list = []
        self.arrived: set[int] = set()  # a set: a retried backward arrives twice, harmlessly
        self.anchored = False
        for k in self.needed:
            inputs[k].register_hook(functools.partial(self.on_input, k))

    def watch(self, outputs: tuple) -> tuple:
        """Hook the outputs (the tuple of them, rebuilt when they must pass through a node)."""
        self.grad_output = [None] * len(outputs)
        watched = [k for k, y in enumerate(outputs) if isinstance(y, Tensor) and y.requires_grad]
        if not self.needed and len(watched) > 1:
            # No input will tell when backward is done with the module: every output passes
            # through a node joined to one anchor, which backward reaches after all of them.
            anchor = Tensor(np.zeros(()), requires_grad=True)
            anchor.name = f"{self.name} hook"
            anchor.register_hook(lambda grad: self.fire_without_inputs())
            items = list(outputs)
            for k in watched:
                items[k] = ops.ModuleOutput.apply(items[k], anchor)
            outputs = outputs._make(items) if hasattr(outputs, "_make") else tuple(items)
            self.anchored = True
        for k in watched:
            outputs[k].register_hook(functools.partial(self.on_output, k))
        return outputs

    def fire(self) -> Any:
        replaced = None
        for hook in list(self.module._backward_hooks.values()):
            result = hook(self.module, tuple(self.grad_input), tuple(self.grad_output))
            if result is not None:
                replaced = result
        return replaced

    def fire_without_inputs(self) -> None:
        replaced = self.fire()
        if replaced is not None and any(g is not None for g in replaced):
            raise RuntimeError(
                f"{self.name}: no input of this call needs a gradient, so a full backward hook "
                "must return None (or None for every input), as in PyTorch"
            )

    def on_output(self, k: int, grad: Tensor) -> None:
        self.grad_output[k] = grad
        if not self.needed and not self.anchored:  # backward ends here, as in PyTorch
            self.fire_without_inputs()

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


class _WithKwargs:
    """A forward (pre-)hook registered with ``with_kwargs=True``: it is handed the keyword
    arguments of the call too."""

    __slots__ = ("fn",)

    def __init__(self, fn: Callable) -> None:
        self.fn = fn

    def __call__(self, *args: Any) -> Any:
        return self.fn(*args)


def _add_hook(
    hooks: OrderedDict, fn: Callable, prepend: bool, with_kwargs: bool
) -> RemovableHandle:
    if with_kwargs and callable(fn):
        fn = _WithKwargs(fn)
    handle = add_hook(hooks, fn)
    if prepend:
        hooks.move_to_end(handle._key, last=False)
    return handle


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

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not (
            self._forward_pre_hooks
            or self._forward_hooks
            or self._backward_hooks
            or (grad_mode.switched and _state.record_sites)
        ):
            return self.forward(*args, **kwargs)  # no hook, no trace: the common case, kept cheap
        if self._forward_pre_hooks:
            args, kwargs = self._run_pre_hooks(args, kwargs)
        switched = grad_mode.switched  # (the thread's modes are read only if some are on)
        watch = None
        if self._backward_hooks and (not switched or _state.grad_enabled):
            # (positional inputs only: PyTorch's grad_input leaves keyword arguments out)
            args = tuple(
                ops.ModuleInput.apply(x) if isinstance(x, Tensor) and x.requires_grad else x
                for x in args
            )
            watch = _FullBackwardHook(self, args)
        if switched and _state.record_sites:
            _state.module_stack.append(self)
            try:
                output = self.forward(*args, **kwargs)
            finally:
                _state.module_stack.pop()
        else:
            output = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks.values()):
            if type(hook) is _WithKwargs:
                replaced = hook.fn(self, args, kwargs, output)
            else:
                replaced = hook(self, args, output)
            if replaced is not None:
                output = replaced
        if watch is not None:
            output = self._watch_outputs(watch, output)
        return output

    def _run_pre_hooks(self, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
        """The forward pre-hooks, in order, each able to replace the arguments."""
        for hook in list(self._forward_pre_hooks.values()):
            if type(hook) is not _WithKwargs:
                replaced = hook(self, args)
                if replaced is not None:
                    args = replaced if isinstance(replaced, tuple) else (replaced,)
                continue
            replaced = hook.fn(self, args, kwargs)
            if replaced is not None:
                if not (isinstance(replaced, tuple) and len(replaced) == 2):
                    raise RuntimeError(
                        f"{type(self).__name__}: a forward pre-hook with_kwargs must return None "
                        f"or a tuple (args, kwargs), got {replaced!r:.60}"
                    )
                args, kwargs = replaced
        return args, kwargs

    def _watch_outputs(self, watch: _FullBackwardHook, output: Any) -> Any:
        """Hook this call's output for the full backward hooks: a Tensor or a tuple."""
        if isinstance(output, Tensor):
            return watch.watch((output,))[0]
        if isinstance(output, tuple):
            return watch.watch(output)
        raise TypeError(
            f"{type(self).__name__} has a full backward hook, which needs forward to return a "
            f"Tensor or a tuple (as in PyTorch), but it returned a {type(output).__name__}; "
            "hook the tensors themselves instead (out[key].register_hook(fn))"
        )

    # ----------------------------------------------------------------------------- hooks
    def register_forward_pre_hook(
        self, hook: Callable, *, prepend: bool = False, with_kwargs: bool = False
    ) -> RemovableHandle:
        """``hook(module, args)`` before forward; a non-None return replaces the positional
        arguments. With ``with_kwargs``, ``hook(module, args, kwargs)``, which may return a new
        ``(args, kwargs)``. ``prepend`` runs it before the hooks already registered."""
        return _add_hook(self._forward_pre_hooks, hook, prepend, with_kwargs)

    def register_forward_hook(
        self, hook: Callable, *, prepend: bool = False, with_kwargs: bool = False
    ) -> RemovableHandle:
        """``hook(module, args, output)`` after forward (``hook(module, args, kwargs, output)``
        with ``with_kwargs``); a non-None return replaces the output."""
        return _add_hook(self._forward_hooks, hook, prepend, with_kwargs)

    def register_full_backward_hook(self, hook: Callable, prepend: bool = False) -> RemovableHandle:
        """``hook(module, grad_input, grad_output)`` when backward has passed through the module.

        ``grad_input`` holds one gradient (a Tensor, or None) per positional input (keyword
        arguments are left out, as in PyTorch), ``grad_output`` one per output: one for a
        Tensor, one per item of a tuple (None where no gradient came). A returned tuple replaces
        ``grad_input``. Forward must return a Tensor or a tuple: anything else (a dict) is a
        TypeError when the module is called, not a hook that never fires.
        """
        return _add_hook(self._backward_hooks, hook, prepend, False)

    # ----------------------------------------------------------------------------- the tree
    def named_parameters(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """``(name, parameter)`` pairs named as PyTorch does (``0.weight``): each parameter
        once, under its first name, unless ``remove_duplicate=False`` (then under every name
        a shared module or a tied weight gives it, as `state_dict` lists them)."""
        seen: set[int] = set()
        modules = (
            self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
            if recurse
            else [(prefix, self)]
        )
        for module_name, module in modules:
            for name, param in module._parameters.items():
                if remove_duplicate:
                    if id(param) in seen:
                        continue
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

    def named_modules(
        self, memo: set | None = None, prefix: str = "", remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Module]]:
        """This module and every descendant, depth first: each once (``memo``, a set of
        modules, holds those already seen), or under every name with ``remove_duplicate=False``."""
        seen = memo if memo is not None else set()
        stack: list[tuple[str, Module, tuple[int, ...]]] = [(prefix, self, ())]
        while stack:
            name, module, ancestors = stack.pop()
            if remove_duplicate:
                if module in seen:
                    continue
                seen.add(module)
            elif id(module) in ancestors:  # every name of a module inside itself: endless
                raise ValueError(
                    f"named_modules: {name} is a {type(module).__name__} inside itself"
                )
            yield name, module
            path = (*ancestors, id(module))
            children = [
                (f"{name}.{key}" if name else key, child, path)
                for key, child in module._modules.items()
            ]
            stack.extend(reversed(children))

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def num_parameters(self) -> int:
        """Total number of learnable scalars."""
        return sum(p.size for p in self.parameters())

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget every parameter's gradient: None (PyTorch's default), or with
        ``set_to_none=False`` a new array of zeros (never the old one zeroed in place: an array
        someone kept, a recorder's, stays as it was), as the optimizers' ``zero_grad``."""
        for param in self.parameters():
            if set_to_none or param.grad is None:
                param.grad = None
            else:
                param.grad = np.zeros_like(param.data)

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

    def named_buffers(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, np.ndarray]]:
        """``(name, array)`` pairs of every buffer, named as PyTorch does (``1.running_mean``)."""
        seen: set[int] = set()
        modules = (
            self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
            if recurse
            else [(prefix, self)]
        )
        for module_name, module in modules:
            for name, array in module._buffers.items():
                if array is None or (remove_duplicate and id(array) in seen):
                    continue
                seen.add(id(array))
                yield (f"{module_name}.{name}" if module_name else name), array

    def add_module(self, name: str, module: Module | None) -> None:
        """Register ``module`` as the child ``name``, as ``setattr`` does, with PyTorch's checks
        on the name (what `ModuleDict` and `Sequential` register their modules with)."""
        where = f"{type(self).__name__}.add_module"
        if not isinstance(name, str):
            raise TypeError(f"{where}: a module's name must be a string, got {name!r}")
        if not isinstance(module, Module | None):
            raise TypeError(f"{where}: {name!r} must be a Module, got {type(module).__name__}")
        if not name or "." in name:
            raise KeyError(f"{where}: a module's name must be non-empty, without '.': {name!r}")
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"{where}: {name!r} is already an attribute of the module")
        setattr(self, name, module)

    register_module = add_module

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn`` on every child's tree, then on this module (PyTorch's order, as for
        ``model.apply(init_weights)``); returns the module."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def state_dict(self) -> OrderedDict[str, np.ndarray]:
        """A copy of every parameter's values and every buffer, by name, module by module as
        PyTorch orders them. A module or a parameter reachable under several names (used
        twice, or a tied weight) is there under each of them, as in PyTorch."""
        state: OrderedDict[str, np.ndarray] = OrderedDict()
        for module_name, module in self.named_modules(remove_duplicate=False):
            prefix = f"{module_name}." if module_name else ""
            for name, param in module._parameters.items():
                state[prefix + name] = param.data.copy()
            for name, array in module._buffers.items():
                if array is not None:
                    state[prefix + name] = array.copy()
        return state

    def load_state_dict(self, state: dict[str, Any], strict: bool = True) -> IncompatibleKeys:
        """Copy values into the parameters and buffers, in place, by the names `state_dict`
        gives them. Every key, shape and value is checked before anything is written; with
        ``strict`` (the default) a missing or unexpected key is an error, otherwise those keys
        are skipped and returned. A parameter under several names (a tied weight) must get
        the same values under each: different ones are an error, not a silent pick."""
        targets: dict[str, Any] = dict(self.named_parameters(remove_duplicate=False))
        targets.update(self.named_buffers(remove_duplicate=False))
        missing = [name for name in targets if name not in state]
        unexpected = [name for name in state if name not in targets]
        if strict and (missing or unexpected):
            raise KeyError(f"load_state_dict: missing keys {missing}, unexpected keys {unexpected}")
        arrays = {name: _state_value(name, state[name]) for name in targets if name in state}
        first: dict[int, str] = {}  # each target's first name in the state
        for name, array in arrays.items():
            if array.shape != targets[name].shape:
                raise ValueError(
                    f"load_state_dict: {name} has shape {targets[name].shape} in the model "
                    f"but {array.shape} in the state"
                )
            other = first.setdefault(id(targets[name]), name)
            if other != name and not np.array_equal(arrays[other], array, equal_nan=True):
                raise ValueError(
                    f"load_state_dict: {other} and {name} are one tied parameter in the model, "
                    "but the state gives them different values"
                )
        with no_grad():  # a write into parameters, as an optimizer step is
            for name in first.values():
                target, array = targets[name], arrays[name]
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

"""`Optimizer`, the base of SGD, RMSprop, Adam and AdamW, as ``torch.optim.Optimizer``: parameter
groups with options of their own (``param_groups``), a state per parameter (``state``),
``zero_grad``, ``add_param_group``, ``state_dict`` and ``load_state_dict``.

Each step updates the parameters' values in place (``p.data -= ...``), which raises their
version, so a graph that saved the old values will not use them. A step is all or nothing: every
parameter's grad (and the optimizer's state for it) is checked before any value, buffer or step
count changes. Every setting is checked when a group is made, naming what was wrong."""

from __future__ import annotations

import copy
import math
import numbers
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from tinygrad_lab.grad_mode import enable_grad
from tinygrad_lab.tensor import Tensor

# What an optimizer takes: Tensors, (name, Tensor) pairs, or param-group dicts
ParamsT = Iterable[Tensor] | Iterable[tuple[str, Tensor]] | Iterable[dict[str, Any]]


class Optimizer:
    """Holds the parameters in ``param_groups``, each group a dict of its ``"params"`` and its
    options (those a group does not give are ``defaults``), and ``state[p]``, what the
    optimizer keeps for parameter ``p`` (a dict, filled by the first step that updates ``p``).

    A new optimizer gives its ``defaults``, checks a group's options in ``_check_options``, and
    writes ``step()`` over ``self._ready()``: the checked ``(group, [(p, grad), ...])`` to
    update, each parameter without a grad, or frozen (``requires_grad=False``), left out."""

    _state_keys: tuple[str, ...] = ()  # what step() may keep in state[p]: load_state_dict checks

    def __init__(self, params: ParamsT, defaults: dict[str, Any]) -> None:
        name = type(self).__name__
        self._check_options(name, defaults)
        groups = _as_groups(name, params)
        self.defaults = dict(defaults)
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        self._step_count = 0  # steps taken: a scheduler stepped before the first one warns
        for group in groups:
            self.add_param_group(group)

    def _check_options(self, where: str, options: dict[str, Any]) -> None:
        """Raise, naming the option, if a group's (or the defaults') options are not valid."""

    # ----------------------------------------------------------------------------- groups
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add ``{"params": [...], "lr": ..., ...}``: parameters with options of their own, the
        others the defaults (e.g. layers unfrozen while fine-tuning). A parameter already in a
        group is an error."""
        name, i = type(self).__name__, len(self.param_groups)
        where = f"{name}: param_groups[{i}]"
        if not isinstance(param_group, dict) or "params" not in param_group:
            got = (
                f"a dict with keys {sorted(map(str, param_group))}"
                if isinstance(param_group, dict)
                else _kind(param_group)
            )
            raise TypeError(
                f"{name}.add_param_group: expected a dict with a 'params' key (and options "
                f"such as 'lr'), got {got}"
            )
        params, names = _tensors(where, param_group["params"])
        group = {"params": params, **{k: v for k, v in param_group.items() if k != "params"}}
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        if names is not None:
            group["param_names"] = names
        self._check_options(where, group)
        if self.param_groups and ("param_names" in group) != (
            "param_names" in self.param_groups[0]
        ):
            raise ValueError(
                f"{where}: every param group must give names (model.named_parameters()) or "
                "none must; these two differ"
            )
        self._check_new(name, i, params)
        self.param_groups.append(group)

    def _check_new(self, name: str, i: int, params: list[Tensor]) -> None:
        """Each parameter once: one given twice would be stepped twice per step."""
        seen = {id(p): k for k, p in enumerate(self._parameters())}
        first = len(seen)
        for k, p in enumerate(params, first):
            if id(p) not in seen:
                seen[id(p)] = k
                continue
            earlier = seen[id(p)]
            if earlier >= first:
                raise ValueError(
                    f"{name}: parameter {k} (shape {p.shape}) is parameter {earlier} again; "
                    "give each parameter once"
                )
            raise ValueError(
                f"{name}: param_groups[{i}]: parameter {k - first} (shape {p.shape}) is already "
                f"parameter {earlier}, in param_groups[{self._group_of(earlier)}]; a parameter "
                "may be in one parameter group only"
            )

    def _parameters(self) -> list[Tensor]:
        """Every parameter, group after group: its position is its index in ``state_dict()``."""
        return [p for group in self.param_groups for p in group["params"]]

    def _group_of(self, k: int) -> int:
        for i, group in enumerate(self.param_groups):
            if k < len(group["params"]):
                return i
            k -= len(group["params"])
        raise IndexError(k)

    def _index(self, p: Tensor) -> int:
        return next(k for k, q in enumerate(self._parameters()) if q is p)

    # ----------------------------------------------------------------------------- steps
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget every parameter's gradient: ``.grad = None`` (PyTorch's default), or with
        ``set_to_none=False`` a new array of zeros for each that has one."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:  # a new array: one kept elsewhere keeps its values
                    p.grad = np.zeros_like(p.grad)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        raise NotImplementedError

    @staticmethod
    def _evaluate(closure: Callable[[], Any] | None) -> Any:
        """The loss ``closure()`` returns (it recomputes it and calls backward), as PyTorch."""
        if closure is None:
            return None
        with enable_grad():
            return closure()

    def _ready(self) -> list[tuple[dict[str, Any], list[tuple[Tensor, np.ndarray]]]]:
        """Each group with its ``(p, p.grad)`` to update, all checked first: a bad one raises
        before anything is written, where a half-applied step would go unnoticed."""
        state, ready = self.state, []
        for group in self.param_groups:
            stepped = []
            for p in group["params"]:
                grad, data = p.grad, p.data
                if grad is None or not p.requires_grad:
                    continue  # no grad, or frozen: the parameter and its state stay as they are
                if not (  # (the usual case, checked inline: this runs for every parameter)
                    type(grad) is np.ndarray
                    and grad.shape == data.shape
                    and grad.dtype.kind == "f"
                    and data.dtype.kind == "f"
                    and data.flags.writeable
                ):
                    _check_grad(f"{type(self).__name__}.step: parameter {self._index(p)}", p)
                if p in state:  # its buffers still fit it (not for plain SGD: it keeps none)
                    for kept in state[p].values():
                        if type(kept) is np.ndarray and kept.shape != data.shape:
                            self._state_error(p, kept)
                stepped.append((p, grad))
            ready.append((group, stepped))
        self._step_count += 1
        return ready

    def _state_error(self, p: Tensor, kept: np.ndarray) -> None:
        raise ValueError(
            f"{type(self).__name__}.step: parameter {self._index(p)} now has shape {p.shape}, "
            f"but its optimizer state has shape {kept.shape} (its data was replaced by an array "
            "of another shape); make a new optimizer. Nothing was updated"
        )

    # ----------------------------------------------------------------------------- saving
    def state_dict(self) -> dict[str, Any]:
        """``{"state": {index: {...}}, "param_groups": [{options..., "params": [indices]}]}``,
        PyTorch's layout: each parameter is its index, counted through the groups in order.
        Arrays and options are copies, so later steps do not change it."""
        state, groups, k = {}, [], 0
        for group in self.param_groups:
            packed = {key: copy.deepcopy(v) for key, v in group.items() if key != "params"}
            packed["params"] = list(range(k, k + len(group["params"])))
            for index, p in enumerate(group["params"], k):
                if p in self.state:
                    state[index] = copy.deepcopy(self.state[p])
            k += len(group["params"])
            groups.append(packed)
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Take the options and state of ``state_dict`` (from ``state_dict()`` of an optimizer
        of this kind over parameters of the same shapes, in the same groups). Everything is
        checked first: one that does not fit raises, naming what differs, and changes nothing."""
        name = f"{type(self).__name__}.load_state_dict"
        saved_groups = _saved_groups(name, state_dict, self.param_groups, self.defaults)
        params = {}  # saved index -> this optimizer's parameter, matched by position
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups, strict=True)):
            self._check_options(f"{name}: param_groups[{i}]", saved)
            params.update(zip(saved["params"], group["params"], strict=True))
        state = defaultdict(dict)
        for k, kept in state_dict["state"].items():
            if k not in params:
                raise ValueError(
                    f"{name}: state has an entry for parameter {k!r}, which no param group "
                    f"lists (they list {sorted(params)})"
                )
            state[params[k]] = self._loaded_state(name, k, params[k], kept)
        groups = []
        for group, saved in zip(self.param_groups, saved_groups, strict=True):
            loaded = {key: copy.deepcopy(v) for key, v in saved.items() if key != "params"}
            if "param_names" in group and "param_names" not in loaded:
                loaded["param_names"] = group["param_names"]
            groups.append({"params": group["params"], **loaded})
        self.param_groups, self.state = groups, state

    def _loaded_state(self, name: str, k: Any, p: Tensor, kept: Any) -> dict[str, Any]:
        """Parameter ``k``'s saved state, checked and copied, its arrays in ``p``'s dtype."""
        if not isinstance(kept, dict):
            raise TypeError(f"{name}: state[{k!r}] is {_kind(kept)}; expected a dict")
        unknown = sorted(set(kept) - set(self._state_keys))
        if unknown:
            raise ValueError(
                f"{name}: state[{k!r}] has {unknown}, which {type(self).__name__} does not keep "
                f"(it keeps {list(self._state_keys)}): is it another optimizer's state?"
            )
        loaded = {}
        for key, value in kept.items():
            if key == "step":
                if not isinstance(value, numbers.Integral) or value < 0:
                    raise ValueError(
                        f"{name}: state[{k!r}]['step'] must be an int >= 0, got {value!r}"
                    )
                loaded[key] = int(value)
            elif value is None:
                loaded[key] = None
            elif not isinstance(value, np.ndarray) or value.shape != p.shape:
                got = f"shape {value.shape}" if isinstance(value, np.ndarray) else _kind(value)
                raise ValueError(
                    f"{name}: state[{k!r}][{key!r}] is {got}; expected an ndarray of parameter "
                    f"{k}'s shape {p.shape}"
                )
            else:
                loaded[key] = np.array(value, dtype=p.dtype)  # a copy, as the parameter's floats
        return loaded

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {key}: {group[key]}" for key in sorted(group) if key != "params"]
        return "\n".join([*lines, ")"])


# --------------------------------------------------------------------------------- checks
def check_real(where: str, key: str, value: Any, ok: Callable[[Any], bool], expected: str) -> None:
    """``value`` is a finite real number for which ``ok`` holds; else an error naming ``key``,
    what it got and what is ``expected`` (``"a number >= 0"``)."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"{where}: {key} must be {expected}, got {_kind(value)}")
    if not (math.isfinite(value) and ok(value)):
        raise ValueError(f"{where}: {key} must be {expected}, got {value!r}")


def check_flag(where: str, key: str, value: Any) -> None:
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{where}: {key} must be True or False, got {_kind(value)}")


def _kind(value: Any) -> str:
    """What ``value`` is, for a message: its type, and the value when short."""
    text = repr(value)
    return f"{type(value).__name__} {text}" if len(text) <= 40 else f"a {type(value).__name__}"


def _check_grad(where: str, p: Tensor) -> None:
    """``p``'s grad is an ndarray of its exact shape and a float dtype, and its values can be
    written (a grad that only broadcasts to the parameter would update it wrongly)."""
    grad, where = p.grad, f"{where} (shape {p.shape}, {p.dtype})"
    if not isinstance(grad, np.ndarray):
        raise TypeError(
            f"{where} has a grad of type {type(grad).__name__}; expected an ndarray of shape "
            f"{p.shape}. Nothing was updated"
        )
    if grad.dtype.kind != "f":
        raise TypeError(
            f"{where} has a grad of dtype {grad.dtype}; expected floats ({p.dtype}). "
            "Nothing was updated"
        )
    if grad.shape != p.shape:
        raise ValueError(
            f"{where} has a grad of shape {grad.shape}; expected exactly {p.shape}, the "
            "parameter's own (a grad is not broadcast). Nothing was updated"
        )
    if p.dtype.kind != "f" or not p.data.flags.writeable:
        raise ValueError(
            f"{where}: its values must be a writeable float array to be updated in place. "
            "Nothing was updated"
        )


def _not_parameters(params: Any) -> str | None:
    """Why ``params`` cannot be a parameter list, for the usual mistakes; None if it may be."""
    if isinstance(params, Tensor):
        return f"one Tensor of shape {params.shape}; pass an iterable of them, e.g. [tensor]"
    if callable(params) and getattr(params, "__name__", "") in ("parameters", "named_parameters"):
        owner = type(getattr(params, "__self__", None)).__name__
        return (
            f"the method {owner}.{params.__name__} itself, not what it returns; call it: "
            f"model.{params.__name__}()"
        )
    if callable(getattr(params, "parameters", None)):
        return f"a {type(params).__name__} module; pass its parameters: model.parameters()"
    if isinstance(params, set | frozenset):
        return "a set, whose order changes between runs; pass a list"
    if isinstance(params, dict | str | bytes):
        return f"{_kind(params)}; pass a list of Tensors, or of param-group dicts"
    try:
        iter(params)
    except TypeError:
        return f"{_kind(params)}, which is not iterable; pass an iterable of Tensors"
    return None


def _as_groups(name: str, params: Any) -> list[dict[str, Any]]:
    """The constructor's ``params`` as a list of param-group dicts (one group for Tensors)."""
    problem = _not_parameters(params)
    if problem:
        raise TypeError(f"{name}: params is {problem}")
    items = list(params)
    if not items:
        raise ValueError(
            f"{name}: got an empty parameter list (was a generator such as model.parameters() "
            "used up already, or every parameter filtered out?)"
        )
    dicts = [isinstance(item, dict) for item in items]
    if all(dicts):
        return items
    if any(dicts):
        raise TypeError(
            f"{name}: params mixes param-group dicts (item {dicts.index(True)}) with other items "
            f"(item {dicts.index(False)}); pass Tensors, or dicts, not both"
        )
    return [{"params": items}]


def _tensors(where: str, params: Any) -> tuple[list[Tensor], list[str] | None]:
    """A group's parameters as a list of leaf Tensors, and their names if given as pairs."""
    if isinstance(params, Tensor):
        params = [params]
    problem = _not_parameters(params)
    if problem:
        raise TypeError(f"{where}: 'params' is {problem}")
    params = list(params)
    named = [isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str) for p in params]
    if any(named) and not all(named):
        raise ValueError(f"{where}: give every parameter a name, as (name, tensor), or none")
    names = [p[0] for p in params] if params and all(named) else None
    tensors = [p[1] for p in params] if names is not None else params
    for k, p in enumerate(tensors):
        if not isinstance(p, Tensor):
            raise TypeError(
                f"{where}: parameter {k} is {_kind(p)}; expected a Tensor (an nn.Parameter, or a "
                "Tensor made with requires_grad=True)"
            )
        if p.grad_fn is not None:
            raise ValueError(
                f"{where}: parameter {k} (shape {p.shape}) is not a leaf: {p.grad_fn.name} made "
                "it. An optimizer updates leaves (a model's parameters); PyTorch: can't "
                "optimize a non-leaf Tensor"
            )
    return tensors, names


def _saved_groups(
    name: str, state_dict: Any, groups: list[dict[str, Any]], defaults: dict[str, Any]
) -> list[dict[str, Any]]:
    """``state_dict``'s param groups, checked against this optimizer's ``groups``."""
    if not isinstance(state_dict, dict) or set(state_dict) != {"state", "param_groups"}:
        keys = sorted(map(str, state_dict))[:6] if isinstance(state_dict, dict) else None
        got = f"a dict with keys {keys}" if keys is not None else _kind(state_dict)
        raise ValueError(
            f"{name}: expected an optimizer's state_dict(), a dict of 'state' and "
            f"'param_groups'; got {got} (a model's state_dict() goes to model.load_state_dict)"
        )
    saved, state = state_dict["param_groups"], state_dict["state"]
    if not isinstance(saved, list) or not all(isinstance(g, dict) and "params" in g for g in saved):
        raise ValueError(f"{name}: 'param_groups' must be a list of dicts with 'params'")
    if not isinstance(state, dict):
        raise ValueError(f"{name}: 'state' must be a dict, got {_kind(state)}")
    if len(saved) != len(groups):
        raise ValueError(
            f"{name}: the state dict has {len(saved)} param groups, this optimizer {len(groups)}"
        )
    indices = [k for g in saved for k in g["params"]]
    if len(set(indices)) != len(indices):
        raise ValueError(f"{name}: a parameter index appears twice in 'param_groups'")
    for i, (group, saved_group) in enumerate(zip(groups, saved, strict=True)):
        if len(saved_group["params"]) != len(group["params"]):
            raise ValueError(
                f"{name}: param_groups[{i}] has {len(saved_group['params'])} parameters in the "
                f"state dict, {len(group['params'])} in this optimizer"
            )
        missing = [key for key in defaults if key not in saved_group]
        if missing:
            raise ValueError(
                f"{name}: param_groups[{i}] has no {missing}: is it another optimizer's state?"
            )
    return saved

"""The engine's messages for a `Function` written wrong or called wrong: each names the op, what
it got and what was expected. Kept here so that the engine's main line shows only the idea."""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np


def short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def in_forward(err: Exception, op: type, inputs: tuple) -> Exception | None:
    """A clearer error for one raised by ``op.forward``, or None if it is clear as it is.

    NumPy's ValueError names neither the op nor the shapes: the new one does (the op's own
    errors, which start with its name, pass as they are); a TypeError of the call itself is a
    wrong signature (`signature_hint`)."""
    if isinstance(err, TypeError):
        return signature_hint(err, op, "forward", "forward(ctx, *arrays, **settings)")
    if type(err) is not ValueError or str(err).startswith(op.__name__):
        return None
    shapes = ", ".join(str(p.shape) for p in inputs)
    return ValueError(f"{op.__name__}: inputs of shapes {shapes}: {err}")


def signature_hint(err: TypeError, op: type, method: str, signature: str) -> TypeError | None:
    """A TypeError raised by the call itself (not inside it) means a wrong signature, most
    often a missing @staticmethod: the error that says so. None for any other TypeError."""
    if err.__traceback__ is None or err.__traceback__.tb_next is not None:
        return None  # raised inside the method: the user's own error, as it is
    found = inspect.getattr_static(op, method, None)
    if isinstance(found, staticmethod):  # then the call's arguments were wrong, not the method
        parameters = str(inspect.signature(found.__func__))
        return TypeError(
            f"{op.__name__}.{method}{parameters} could not be called: {err}; pass the inputs "
            "by position, in this order, and the settings by keyword"
        )
    return TypeError(
        f"{op.__name__}.{method} could not be called ({err}): it must be a @staticmethod "
        f"{signature}, with ctx, the node, first"
    )


def as_output(out: Any, op: type, ctx: Any) -> np.ndarray:
    """What a forward returned, as an ndarray: a NumPy or Python number is fine (and where the
    op saved it for backward, the array saved is the output's own); anything else is an error
    naming the op."""
    if isinstance(out, np.generic | int | float) and not isinstance(out, bool):
        array = np.asarray(out)
        if ctx.saved_tensors:
            ctx.saved_tensors = tuple(array if s is out else s for s in ctx.saved_tensors)
        return array
    hint = " (a Tensor's array is its .data)" if hasattr(out, "grad_fn") else ""
    raise TypeError(
        f"{op.__name__}.forward returned {type(out).__name__}; it must return an ndarray{hint}"
    )


def not_a_gradient(grad: Any, op: str, i: int, shape: tuple, recorded: bool = False) -> TypeError:
    got = type(grad).__name__ if type(grad) is not np.ndarray else f"{grad.dtype} array"
    if recorded:  # create_graph: an ndarray here lost the graph its result depends on
        return TypeError(
            f"{op}.backward returned a {got} as the gradient of input {i} in a backward with "
            "create_graph=True; expected a Tensor: its backward must compute with the Tensors "
            "it is given (operators, Tensor methods, ops), not with their arrays"
        )
    return TypeError(
        f"{op}.backward returned a {got} as the gradient of input {i}; expected an "
        f"ndarray of shape {shape} (a Tensor's array is its .data)"
    )


def freed_graph(op: str) -> RuntimeError:
    return RuntimeError(
        f"backward: the graph through {op} was already freed by an earlier "
        "backward; pass retain_graph=True to the first backward() to go through it twice"
    )


def not_twice_differentiable(op: str) -> RuntimeError:
    return RuntimeError(
        f"{op}: backward with create_graph=True: this op saved a float array that is neither "
        "one of its inputs nor its output, so the next derivative would take it for a constant; "
        f"{op} must save its inputs or output and compute the rest in backward"
    )


def stale_grad(tensor: Any, old: np.ndarray) -> RuntimeError:
    return RuntimeError(
        f"backward: a tensor of shape {tensor.shape} ({tensor.dtype}) holds a .grad of "
        f"{old.shape} ({old.dtype}): set it to None (zero_grad()) or to an array of the "
        "tensor's shape and dtype"
    )


def set_grad(tensor: Any, value: Any) -> None:
    """``tensor.grad = value``: None, or a numeric array (or Tensor) of the tensor's shape, kept
    in its dtype; anything else is an error naming what was given and what is expected."""
    tensor._grad = None if value is None else _checked_grad(value, tensor)


def _checked_grad(value: Any, tensor: Any) -> np.ndarray:
    array = getattr(value, "_data", value)
    if isinstance(array, np.generic | int | float):  # a number, for a 0-d tensor
        array = np.asarray(array)
    if not isinstance(array, np.ndarray) or array.dtype.kind not in "fiu":
        got = f"{array.dtype} array" if isinstance(array, np.ndarray) else type(value).__name__
        raise TypeError(
            f"grad: expected None or a numeric ndarray of shape {tensor.shape}, got a {got}"
        )
    if array.shape != tensor.shape:
        raise ValueError(
            f"grad: a gradient of shape {array.shape} for a tensor of shape {tensor.shape}; "
            "it must have the tensor's shape"
        )
    return array.astype(tensor.dtype, copy=False)


def check_settings(op: type, settings: dict) -> None:
    """A Tensor passed by keyword is a setting, which is never differentiated: refuse it."""
    for key, value in settings.items():
        if hasattr(value, "grad_fn"):
            raise TypeError(
                f"{op.__name__}.apply: {key}= is a Tensor, but keyword arguments are settings, "
                "never differentiated; pass every input by position"
            )


def cannot_require_grad(tensor: Any, requires_grad: Any = True) -> Exception:
    """Why ``tensor.requires_grad_()`` (or ``Tensor(data, requires_grad)``) is refused: it is
    not a leaf, holds no floats, or was given a number that is not True or False."""
    if requires_grad not in (True, False):
        return TypeError(
            f"Tensor(data, requires_grad): requires_grad={requires_grad!r} is not True or False; "
            "PyTorch's legacy torch.Tensor(2, 3) makes a 2×3 tensor of sizes: that is "
            "tl.zeros(2, 3) here (Tensor(data) always reads its data)"
        )
    if getattr(tensor, "grad_fn", None) is not None:  # (unset while Tensor() checks its data)
        return RuntimeError(
            "requires_grad_: only a leaf's requires_grad can be set (this tensor was made by "
            f"{tensor.grad_fn.name}: use .detach().requires_grad_())"
        )
    return TypeError(
        f"requires_grad: only float32 and float64 tensors can require grad, not {tensor.dtype}"
    )


def cannot_start_backward(root: Any) -> Exception:
    """Why ``root.backward()`` cannot start: no gradient reaches it, or its seed is ambiguous."""
    if not root.requires_grad:
        return RuntimeError(
            "backward: this tensor does not require grad (no input of the ops "
            "that made it had requires_grad=True, or it was made in no_grad)"
        )
    return ValueError(
        f"backward: grad can be implied only for a one-element output; "
        f"this tensor has shape {root.shape}, so pass grad= of that shape"
    )


def wrong_gradient_shape(grad: np.ndarray, op: str, i: int, shape: tuple) -> RuntimeError:
    return RuntimeError(
        f"{op}.backward returned a gradient of shape {grad.shape} for input {i}, of shape {shape}"
    )

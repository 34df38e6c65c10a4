"""Matrix products: ``MatMul`` (``a @ b``, 1-D, 2-D and batched) and the fused ``Affine``
(``x @ W + b``, one node a layer: the notebook's ``Z = A @ W + b``)."""

from __future__ import annotations

import numpy as np

from tinygrad_lab.ops.registry import register
from tinygrad_lab.tensor import Function

__all__ = ["MatMul", "Affine"]


def _check_inner(op: str, a: np.ndarray, b: np.ndarray) -> None:
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"{op}: shapes {a.shape} @ {b.shape}: matmul needs at least 1-D inputs")
    inner_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if a.shape[-1] != inner_b:
        raise ValueError(
            f"{op}: shapes {a.shape} @ {b.shape}: inner dimensions "
            f"{a.shape[-1]} and {inner_b} differ"
        )


def sum_rows(a: np.ndarray) -> np.ndarray:
    """``a.sum(axis=0)`` of a 2-D array, to the bit, in fewer instructions where it can.

    For a C-contiguous (N, W) array with W > 1, NumPy's reduction and ``einsum("ij->j")`` both
    add the rows one after another into W running sums, so they agree exactly; einsum's loop
    costs a fraction of the reduction's (this sum was the costliest NumPy call of the lab's
    epoch). Otherwise NumPy's reduction orders the additions its own way (pairwise for one
    column): keep it. A Tensor (a recorded backward) takes its ``sum``."""
    if type(a) is not np.ndarray:
        return a.sum(axis=0)
    if a.ndim == 2 and a.shape[1] > 1 and a.flags.c_contiguous:
        return np.einsum("ij->j", a)
    return np.add.reduce(a, axis=0)


def _sum_rows_of_layers(a: np.ndarray) -> np.ndarray:
    """``a.sum(axis=1, keepdims=True)`` of stacked layers (S, N, W): `sum_rows`, layer by layer."""
    if type(a) is not np.ndarray:
        return a.sum(axis=1, keepdims=True)
    wide = a.shape[2] > 1 and a.flags.c_contiguous
    return (np.einsum("sij->sj", a) if wide else np.add.reduce(a, axis=1))[:, None, :]


class MatMul(Function):
    @staticmethod
    def forward(ctx, a, b):
        _check_inner("MatMul", a, b)
        ctx.save_for_backward(a, b)
        return a @ b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        # Treat 1-D operands as a row (a) or a column (b), as matmul itself does.
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g = grad  # give g back the axes matmul dropped (column first: 1-D @ 1-D has a 0-d g)
        if b.ndim == 1:
            g = np.expand_dims(g, -1)
        if a.ndim == 1:
            g = np.expand_dims(g, -2)
        da = db = None
        if ctx.needs_input_grad[0]:
            da = g @ np.swapaxes(b2, -1, -2)  # d(ab)/da = g bᵀ
            da = da[..., 0, :] if a.ndim == 1 else da
        if ctx.needs_input_grad[1]:
            db = np.swapaxes(a2, -1, -2) @ g  # d(ab)/db = aᵀ g
            db = db[..., 0] if b.ndim == 1 else db
        return da, db


register("matmul", MatMul)


class Affine(Function):
    """``x @ W + b`` with ``W`` of shape (in, out) and optional ``b`` of shape (out,); or S
    layers stacked, ``x`` (S, N, in), ``W`` (S, in, out) and ``b`` (S, 1, out)."""

    @staticmethod
    def forward(ctx, x, w, b=None):
        if w.ndim != 2 or (b is not None and b.shape != w.shape[1:]):
            # or S layers stacked (the lab's seed axis): x (S, N, in), W (S, in, out) and b
            # (S, 1, out), each layer's products and sums those of its own 2-D Affine
            stacked = w.ndim == 3 and x.ndim == 3 and len(x) == len(w)
            if not stacked or (b is not None and b.shape != (len(w), 1, w.shape[2])):
                raise ValueError(
                    f"Affine: weight {w.shape} must be 2-D (in, out) and bias "
                    f"{None if b is None else b.shape} must be (out,); or, for S layers "
                    f"stacked, (S, in, out) and (S, 1, out) with x (S, N, in), not {x.shape}"
                )
        try:
            out = x @ w
        except ValueError:
            _check_inner("Affine", x, w)  # names the inner dimensions when they are the fault
            raise
        ctx.save_for_backward(x, w)
        if b is not None:
            if b.dtype is not out.dtype:
                out = out + b  # (mixed dtypes: NumPy's promotion)
            elif w.ndim == 2:
                out += b  # out is a fresh array: add the bias in place
            else:  # the same additions, k rows a layer to one inner loop (one row is too short
                # a loop for NumPy to be quick): out as (S, N/k, k·out) plus b repeated k times
                seeds, n, width = out.shape
                k = min(n & -n, 32)  # the largest power of 2 dividing N, up to 32
                wide = out.reshape(seeds, n // k, k * width)
                wide += np.tile(b, (1, 1, k))
        return out

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        needs = ctx.needs_input_grad
        if w.ndim == 3:  # stacked layers: each its own 2-D products, rows added in its order
            dx = grad @ np.swapaxes(w, 1, 2) if needs[0] else None
            dw = np.swapaxes(x, 1, 2) @ grad if needs[1] else None
            if len(needs) == 2:
                return dx, dw
            if not needs[2]:
                return dx, dw, None
            return dx, dw, _sum_rows_of_layers(grad)
        dx = grad @ w.T if needs[0] else None  # the notebook's dA = dZ Wᵀ
        if x.ndim != 2:  # not one batch axis: dW and db sum over every leading axis
            x, grad = x.reshape(-1, x.shape[-1]), grad.reshape(-1, grad.shape[-1])
        dw = x.T @ grad if needs[1] else None  # dW = A_prevᵀ dZ
        if len(needs) == 2:
            return dx, dw
        db = sum_rows(grad) if needs[2] else None  # db = Σ dZ
        return dx, dw, db

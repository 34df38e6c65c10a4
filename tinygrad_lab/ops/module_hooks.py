"""The node a module's full backward hooks need at its outputs (its inputs pass through
`ModuleInput`, in movement.py)."""

from __future__ import annotations

from tinygrad_lab.tensor import Function

__all__ = ["ModuleOutput"]


class ModuleOutput(Function):
    """Identity on ``x`` that also makes ``x`` depend on ``anchor``, a 0-d leaf made before the
    module ran. Backward reaches the anchor only after every output of the module, so a hook
    on it sees all their gradients at once: what a module of several outputs whose inputs need
    no gradient fires its full backward hooks on."""

    @staticmethod
    def forward(ctx, x, anchor):
        ctx.save_for_backward(anchor)
        return x

    @staticmethod
    def backward(ctx, grad):
        (anchor,) = ctx.saved_tensors
        # d(x)/dx = 1; the anchor takes no part in the value: 0 (an array or, recorded, a Tensor)
        return grad, anchor * 0

"""Shared by the op tests: random values suited to an op's domain, and `check`, which compares an
op with its NumPy reference forward, with central finite differences of it backward, and its
second derivatives (a backward with ``create_graph=True``, differentiated again) with central
differences of its first derivative."""

import numpy as np

from tinygrad_lab import Tensor, autograd

EPS = 1e-6


def draw_values(rng: np.random.Generator, shape: tuple, domain: str = "any") -> np.ndarray:
    """Random float64 values suited to an op: away from its kinks and inside its domain."""
    return np.array(_draw(rng, shape, domain), dtype=np.float64)


def _draw(rng: np.random.Generator, shape: tuple, domain: str) -> np.ndarray:
    if domain == "positive":
        return rng.uniform(0.5, 2.0, shape)
    if domain == "nonzero":  # kinks at 0 (relu, abs) and poles (1/x) stay at least 0.5 away
        return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.5, 2.0, shape)
    if domain == "distinct":  # no ties within a reduction: entries at least 0.1 apart
        size = int(np.prod(shape))
        spaced = (rng.permutation(size) - size / 2) * 0.3 + rng.uniform(-0.1, 0.1, size)
        return spaced.reshape(shape)
    if domain == "small":  # |x| < 0.4: with a "nonzero" operand, never within 0.1 of it
        return rng.uniform(-0.4, 0.4, shape)
    if domain == "unit":  # inside (-1, 1), away from the infinite slopes of asin and acos at ±1
        return rng.uniform(-0.95, 0.95, shape)
    if domain == "tan":  # away from tan's poles at ±π/2
        return rng.uniform(-1.4, 1.4, shape)
    if domain == "above 1":  # acosh's domain, away from its infinite slope at 1
        return 1.1 + rng.uniform(0.0, 2.0, shape)
    if domain == "above -1":  # log1p's domain, down to 0.001 above -1
        return -1 + 10.0 ** rng.uniform(-3, 0.5, shape)
    return rng.uniform(-2.0, 2.0, shape)


def central_differences(loss, arrays: list, i: int) -> np.ndarray:
    """d loss / d arrays[i], one entry at a time, by central differences."""
    arrays = [a.copy() for a in arrays]
    grad = np.zeros_like(arrays[i])
    for index in np.ndindex(arrays[i].shape):
        original = arrays[i][index]
        arrays[i][index] = original + EPS
        up = loss(*arrays)
        arrays[i][index] = original - EPS
        down = loss(*arrays)
        arrays[i][index] = original
        grad[index] = (up - down) / (2 * EPS)
    return grad


def check(fn, ref, *arrays: np.ndarray, seed: int = 0) -> None:
    """``fn`` on Tensors matches ``ref`` on arrays forward, and backward matches its differences."""
    tensors = [Tensor(a.copy(), requires_grad=True) for a in arrays]
    out = fn(*tensors)
    expected = np.asarray(ref(*arrays))
    assert isinstance(out, Tensor)
    assert out.shape == expected.shape and out.dtype == np.float64
    np.testing.assert_allclose(out.data, expected, rtol=1e-10, atol=1e-12)
    weights = np.random.default_rng(seed).standard_normal(out.shape)
    out.backward(weights)  # d sum(weights * out): checks every output's gradient at once
    for i, (t, a) in enumerate(zip(tensors, arrays, strict=True)):
        numeric = central_differences(lambda *xs: np.sum(weights * ref(*xs)), list(arrays), i)
        assert t.grad is not None, f"no gradient reached input {i}"
        assert t.grad.shape == a.shape and t.grad.dtype == np.float64
        np.testing.assert_allclose(t.grad, numeric, rtol=1e-4, atol=1e-6, err_msg=f"input {i}")
    check_second(fn, arrays, weights, seed=seed)


def check_second(fn, arrays: list, weights: np.ndarray, seed: int = 0) -> None:
    """``fn``'s second derivatives: the gradient of ``sum(u · ∂ sum(weights · fn)/∂inputs)``
    from a recorded backward, against central differences of that first derivative (computed
    by an ordinary backward) at every entry, for a random ``u``."""
    tensors = [Tensor(a.copy(), requires_grad=True) for a in arrays]
    first = autograd.grad(fn(*tensors), tensors, Tensor(weights), create_graph=True)
    rng = np.random.default_rng(seed + 1)
    us = [rng.standard_normal(a.shape) for a in arrays]
    total = sum((g * u).sum() for g, u in zip(first, us, strict=True))
    if not total.requires_grad:  # every first derivative is constant: the second is 0
        analytic = [np.zeros_like(a) for a in arrays]
    else:
        analytic = autograd.grad(total, tensors, allow_unused=True)
        analytic = [
            np.zeros_like(a) if g is None else g.data for a, g in zip(arrays, analytic, strict=True)
        ]

    def directional(*xs):  # sum(u · first derivative), by an ordinary backward
        inner = [Tensor(x.copy(), requires_grad=True) for x in xs]
        fn(*inner).backward(weights)
        return sum(np.sum(u * t.grad) for u, t in zip(us, inner, strict=True) if t.grad is not None)

    for i in range(len(arrays)):
        numeric = central_differences(directional, list(arrays), i)
        np.testing.assert_allclose(
            analytic[i], numeric, rtol=1e-4, atol=1e-5, err_msg=f"second derivative, input {i}"
        )

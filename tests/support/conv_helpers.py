"""The convolution's independent definition, PyTorch's output-size formula, and strategies of
cases, shared by the tests of the op, `nn.Conv2d`, `nn.Conv1d` and `nn.functional.conv2d`."""

import math
from fractions import Fraction

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

seeds = st.integers(0, 2**32 - 1)


def loop_conv2d(x, w, b, stride, padding, dilation=(1, 1), groups=1):
    """The textbook definition, one output pixel at a time (written independently of the op);
    stride, padding and dilation are (height, width) pairs; the output side is floored."""
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    xp = np.zeros((n, c, h + 2 * ph, wd + 2 * pw))
    xp[:, :, ph : ph + h, pw : pw + wd] = x
    oh = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    ow = (wd + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((n, o, oh, ow))
    per_group = o // groups
    for i in range(n):
        for f in range(o):
            channels = slice((f // per_group) * cg, (f // per_group + 1) * cg)
            for r in range(oh):
                for s in range(ow):
                    rows = slice(r * sh, r * sh + dh * (kh - 1) + 1, dh)
                    cols = slice(s * sw, s * sw + dw * (kw - 1) + 1, dw)
                    patch = xp[i, channels, rows, cols]
                    out[i, f, r, s] = np.sum(patch * w[f]) + (0.0 if b is None else b[f])
    return out


def pytorch_side(n, k, s, p, d=1):
    """PyTorch's Conv1d/Conv2d output side, as its documentation writes it:
    floor((n + 2p - d(k - 1) - 1) / s + 1)."""
    return math.floor(Fraction(n + 2 * p - d * (k - 1) - 1, s) + 1)


def loop_conv1d(x, w, b, stride, padding, dilation=1, groups=1):
    """The 1-D definition, one output position at a time; the output length is floored."""
    n, c, length = x.shape
    o, cg, k = w.shape
    xp = np.zeros((n, c, length + 2 * padding))
    xp[:, :, padding : padding + length] = x
    out = np.zeros((n, o, (length + 2 * padding - dilation * (k - 1) - 1) // stride + 1))
    per_group = o // groups
    for i in range(n):
        for f in range(o):
            channels = slice((f // per_group) * cg, (f // per_group + 1) * cg)
            for t in range(out.shape[2]):
                taps = xp[i, channels, t * stride : t * stride + dilation * (k - 1) + 1 : dilation]
                out[i, f, t] = np.sum(taps * w[f]) + (0.0 if b is None else b[f])
    return out


pairs = st.tuples(st.integers(1, 3), st.integers(1, 3))


@st.composite
def conv_cases(draw):
    groups = draw(st.integers(1, 2))
    kh, kw = draw(pairs)
    dh, dw = draw(pairs)
    ph, pw = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    h = draw(st.integers(max(1, dh * (kh - 1) + 1 - 2 * ph), 7))
    w = draw(st.integers(max(1, dw * (kw - 1) + 1 - 2 * pw), 7))
    return {
        "batch": draw(st.integers(1, 2)),
        "in_channels": groups * draw(st.integers(1, 2)),
        "out_channels": groups * draw(st.integers(1, 2)),
        "kernel": (kh, kw),
        "stride": draw(pairs),
        "padding": (ph, pw),
        "dilation": (dh, dw),
        "groups": groups,
        "size": (h, w),
        "bias": draw(st.booleans()),
        "seed": draw(seeds),
    }


@st.composite
def too_small_sides(draw):
    """A kernel, stride, padding and dilation, and an input side too small for any output."""
    k, s, d = draw(st.integers(2, 4)), draw(st.integers(1, 3)), draw(st.integers(1, 2))
    p = draw(st.integers(0, 2))
    small = [n for n in range(1, 8) if pytorch_side(n, k, s, p, d) < 1]
    assume(small)
    return {"size": draw(st.sampled_from(small)), "kernel": k, "stride": s, "padding": p,
            "dilation": d}  # fmt: skip

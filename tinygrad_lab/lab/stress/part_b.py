"""Part B (lab-spec §3), every figure computed by the framework: parameter counts from real
layers, the output size from a real forward pass checked against the formula
(`rules.course_output_size`, which applies the lab's rule that it be a whole number), and the
manual convolution through the framework's convolution."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tinygrad_lab import nn, ops
from tinygrad_lab.grad_mode import no_grad
from tinygrad_lab.lab.rules import LabConfig, NonIntegerOutputSize, course_output_size
from tinygrad_lab.tensor import Tensor

DOCUMENTS_MANUAL_CONVOLUTION = -18  # what the notebook's text and the README claim (wrong)


def manual_matrix(a: int, b: int) -> np.ndarray:
    """The 5×5 matrix ``v(i, j) = (a + i) + (b + j)``."""
    i, j = np.indices((5, 5))
    return ((a + i) + (b + j)).astype(np.float64)


def manual_filter() -> np.ndarray:
    """3×3 filter: +3 at the centre, −1 elsewhere."""
    f = -np.ones((3, 3))
    f[1, 1] = 3
    return f


@dataclass
class PartBResult:
    dense_parameters: int
    dense_layer: str
    conv_parameters: int
    conv_layer: str
    output_size: int | None  # None when the formula does not give a whole number
    output_size_error: str | None
    output_size_forward: int  # what a real Conv2d forward pass gives (floors a remainder)
    output_size_config: dict[str, int]
    manual_matrix: list[list[float]]
    manual_convolution_map: list[list[float]]  # the filter over every 3×3 window of the matrix
    manual_convolution: float  # centre region (rows 1–3, cols 1–3) = centre of the map
    documents_claim: int = DOCUMENTS_MANUAL_CONVOLUTION
    notes: list[str] = field(default_factory=list)


def _output_size(config: LabConfig, rng: Any) -> tuple[int | None, str | None, int]:
    """The formula's size (or None and why: the lab's rule that it be a whole number) and a
    real Conv2d forward pass's size, which floors; where the formula is whole, the two agree."""
    n, f = config.image_side, config.output_filter_size
    s, p = config.output_stride, config.output_padding
    layer = nn.Conv2d(1, 1, f, stride=s, padding=p, rng=rng)
    with no_grad():
        forward_size = layer(np.zeros((1, 1, n, n))).shape[-1]
    try:
        size, error = course_output_size(n, f, s, p), None
    except NonIntegerOutputSize as err:
        size, error = None, str(err)
    if size is not None and size != forward_size:  # the formula and the layer must agree
        raise AssertionError(
            f"output size: formula gives {size}, Conv2d forward gives "
            f"{forward_size} for N={n}, F={f}, S={s}, P={p}"
        )
    return size, error, forward_size


def _manual_convolution(config: LabConfig) -> tuple[np.ndarray, np.ndarray, float]:
    """The 5×5 matrix, the filter over all its 3×3 windows, and over its centre region."""
    matrix = manual_matrix(config.a, config.b)
    kernel = Tensor(manual_filter()[None, None])
    with no_grad():
        conv_map = ops.Conv2d.apply(Tensor(matrix[None, None]), kernel)
        centre = ops.Conv2d.apply(Tensor(matrix[None, None, 1:4, 1:4]), kernel).item()
    return matrix, conv_map.data[0, 0], centre


EXAMPLE_DIGITS = (6, 4)  # a and b of the documents' example roll, 102303346


def _notes(config: LabConfig, centre: float) -> list[str]:
    """What the documents get wrong, said only where it is true of this roll."""
    if (config.a, config.b) == EXAMPLE_DIGITS:
        notes = [
            f"The course documents state the manual convolution is "
            f"{DOCUMENTS_MANUAL_CONVOLUTION}; computed here it is {centre:g}, as the notebook's "
            f"own code prints ({centre:.1f}): the documents' −18 is wrong."
        ]
    else:
        notes = [
            f"The course documents work the manual convolution for their example roll only "
            f"(a = 6, b = 4), where they state {DOCUMENTS_MANUAL_CONVOLUTION} and their own code "
            f"prints -70.0 (−70 is right). For this roll (a = {config.a}, b = {config.b}) it is "
            f"{centre:g}."
        ]
    f, conv_f = config.output_filter_size, config.conv_filter_size
    if f == conv_f:
        notes.append(
            f"Both questions use F = {f} for this roll: the output-size question fixes F = {f}, "
            f"and the conv filter size 3 + (c mod 2) is {conv_f} too."
        )
    else:
        notes.append(
            f"The output-size question uses F = {f} (as the documents do), not the conv "
            f"filter size F = {conv_f} of the parameter question."
        )
    return notes


def run_part_b(config: LabConfig, rng: Any = None) -> PartBResult:
    """Part B for ``config``: parameter counts, output size and the manual convolution."""
    rng = np.random.RandomState(0) if rng is None else rng
    n, neurons = config.image_side, config.dense_neurons
    k, f = config.conv_filters, config.conv_filter_size
    dense = nn.Linear(n * n, neurons, rng=rng)
    conv = nn.Conv2d(1, k, f, rng=rng)
    size, size_error, forward_size = _output_size(config, rng)
    matrix, conv_map, centre = _manual_convolution(config)
    return PartBResult(
        dense_parameters=dense.num_parameters(),
        dense_layer=f"Linear({n}×{n} = {n * n} → {neurons})",
        conv_parameters=conv.num_parameters(),
        conv_layer=f"Conv2d(1 → {k}, kernel {f}×{f})",
        output_size=size,
        output_size_error=size_error,
        output_size_forward=forward_size,
        output_size_config={
            "N": n,
            "F": config.output_filter_size,
            "S": config.output_stride,
            "P": config.output_padding,
        },
        manual_matrix=matrix.tolist(),
        manual_convolution_map=conv_map.tolist(),
        manual_convolution=centre,
        notes=_notes(config, centre),
    )

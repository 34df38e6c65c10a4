"""The exercises: which function of the project each one blanks, its points, what it needs,
and the known mistakes (mutants of the project's own source) its grader recognises.

A target is ``"module:qualname"``, a function or a method of the framework; the blank keeps
its signature and docstring, and its math is the comments of the project's own body (`cut`),
so the exercises never drift from the code and no formula is written twice.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Mutant:
    """A known mistake: ``old`` replaced by ``new`` in the source of ``target`` (``old`` None:
    every value the function returns negated, the sign mistake)."""

    kind: str  # a key of HINTS
    target: str
    old: str | None = None
    new: str = ""


@dataclass(frozen=True)
class Exercise:
    name: str
    set: str
    title: str
    targets: tuple[str, ...]  # "module:qualname"; empty for the layer of the student's design
    points: int
    needs: tuple[str, ...] = ()  # exercises graded first; the project's own stands in if failed
    mutants: tuple[Mutant, ...] = ()


# What to look at, for each kind of known mistake (the report's hint).
HINTS = {
    "sign": "the sign is flipped: check the sign of each term (d(x/y)/dy = -x/y², a descent "
    "step subtracts)",
    "unbroadcast": "a missing unbroadcast: a gradient must be summed over the axes that "
    "broadcasting added (leading) or stretched (size 1), back to the input's shape",
    "axis": "a wrong axis: the gradient must be reduced or spread along the axes the forward "
    "reduced, and broadcast back over them",
    "transpose": "a transposed matmul: for C = A @ B, dA = G @ Bᵀ and dB = Aᵀ @ G",
    "ties": "ties in max: when k entries tie for the maximum, each gets grad / k (not grad "
    "each, not only the first)",
    "accumulate": "`+=` lost: a gradient (or a velocity) was overwritten instead of added; a "
    "tensor used several times, or a second backward, must sum every contribution",
    "order": "the walk visited a node before all its gradient had arrived: visit nodes in "
    "reverse topological order (newest first), each once",
    "statistics": "x̂ depends on x through the batch mean and variance too: in training, "
    "dx = (g - mean(g) - x̂·mean(g·x̂)) / √(var + eps)",
    "bias_correction": "Adam's bias correction is missing: m̂ = m / (1 - β₁ᵗ), v̂ = v / (1 - β₂ᵗ)",
}

T = "tinygrad_lab.tensor:"
E = "tinygrad_lab.ops.elementwise:"
R = "tinygrad_lab.ops.reduce:"
ENGINE = ("unbroadcast", "visit", "walk", "commit")


def _op(name: str, title: str, target: str, *mutants: Mutant, points: int = 1) -> Exercise:
    return Exercise(
        name, "ops", title, (target,), points, ENGINE, (Mutant("sign", target), *mutants)
    )


_BN = "tinygrad_lab.ops.normalization:"
_SGD = "tinygrad_lab.optim.sgd:SGD.step"
_ADAM = "tinygrad_lab.optim.adam:Adam.step"
_MATMUL = "tinygrad_lab.ops.matmul:MatMul.backward"
_AFFINE = "tinygrad_lab.ops.matmul:Affine.backward"
_CONV = "tinygrad_lab.ops.conv:"
_UNBROADCAST = "tinygrad_lab.numpy_interop:unbroadcast"

EXERCISES: tuple[Exercise, ...] = (
    Exercise(
        "unbroadcast",
        "engine",
        "unbroadcast: sum a gradient back to an input's shape",
        (_UNBROADCAST,),
        2,
        mutants=(
            Mutant("unbroadcast", _UNBROADCAST, "if stretched:", "if False:"),
            Mutant("unbroadcast", _UNBROADCAST, "if extra > 0:", "if False:"),
        ),
    ),
    Exercise(
        "visit",
        "engine",
        "the backward walk: one node's backward, its inputs' gradients summed",
        (T + "_visit",),
        2,
        ("unbroadcast",),
        (
            Mutant(
                "accumulate", T + "_visit", "total = previous + parent_grad", "total = parent_grad"
            ),
        ),
    ),
    Exercise(
        "walk",
        "engine",
        "topological order: visit every node after all its gradient has arrived",
        (T + "_walk",),
        2,
        ("visit",),
        (Mutant("order", T + "_walk", "heapq.heappop(waiting)[1]", "waiting.pop()[1]"),),
    ),
    Exercise(
        "commit",
        "engine",
        "gradient accumulation: .grad adds up over backward calls",
        (T + "_commit",),
        2,
        ("walk",),
        (
            Mutant(
                "accumulate",
                T + "_commit",
                "node._grad = np.asarray(node._grad + grad)",
                "node._grad = np.asarray(grad)",
            ),
        ),
    ),
    _op("add", "x + y", E + "Add.backward"),
    _op("mul", "x * y", E + "Mul.backward"),
    _op("div", "x / y", E + "Div.backward"),
    _op("pow", "x ** p", E + "Pow.backward"),
    _op("exp", "exp(x)", E + "Exp.backward"),
    _op("log", "log(x)", E + "Log.backward"),
    _op(
        "matmul",
        "a @ b",
        _MATMUL,
        Mutant("transpose", _MATMUL, "da = g @ np.swapaxes(b2, -1, -2)", "da = g @ b2"),
    ),
    _op(
        "sum",
        "x.sum(axis)",
        R + "Sum.backward",
        Mutant("axis", R + "Sum.backward", "_expand(grad, ctx.axes,", "_expand(grad, (0,),"),
    ),
    _op(
        "mean",
        "x.mean(axis)",
        R + "Mean.backward",
        Mutant("axis", R + "Mean.backward", "_expand(grad, ctx.axes,", "_expand(grad, (0,),"),
    ),
    _op(
        "max",
        "x.amax(axis), ties sharing the gradient",
        R + "_share",
        Mutant("ties", R + "_share", "return winners / count *", "return winners *"),
    ),
    _op("relu", "relu(x)", E + "ReLU.backward"),
    _op("sigmoid", "sigmoid(x)", E + "Sigmoid.backward"),
    _op("tanh", "tanh(x)", E + "Tanh.backward"),
    _op(
        "softmax",
        "softmax(x, axis)",
        R + "Softmax.backward",
        Mutant("axis", R + "Softmax.backward", "sum(axis=ctx.axis,", "sum(axis=0,"),
    ),
    _op(
        "cross_entropy",
        "cross-entropy of logits and class indices",
        "tinygrad_lab.ops.loss:CrossEntropy.backward",
        Mutant("axis", "tinygrad_lab.ops.loss:CrossEntropy.backward", "axis=1)", "axis=0)"),
    ),
    Exercise(
        "conv2d",
        "ops",
        "conv2d: the gradients at its input, weights and bias",
        (
            _CONV + "Conv2d.backward",
            _CONV + "Conv2dInputGrad.forward",
            _CONV + "Conv2dWeightGrad.forward",
        ),
        3,
        ENGINE,
        (
            Mutant("sign", _CONV + "Conv2d.backward"),
            Mutant(
                "axis",
                _CONV + "Conv2d.backward",
                "grad.sum(axis=(0, 2, 3))",
                "grad.sum(axis=(1, 2, 3))",
            ),
        ),
    ),
    _op(
        "max_pool",
        "max_pool2d, ties sharing the gradient",
        "tinygrad_lab.ops.pool:MaxPool2d.backward",
        Mutant("ties", "tinygrad_lab.ops.pool:MaxPool2d.backward", "divisor=count", "divisor=1"),
        points=2,
    ),
    Exercise(
        "linear",
        "layers",
        "Linear: y = x @ W + b",
        (_AFFINE,),
        2,
        ENGINE,
        (
            Mutant("sign", _AFFINE),
            Mutant("transpose", _AFFINE, "dx = grad @ w.T if", "dx = grad @ w if"),
            Mutant("unbroadcast", _AFFINE, "if x.ndim != 2:", "if False:"),
        ),
    ),
    Exercise(
        "batch_norm",
        "layers",
        "BatchNorm: normalised by the batch's own statistics",
        (_BN + "_through_statistics", _BN + "BatchNorm.backward"),
        3,
        ENGINE,
        (
            Mutant("sign", _BN + "BatchNorm.backward"),
            Mutant(
                "statistics",
                _BN + "BatchNorm.backward",
                "_through_statistics(g, x_hat, inv_std, axes) if ctx.training else",
                "",
            ),
            Mutant(
                "axis",
                _BN + "BatchNorm.backward",
                "dbias = grad.sum(axis=axes)",
                "dbias = grad.sum(axis=0)",
            ),
        ),
    ),
    Exercise(
        "custom_layer",
        "layers",
        "a layer of your design: its own Function (forward and backward) inside a Module",
        (),
        3,
        ENGINE,
    ),
    Exercise(
        "sgd",
        "optim",
        "SGD with momentum (PyTorch's)",
        (_SGD,),
        2,
        mutants=(
            Mutant("sign", _SGD, "p.data -= lr * grad", "p.data += lr * grad"),
            Mutant("accumulate", _SGD, "v *= momentum", "v *= 0"),
        ),
    ),
    Exercise(
        "adam",
        "optim",
        "an Adam step, with bias correction",
        (_ADAM,),
        2,
        mutants=(
            Mutant("sign", _ADAM, "data -= (lr", "data += (lr"),
            Mutant("bias_correction", _ADAM, "(lr / (1 - b1**t))", "lr"),
        ),
    ),
)

BY_NAME = {exercise.name: exercise for exercise in EXERCISES}
SETS = {
    name: tuple(e.name for e in EXERCISES if e.set == name)
    for name in ("engine", "ops", "layers", "optim")
}


def choose(text: str) -> tuple[Exercise, ...]:
    """The exercises named by ``text``: a set (``ops``), ``all``, or a comma list of sets and
    exercises (``engine,max,softmax``); in dependency order (the catalog's). An unknown name
    is a ValueError naming it and what is known."""
    wanted: set[str] = set()
    for word in (w.strip() for w in text.split(",")):
        if word == "all":
            wanted |= set(BY_NAME)
        elif word in SETS:
            wanted |= set(SETS[word])
        elif word in BY_NAME:
            wanted.add(word)
        else:
            raise ValueError(
                f"exercises: unknown set or exercise {word!r}; sets: {', '.join(SETS)}, all; "
                f"exercises: {', '.join(BY_NAME)}"
            )
    return tuple(e for e in EXERCISES if e.name in wanted)

"""One notebook per exercise (nbformat): what to write, the math (the same comments the blank
holds, from the project's source), an example to run, and a check against finite differences
(`tinygrad_lab.gradcheck`) or a descent to watch. It runs on the student's copy, from its
``notebooks/`` folder.
"""

from __future__ import annotations

from tinygrad_lab.lab.exercises import cut
from tinygrad_lab.lab.exercises.catalog import Exercise

SETUP = """import sys

sys.path.insert(0, "..")  # this copy's tinygrad_lab, which runs your exercises/ files
import numpy as np

import tinygrad_lab as tl

rng = np.random.default_rng(0)


def rand(*shape, positive=False):
    values = rng.uniform(0.5, 2.0, shape) if positive else rng.standard_normal(shape)
    return tl.Tensor(values, requires_grad=True)"""

# For an op: the inputs, and the function whose gradients gradcheck compares.
OPS = {
    "add": ("x, y = rand(2, 3), rand(3)", "lambda x, y: x + y"),
    "mul": ("x, y = rand(2, 3), rand(2, 1)", "lambda x, y: x * y"),
    "div": ("x, y = rand(2, 3), rand(3, positive=True)", "lambda x, y: x / y"),
    "pow": ("x = rand(2, 3, positive=True)", "lambda x: x**3 + x**0.5"),
    "exp": ("x = rand(2, 3)", "lambda x: x.exp()"),
    "log": ("x = rand(2, 3, positive=True)", "lambda x: x.log()"),
    "relu": ("x = rand(2, 3)", "lambda x: x.relu()"),
    "sigmoid": ("x = rand(2, 3)", "lambda x: x.sigmoid()"),
    "tanh": ("x = rand(2, 3)", "lambda x: x.tanh()"),
    "matmul": ("x, y = rand(2, 3), rand(3, 4)", "lambda x, y: x @ y"),
    "sum": ("x = rand(2, 3, 4)", "lambda x: x.sum(axis=1)"),
    "mean": ("x = rand(2, 3, 4)", "lambda x: x.mean(axis=(0, 2))"),
    "max": ("x = rand(2, 3)", "lambda x: x.amax(axis=1)"),
    "softmax": ("x = rand(2, 3)", "lambda x: x.softmax(axis=-1)"),
    "cross_entropy": (
        "x = rand(4, 3)\ntarget = tl.Tensor([0.0, 2.0, 1.0, 2.0])",
        "lambda x: tl.nn.functional.cross_entropy(x, target)",
    ),
    "conv2d": (
        "x, w, b = rand(2, 2, 5, 5), rand(3, 2, 3, 3), rand(3)",
        "lambda x, w, b: tl.nn.functional.conv2d(x, w, b, stride=2, padding=1)",
    ),
    "max_pool": ("x = rand(1, 2, 4, 4)", "lambda x: tl.nn.functional.max_pool2d(x, 2)"),
    "linear": ("x, w, b = rand(4, 3), rand(3, 2), rand(2)", "lambda x, w, b: x @ w + b"),
    "batch_norm": (
        "x, weight, bias = rand(4, 3), rand(3, positive=True), rand(3)",
        "lambda x, weight, bias: tl.nn.functional.batch_norm(x, None, None, weight, bias, "
        "training=True)",
    ),
}

CHECK = """{inputs}
f = {function}
print(f({names}))
ok = tl.gradcheck(f, [{names}])  # finite differences against your backward
print("gradcheck:", ok)
assert ok"""

ENGINE = """a, b = rand(2, 3), rand(3)
h = a * b  # used twice, along paths of different lengths
loss = (h.exp() * h + a).sum()
loss.backward()
print("a.grad =", a.grad)
print("b.grad =", b.grad)
# the same graph, checked against finite differences (gradcheck runs your engine)
ok = tl.gradcheck(lambda a, b: ((a * b).exp() * (a * b) + a).sum(), [a, b])
print("gradcheck:", ok)
assert ok"""

COMMIT = """a = rand(3)
(a * a).sum().backward()
first = a.grad.copy()
(a * a).sum().backward()  # a second backward adds to .grad
print(first, a.grad)
assert np.allclose(a.grad, 2 * first)"""

OPTIM = """p = tl.nn.Parameter(np.array([3.0, -2.0]))
opt = tl.optim.{cls}([p], lr=0.1{extra})
for step in range(50):
    opt.zero_grad()
    loss = (p * p).sum()  # smallest at p = 0
    loss.backward()
    opt.step()
print("p after 50 steps:", p.data)
assert np.abs(p.data).max() < 1.0, "the loss should go down"
"""

LAYER = """from exercises.custom_layer import INPUT_SHAPE, MyLayer

layer = MyLayer(rng)
x = tl.Tensor(rng.standard_normal(INPUT_SHAPE), requires_grad=True)
print(layer(x))
ok = tl.gradcheck(lambda x, *params: layer(x), [x, *layer.parameters()])
print("gradcheck:", ok)
assert ok"""


def example(exercise: Exercise) -> str:
    name = exercise.name
    if name in OPS:
        inputs, function = OPS[name]
        names = function.split(":")[0].replace("lambda", "").strip()
        return CHECK.format(inputs=inputs, function=function, names=names)
    if name == "unbroadcast":
        return ENGINE.replace("rand(3)", "rand(3)  # broadcast against (2, 3)")
    if name == "commit":
        return COMMIT
    if name in ("sgd", "adam"):
        extra = ", momentum=0.9" if name == "sgd" else ""
        return OPTIM.format(cls="SGD" if name == "sgd" else "Adam", extra=extra)
    if name == "custom_layer":
        return LAYER
    return ENGINE


def notebook(exercise: Exercise) -> object:
    import nbformat.v4 as nbf

    wanted = [t.split(":")[1] for t in exercise.targets] or ["MyOp", "MyLayer"]
    lines = [
        f"# Exercise `{exercise.name}`: {exercise.title}",
        "",
        f"Write {', '.join(f'`{w}`' for w in wanted)} in `exercises/{exercise.name}.py` "
        f"({exercise.points} points). Restart the kernel after each change to your file.",
    ]
    for target in exercise.targets:
        lines += ["", f"**`{target.split(':')[1]}`**, the math from the project's source:", ""]
        lines += [f"- {comment}" for comment in cut.math_comments(cut.locate(target))] or [
            "- see its docstring"
        ]
    cells = [
        nbf.new_markdown_cell("\n".join(lines)),
        nbf.new_code_cell(SETUP),
        nbf.new_markdown_cell("Run it, and check it (an `AssertionError` means: not yet):"),
        nbf.new_code_cell(example(exercise)),
    ]
    return nbf.new_notebook(cells=cells)

"""`tl.func`: grad, grad_and_value, vjp, jvp, jacrev, jacfwd, hessian and hvp, against closed
forms computed here in NumPy and against central finite differences, over drawn shapes and
values; nesting; a small network's Hessian against an independent central-difference Hessian;
the errors of bad calls."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import tinygrad_lab as tl
from tinygrad_lab import func
from tinygrad_lab.nn import functional as F

EPS = 1e-6
sizes = st.integers(1, 4)
# Values in [-2, 2], a tiny one (below 1e-30) drawn as 0: a product of three such (8·x²·w)
# would otherwise be subnormal, where float64 keeps a few bits, not the relative precision the
# comparisons are about (hypothesis found 8·x²·w at 7e-323).
VALUES = st.floats(-2, 2).map(lambda v: v if abs(v) > 1e-30 else 0.0)


def vectors(n):
    return arrays(np.float64, n, elements=VALUES)


@st.composite
def vector_and_weights(draw):
    n = draw(sizes)
    return draw(vectors(n)), draw(vectors(n))


# f(x; a) = sum(a·tanh(x) + x³), its gradient and Hessian in closed form
def f(x, a):
    return (x.tanh() * a + x * x * x).sum()


def f_grad(x, a):
    return a * (1 - np.tanh(x) ** 2) + 3 * x**2


def f_hessian(x, a):
    t = np.tanh(x)
    return np.diag(-2 * a * t * (1 - t**2) + 6 * x)


# g(x; W) = W @ tanh(x): m outputs, n inputs; its Jacobian W·diag(1 - tanh²x)
def g(x, w):
    return w @ x.tanh()


def g_jacobian(x, w):
    return w * (1 - np.tanh(x) ** 2)


@st.composite
def matrix_and_vector(draw):
    m, n = draw(sizes), draw(sizes)
    return draw(arrays(np.float64, (m, n), elements=VALUES)), draw(vectors(n))


def numeric_jacobian(fn, x):
    """Central differences of ``fn`` (arrays to arrays), column by column."""
    columns = []
    for i in range(x.size):
        step = np.zeros_like(x)
        step.flat[i] = EPS
        columns.append(((fn(x + step) - fn(x - step)) / (2 * EPS)).reshape(-1))
    return np.stack(columns, axis=-1).reshape(*np.shape(fn(x)), *x.shape)


# ------------------------------------------------------------------------------------ grad
@given(vector_and_weights())
def test_grad_is_the_closed_form_gradient(xa):
    x, a = xa
    gradient = func.grad(f)(tl.Tensor(x), tl.Tensor(a))
    np.testing.assert_allclose(gradient.data, f_grad(x, a), rtol=1e-10, atol=1e-12)
    assert not gradient.requires_grad  # nothing else required grad: an ordinary gradient


@given(vector_and_weights())
def test_grad_agrees_with_finite_differences(xa):
    x, a = xa
    numeric = numeric_jacobian(lambda v: np.sum(a * np.tanh(v) + v**3), x)
    gradient = func.grad(f)(tl.Tensor(x), tl.Tensor(a))
    np.testing.assert_allclose(gradient.data, numeric, rtol=1e-5, atol=1e-6)


@given(vector_and_weights())
def test_grad_with_several_argnums_and_grad_and_value(xa):
    x, y = xa
    h = lambda x, y: (x * y * y).sum()  # noqa: E731
    (gx, gy), value = func.grad_and_value(h, argnums=(0, 1))(tl.Tensor(x), tl.Tensor(y))
    np.testing.assert_allclose(gx.data, y**2)
    np.testing.assert_allclose(gy.data, 2 * x * y)
    np.testing.assert_allclose(value.data, np.sum(x * y * y))
    only_y = func.grad(h, argnums=-1)(tl.Tensor(x), tl.Tensor(y))
    np.testing.assert_allclose(only_y.data, 2 * x * y)


@given(vector_and_weights())
def test_grad_of_grad_is_the_second_derivative(xa):
    x, a = xa
    # f is a sum of functions of one entry each: d/dx sum(∇f) is the Hessian's diagonal
    second = func.grad(lambda x: func.grad(f)(x, tl.Tensor(a)).sum())(tl.Tensor(x))
    np.testing.assert_allclose(second.data, np.diag(f_hessian(x, a)), rtol=1e-10, atol=1e-10)


@given(vectors(st.integers(1, 4)))
def test_nested_transforms_keep_their_variables_apart(x):
    # d/dy (x·y) = x, even where the inner function is called at y = x (JAX's "perturbation
    # confusion"): summed, d/dx sum(x) is 1; differentiating x·x instead would give 2x
    inner = lambda x: func.grad(lambda y: (x * y).sum())(x)  # noqa: E731
    np.testing.assert_allclose(func.grad(lambda x: inner(x).sum())(tl.Tensor(x)).data, 1.0)
    # a closed-over outer variable, the inner function called elsewhere
    c = tl.Tensor(np.full(x.shape, 0.5))
    closed = lambda x: func.grad(lambda y: (x * x * y).sum())(c).sum()  # noqa: E731
    np.testing.assert_allclose(func.grad(closed)(tl.Tensor(x)).data, 2 * x)


@given(vector_and_weights())
def test_grad_of_a_parameter_closure_stays_differentiable_in_the_parameter(xa):
    x, a = xa
    w = tl.Tensor(a, requires_grad=True)  # a parameter the function closes over
    gradient = func.grad(lambda x: (x * x * w).sum())(tl.Tensor(x))  # 2xw
    assert gradient.requires_grad
    (by_w,) = tl.autograd.grad((gradient * gradient).sum(), w)  # d/dw sum(4x²w²) = 8x²w
    np.testing.assert_allclose(by_w.data, 8 * x**2 * a)


def test_transforms_work_inside_no_grad_and_keep_float32():
    x = tl.Tensor(np.array([0.5, -1.0], dtype=np.float32))
    with tl.no_grad():
        gradient = func.grad(lambda x: (x * x * x).sum())(x)
        hess = func.hessian(lambda x: (x * x * x).sum())(x)
    assert gradient.dtype == np.float32 and hess.dtype == np.float32
    np.testing.assert_allclose(gradient.data, [0.75, 3.0])
    np.testing.assert_allclose(hess.data, np.diag([3.0, -6.0]))


def test_an_input_the_function_ignores_gets_a_zero_gradient():
    x, y = tl.Tensor([1.0, 2.0]), tl.Tensor([3.0])
    gx, gy = func.grad(lambda x, y: (x * x).sum(), argnums=(0, 1))(x, y)
    np.testing.assert_allclose(gy.data, [0.0])
    np.testing.assert_allclose(func.grad(lambda x: tl.Tensor(1.0))(x).data, [0.0, 0.0])


# ------------------------------------------------------------------- vjp, jvp, Jacobians
@given(matrix_and_vector(), st.randoms(use_true_random=False))
def test_vjp_and_jvp_are_the_closed_form_products(wx, random):
    w, x = wx
    rng = np.random.default_rng(random.randint(0, 2**32))
    v, t = rng.standard_normal(w.shape[0]), rng.standard_normal(w.shape[1])
    jacobian = g_jacobian(x, w)
    out, vjp_fn = func.vjp(g, tl.Tensor(x), tl.Tensor(w))
    np.testing.assert_allclose(out.data, w @ np.tanh(x))
    vx, vw = vjp_fn(tl.Tensor(v))
    np.testing.assert_allclose(vx.data, v @ jacobian, atol=1e-12)
    np.testing.assert_allclose(vw.data, np.outer(v, np.tanh(x)), atol=1e-12)
    np.testing.assert_allclose(vjp_fn(tl.Tensor(2 * v))[0].data, 2 * v @ jacobian, atol=1e-12)
    out, jt = func.jvp(lambda x: g(x, tl.Tensor(w)), (tl.Tensor(x),), (tl.Tensor(t),))
    np.testing.assert_allclose(jt.data, jacobian @ t, atol=1e-12)
    assert not out.requires_grad and not jt.requires_grad
    numeric = (w @ np.tanh(x + EPS * t) - w @ np.tanh(x - EPS * t)) / (2 * EPS)
    np.testing.assert_allclose(jt.data, numeric, rtol=1e-5, atol=1e-6)


@given(matrix_and_vector())
def test_jacrev_and_jacfwd_give_the_closed_form_jacobian(wx):
    w, x = wx
    expected = g_jacobian(x, w)
    for jac in (func.jacrev, func.jacfwd):
        jacobian = jac(g)(tl.Tensor(x), tl.Tensor(w))
        assert jacobian.shape == (w.shape[0], x.size)
        np.testing.assert_allclose(jacobian.data, expected, atol=1e-12, err_msg=jac.__name__)
    numeric = numeric_jacobian(lambda v: w @ np.tanh(v), x)
    np.testing.assert_allclose(expected, numeric, rtol=1e-5, atol=1e-6)


@given(arrays(np.float64, st.tuples(sizes, sizes), elements=VALUES))
def test_jacobians_of_matrix_functions_have_shape_out_plus_in(x):
    # y = x·xᵀ (m×m) of x (m×n): shape (m, m, m, n)
    def square(x):
        return x @ x.T

    numeric = numeric_jacobian(lambda a: a @ a.T, x)
    for jac in (func.jacrev, func.jacfwd):
        jacobian = jac(square)(tl.Tensor(x))
        assert jacobian.shape == (x.shape[0], x.shape[0], *x.shape)
        np.testing.assert_allclose(jacobian.data, numeric, rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------------ hessian and hvp
@given(vector_and_weights(), st.randoms(use_true_random=False))
def test_hessian_and_hvp_are_the_closed_form_hessian(xa, random):
    x, a = xa
    v = np.random.default_rng(random.randint(0, 2**32)).standard_normal(x.shape)
    expected = f_hessian(x, a)
    hess = func.hessian(f)(tl.Tensor(x), tl.Tensor(a))
    np.testing.assert_allclose(hess.data, expected, rtol=1e-10, atol=1e-10)
    fwd_rev = func.jacfwd(func.jacrev(f))(tl.Tensor(x), tl.Tensor(a))  # torch.func's recipe
    np.testing.assert_allclose(fwd_rev.data, expected, rtol=1e-10, atol=1e-10)
    value, product = func.hvp(lambda x: f(x, tl.Tensor(a)), tl.Tensor(x), tl.Tensor(v))
    np.testing.assert_allclose(value.data, np.sum(a * np.tanh(x) + x**3))
    np.testing.assert_allclose(product.data, expected @ v, rtol=1e-10, atol=1e-10)
    _, (as_tuple,) = func.hvp(lambda x: f(x, tl.Tensor(a)), (tl.Tensor(x),), (tl.Tensor(v),))
    np.testing.assert_allclose(as_tuple.data, expected @ v, rtol=1e-10, atol=1e-10)


@given(vectors(st.integers(2, 4)))
def test_hessian_of_a_coupled_function_against_finite_differences_of_its_gradient(x):
    # f(x) = sum(x)² · sum(x³): every pair of entries interacts
    def coupled(x):
        return x.sum() * x.sum() * (x * x * x).sum()

    def gradient(v):
        s, c = np.sum(v), np.sum(v**3)
        return 2 * s * c + s**2 * 3 * v**2

    numeric = numeric_jacobian(gradient, x)
    hess = func.hessian(coupled)(tl.Tensor(x))
    np.testing.assert_allclose(hess.data, numeric, rtol=1e-5, atol=1e-5)


def central_hessian(loss, x, h=1e-4):
    """An independent Hessian: second central differences of ``loss`` (arrays to a float)."""
    hess = np.zeros((x.size, x.size))
    for i in range(x.size):
        for j in range(x.size):
            total = 0.0
            for si, sj in ((1, 1), (1, -1), (-1, 1), (-1, -1)):
                step = np.zeros(x.size)
                step[i] += si * h
                step[j] += sj * h
                total += si * sj * loss(x + step.reshape(x.shape))
            hess[i, j] = total / (4 * h * h)
    return hess.reshape(*x.shape, *x.shape)


@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.integers(0, 2**16))
def test_hessians_of_a_small_mlp_against_central_differences(n, d, hidden, seed):
    rng = np.random.default_rng(seed)
    first, second = tl.nn.Linear(d, hidden, rng=rng), tl.nn.Linear(hidden, 1, rng=rng)
    x, y = rng.standard_normal((n, d)), rng.standard_normal((n, 1))

    def loss(x, w1):  # the network's loss as a function of its input and first weight
        return F.mse_loss(second(F.linear(x, w1.T, first.bias).tanh()), tl.Tensor(y))

    def numpy_loss(x, w1):  # the same, written independently in NumPy
        h = np.tanh(x @ w1 + first.bias.data)
        return np.mean((h @ second.weight.data + second.bias.data - y) ** 2)

    w1 = first.weight.data.copy()
    by_weight = func.hessian(loss, argnums=1)(tl.Tensor(x), tl.Tensor(w1))
    np.testing.assert_allclose(
        by_weight.data, central_hessian(lambda w: numpy_loss(x, w), w1), rtol=1e-5, atol=1e-6
    )
    by_input = func.hessian(loss)(tl.Tensor(x), tl.Tensor(w1))
    np.testing.assert_allclose(
        by_input.data, central_hessian(lambda v: numpy_loss(v, w1), x), rtol=1e-5, atol=1e-6
    )
    # the network's parameters (first.bias, second's) require grad: the Hessian stays in
    # their graph, as torch.func's does, differentiable once more
    assert by_input.requires_grad


# ---------------------------------------------------------------------------- bad calls
def cube(x):
    return (x * x * x).sum()


x2 = tl.Tensor([1.0, 2.0])


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: func.grad(cube, argnums=1)(x2), IndexError, "argnums 1 for a function given 1"),
        (lambda: func.grad(cube, argnums=-2)(x2), IndexError, "argnums -2"),
        (lambda: func.grad(cube, argnums="0")(x2), TypeError, "argnums is '0'; expected an int"),
        (lambda: func.grad(cube, argnums=())(x2), TypeError, "non-empty tuple of ints"),
        (lambda: func.grad(cube, argnums=(0, 0))(x2), ValueError, "names an argument twice"),
        (lambda: func.jacrev(cube, argnums=(0,))(x2), TypeError, r"jacrev: argnums is \(0,\)"),
        (lambda: func.hessian(cube, argnums=2)(x2), IndexError, "hessian: argnums 2"),
        (lambda: func.grad(cube)([1.0, 2.0]), TypeError, "argument 0 is a list; expected a"),
        (lambda: func.grad(lambda x: x * x)(x2), ValueError, r"one-element Tensor, got shape \(2"),
        (lambda: func.hessian(lambda x: x * x)(x2), ValueError, "hessian: the function must"),
        (lambda: func.hvp(lambda x: x * x, x2, x2), ValueError, "hvp: the function must return"),
        (lambda: func.grad(lambda x: 3.0)(x2), TypeError, "must return a Tensor, got float"),
        (lambda: func.jacfwd(lambda x: 3.0)(x2), TypeError, "jacfwd: the function must return"),
        (
            lambda: func.jvp(cube, (x2,), (tl.Tensor([1.0]),)),
            ValueError,
            r"tangent 0 has shape \(1,\); expected primal 0's shape \(2,\)",
        ),
        (lambda: func.jvp(cube, (x2,), ()), TypeError, "tangents must be a non-empty tuple"),
        (lambda: func.jvp(cube, (x2, x2), (x2,)), ValueError, "1 tangents for 2 primals"),
        (lambda: func.jvp(cube, x2, x2), TypeError, "primals must be a non-empty tuple"),
        (lambda: func.vjp(cube), TypeError, "vjp: primals must be a non-empty tuple"),
        (lambda: func.hvp(cube, x2, tl.Tensor([1.0])), ValueError, "hvp: tangent 0 has shape"),
        (
            lambda: func.vjp(lambda x: x * x, x2)[1](tl.Tensor([1.0])),
            ValueError,
            r"output's shape \(2,\), got \(1,\)",
        ),
    ],
)
def test_bad_calls_name_what_was_wrong(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_autograd_grad_takes_an_array_grad_outputs_as_one_cotangent():
    x = tl.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    (g,) = tl.autograd.grad(x * x, x, np.array([1.0, 0.5, 2.0]))
    np.testing.assert_allclose(g.data, [2.0, 2.0, 12.0])

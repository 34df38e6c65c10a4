"""nn.RNN, LSTM, GRU and their cells against an independent implementation written here in plain
NumPy from PyTorch's documented equations (forward), against central finite differences (every
parameter's, the input's and the initial state's gradient), and against PyTorch's documented
parameter names, shapes and initialisation (written out here: torch is not a test dependency)."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_lab import Tensor, nn
from tinygrad_lab.gradcheck import gradcheck, gradgradcheck
from tinygrad_lab.ops.movement import cat

GATES = {"RNN": 1, "LSTM": 4, "GRU": 3}


# ----------------------------------------------------------------------------- the reference
def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


def numpy_cell(mode: str, p: dict, x: np.ndarray, h: np.ndarray, c: np.ndarray | None):
    """One step of PyTorch's documented equations, with the weights of one layer: ``p`` holds
    ``w_ih`` (G·H, I), ``w_hh`` (G·H, H), ``b_ih``, ``b_hh`` (zeros when there is no bias)."""
    gi = x @ p["w_ih"].T + p["b_ih"]
    gh = h @ p["w_hh"].T + p["b_hh"]
    if mode in ("RNN_TANH", "RNN_RELU"):
        z = gi + gh
        return (np.tanh(z) if mode == "RNN_TANH" else np.maximum(z, 0)), None
    if mode == "LSTM":
        i, f, g, o = np.split(gi + gh, 4, axis=-1)
        c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
        return _sigmoid(o) * np.tanh(c), c
    r_i, z_i, n_i = np.split(gi, 3, axis=-1)
    r_h, z_h, n_h = np.split(gh, 3, axis=-1)
    r, z = _sigmoid(r_i + r_h), _sigmoid(z_i + z_h)
    n = np.tanh(n_i + r * n_h)
    return (1 - z) * n + z * h, None


def layer_weights(state: dict, k: int, suffix: str | None = None) -> dict:
    """Layer ``k``'s weights from a state dict (PyTorch's names), zeros for absent biases."""
    end = f"_l{k}" if suffix is None else suffix
    w_ih, w_hh = state["weight_ih" + end], state["weight_hh" + end]
    zeros = np.zeros(w_ih.shape[0])
    return {
        "w_ih": w_ih,
        "w_hh": w_hh,
        "b_ih": state.get("bias_ih" + end, zeros),
        "b_hh": state.get("bias_hh" + end, zeros),
    }


def numpy_layer(mode, state, x, h0, c0, num_layers, batch_first, masks=()):
    """The whole layer: x (L, N, I) (batch_first: (N, L, I)); h0, c0 (layers, N, H).
    ``masks[k][t]`` multiplies layer k's output at step t before layer k + 1 (dropout)."""
    seq = np.swapaxes(x, 0, 1) if batch_first else x
    h_n, c_n = [], []
    for k in range(num_layers):
        p = layer_weights(state, k)
        h, c = h0[k], (None if c0 is None else c0[k])
        outputs = []
        for t in range(len(seq)):
            h, c = numpy_cell(mode, p, seq[t], h, c)
            outputs.append(h)
        h_n.append(h)
        c_n.append(c)
        seq = np.stack(outputs)
        if k < len(masks):
            seq = seq * masks[k]
    out = np.swapaxes(seq, 0, 1) if batch_first else seq
    return out, np.stack(h_n), (np.stack(c_n) if mode == "LSTM" else None)


def build(mode: str, input_size: int, hidden: int, **kwargs) -> nn.Module:
    if mode.startswith("RNN"):
        nonlinearity = "tanh" if mode == "RNN_TANH" else "relu"
        return nn.RNN(input_size, hidden, nonlinearity=nonlinearity, **kwargs)
    return getattr(nn, mode)(input_size, hidden, **kwargs)


def cell_kind(mode: str) -> tuple[str, dict]:
    """The cell class's name for a mode, and its options."""
    if mode.startswith("RNN"):
        return "RNNCell", {"nonlinearity": "tanh" if mode == "RNN_TANH" else "relu"}
    return f"{mode}Cell", {}


MODES = st.sampled_from(["RNN_TANH", "RNN_RELU", "LSTM", "GRU"])


@st.composite
def configurations(draw, max_size: int = 4, max_length: int = 4):
    return dict(
        mode=draw(MODES),
        input_size=draw(st.integers(1, max_size)),
        hidden=draw(st.integers(1, max_size)),
        length=draw(st.integers(1, max_length)),
        batch=draw(st.integers(1, 3)),
        num_layers=draw(st.integers(1, 3)),
        batch_first=draw(st.booleans()),
        bias=draw(st.booleans()),
        with_state=draw(st.booleans()),
        seed=draw(st.integers(0, 2**16)),
    )


def _setup(cfg: dict):
    rng = np.random.default_rng(cfg["seed"])
    model = build(
        cfg["mode"],
        cfg["input_size"],
        cfg["hidden"],
        num_layers=cfg["num_layers"],
        bias=cfg["bias"],
        batch_first=cfg["batch_first"],
        rng=rng,
    )
    n, length = cfg["batch"], cfg["length"]
    shape = (n, length) if cfg["batch_first"] else (length, n)
    x = rng.uniform(-1.5, 1.5, (*shape, cfg["input_size"]))
    state_shape = (cfg["num_layers"], n, cfg["hidden"])
    h0 = rng.uniform(-1, 1, state_shape) if cfg["with_state"] else None
    c0 = rng.uniform(-1, 1, state_shape) if cfg["with_state"] and cfg["mode"] == "LSTM" else None
    return model, x, h0, c0


def _call(model, mode, x, h0, c0):
    """(output, h_n, c_n or None) of our layer."""
    if mode == "LSTM":
        output, (h_n, c_n) = model(x, None if h0 is None else (h0, c0))
        return output, h_n, c_n
    output, h_n = model(x, h0)
    return output, h_n, None


# ----------------------------------------------------------------------------- forward
@settings(max_examples=60, deadline=None)
@given(cfg=configurations())
def test_layers_forward_match_numpy_reference(cfg) -> None:
    model, x, h0, c0 = _setup(cfg)
    output, h_n, c_n = _call(model, cfg["mode"], x, h0, c0)
    zeros = np.zeros((cfg["num_layers"], cfg["batch"], cfg["hidden"]))
    expected = numpy_layer(
        cfg["mode"],
        model.state_dict(),
        x,
        zeros if h0 is None else h0,
        (zeros if c0 is None else c0) if cfg["mode"] == "LSTM" else None,
        cfg["num_layers"],
        cfg["batch_first"],
    )
    np.testing.assert_allclose(output.data, expected[0], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(h_n.data, expected[1], rtol=1e-12, atol=1e-12)
    if cfg["mode"] == "LSTM":
        np.testing.assert_allclose(c_n.data, expected[2], rtol=1e-12, atol=1e-12)
    length, n = cfg["length"], cfg["batch"]
    layout = (n, length) if cfg["batch_first"] else (length, n)
    assert output.shape == (*layout, cfg["hidden"])


@settings(max_examples=30, deadline=None)
@given(cfg=configurations())
def test_unbatched_input_is_a_batch_of_one(cfg) -> None:
    """A 2-D input (L, I) and state (layers, H), as PyTorch allows: batch_first is ignored."""
    model, x, h0, c0 = _setup({**cfg, "batch": 1})
    single = x[0] if cfg["batch_first"] else x[:, 0]
    unbatched = [None if s is None else s[:, 0] for s in (h0, c0)]
    output, h_n, c_n = _call(model, cfg["mode"], single, *unbatched)
    batched = _call(model, cfg["mode"], x, h0, c0)
    assert output.shape == (cfg["length"], cfg["hidden"])
    assert h_n.shape == (cfg["num_layers"], cfg["hidden"])
    step_axis = 0 if cfg["batch_first"] else 1
    np.testing.assert_array_equal(output.data, np.take(batched[0].data, 0, axis=step_axis))
    np.testing.assert_array_equal(h_n.data, batched[1].data[:, 0])
    if c_n is not None:
        np.testing.assert_array_equal(c_n.data, batched[2].data[:, 0])


@settings(max_examples=40, deadline=None)
@given(
    mode=MODES,
    input_size=st.integers(1, 4),
    hidden=st.integers(1, 4),
    batch=st.integers(0, 3),
    bias=st.booleans(),
    with_state=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_cells_match_numpy_reference(mode, input_size, hidden, batch, bias, with_state, seed):
    """batch 0 stands for an unbatched input (input_size,)."""
    rng = np.random.default_rng(seed)
    kind = "RNNCell" if mode.startswith("RNN") else f"{mode}Cell"
    options = (
        {"nonlinearity": "tanh" if mode == "RNN_TANH" else "relu"} if kind == "RNNCell" else {}
    )
    cell = getattr(nn, kind)(input_size, hidden, bias, rng=rng, **options)
    shape = (batch,) if batch else ()
    x = rng.uniform(-1.5, 1.5, (*shape, input_size))
    h = rng.uniform(-1, 1, (*shape, hidden)) if with_state else None
    c = rng.uniform(-1, 1, (*shape, hidden)) if with_state else None
    p = layer_weights(cell.state_dict(), 0, suffix="")
    zeros = np.zeros((*shape, hidden))
    expected_h, expected_c = numpy_cell(
        mode, p, x, zeros if h is None else h, zeros if c is None else c
    )
    if mode == "LSTM":
        got_h, got_c = cell(x, None if h is None else (h, c))
        np.testing.assert_allclose(got_c.data, expected_c, rtol=1e-12, atol=1e-12)
    else:
        got_h = cell(x, h)
    assert got_h.shape == (*shape, hidden)
    np.testing.assert_allclose(got_h.data, expected_h, rtol=1e-12, atol=1e-12)


# ----------------------------------------------------------------------------- gradients
@settings(max_examples=25, deadline=None)
@given(cfg=configurations(max_size=3, max_length=3))
def test_layers_gradients_match_finite_differences(cfg) -> None:
    """Every parameter's, the input's and the initial states' gradient, of the output sequence
    and the final states together (backpropagation through time)."""
    model, x, h0, c0 = _setup(cfg)  # (ReLU: a pre-activation within eps of 0 has probability ~0)
    inputs = [Tensor(x, requires_grad=True)]
    inputs += [Tensor(s, requires_grad=True) for s in (h0, c0) if s is not None]
    params = list(model.parameters())

    def everything(x, *rest):
        states = rest[: len(inputs) - 1]
        h, c = (list(states) + [None, None])[:2]
        output, h_n, c_n = _call(model, cfg["mode"], x, h, c)
        parts = [output.reshape(-1), h_n.reshape(-1)]
        return cat(parts + ([] if c_n is None else [c_n.reshape(-1)]))

    assert gradcheck(everything, [*inputs, *params], atol=1e-6, rtol=1e-4)


@settings(max_examples=25, deadline=None)
@given(
    mode=MODES,
    input_size=st.integers(1, 3),
    hidden=st.integers(1, 3),
    batch=st.integers(0, 2),
    seed=st.integers(0, 2**16),
)
def test_cells_gradients_match_finite_differences(mode, input_size, hidden, batch, seed) -> None:
    rng = np.random.default_rng(seed)
    kind = "RNNCell" if mode.startswith("RNN") else f"{mode}Cell"
    options = (
        {"nonlinearity": "tanh" if mode == "RNN_TANH" else "relu"} if kind == "RNNCell" else {}
    )
    cell = getattr(nn, kind)(input_size, hidden, rng=rng, **options)
    shape = (batch,) if batch else ()
    x = Tensor(rng.uniform(-1.5, 1.5, (*shape, input_size)), requires_grad=True)
    h = Tensor(rng.uniform(-1, 1, (*shape, hidden)), requires_grad=True)
    c = Tensor(rng.uniform(-1, 1, (*shape, hidden)), requires_grad=True)

    def step(x, h, c, *params):
        if mode == "LSTM":
            new_h, new_c = cell(x, (h, c))
            return cat([new_h.reshape(-1), new_c.reshape(-1)])
        return cell(x, h) + 0 * c.sum()

    assert gradcheck(step, [x, h, c, *cell.parameters()], atol=1e-6, rtol=1e-4)


@pytest.mark.parametrize("mode", ["RNN_TANH", "LSTM", "GRU"])
def test_layers_are_twice_differentiable(mode) -> None:
    """Built from the engine's ops, the layers have second derivatives (gradgradcheck)."""
    rng = np.random.default_rng(3)
    model = build(mode, 2, 2, num_layers=2, rng=rng)
    x = Tensor(rng.uniform(-1, 1, (3, 2, 2)), requires_grad=True)
    weight = model.weight_hh_l0
    assert gradgradcheck(lambda x, w: model(x)[0], [x, weight], atol=1e-5, rtol=1e-3)


# ----------------------------------------------------------------------------- parameters
def pytorch_names_and_shapes(mode: str, input_size: int, hidden: int, layers: int, bias: bool):
    """PyTorch's documented parameters of nn.RNN/LSTM/GRU: per layer k, weight_ih_l{k}
    (G·H, I for k = 0 else H), weight_hh_l{k} (G·H, H), bias_ih_l{k}, bias_hh_l{k} (G·H)."""
    rows = GATES[mode] * hidden
    out = []
    for k in range(layers):
        out += [(f"weight_ih_l{k}", (rows, input_size if k == 0 else hidden))]
        out += [(f"weight_hh_l{k}", (rows, hidden))]
        if bias:
            out += [(f"bias_ih_l{k}", (rows,)), (f"bias_hh_l{k}", (rows,))]
    return out


@settings(max_examples=30, deadline=None)
@given(
    mode=st.sampled_from(["RNN", "LSTM", "GRU"]),
    input_size=st.integers(1, 6),
    hidden=st.integers(1, 6),
    layers=st.integers(1, 4),
    bias=st.booleans(),
)
def test_parameter_names_and_shapes_are_pytorchs(mode, input_size, hidden, layers, bias) -> None:
    model = getattr(nn, mode)(input_size, hidden, layers, bias=bias) if mode != "RNN" else None
    if mode == "RNN":  # RNN's fourth positional argument is nonlinearity, as in PyTorch
        model = nn.RNN(input_size, hidden, layers, "tanh", bias)
    got = [(name, p.shape) for name, p in model.named_parameters()]
    assert got == pytorch_names_and_shapes(mode, input_size, hidden, layers, bias)
    assert list(model.state_dict()) == [name for name, _ in got]


@pytest.mark.parametrize("kind, gates", [("RNNCell", 1), ("LSTMCell", 4), ("GRUCell", 3)])
def test_cell_parameter_names_and_shapes_are_pytorchs(kind, gates) -> None:
    cell = getattr(nn, kind)(5, 3)
    expected = [("weight_ih", (3 * gates, 5)), ("weight_hh", (3 * gates, 3))]
    expected += [("bias_ih", (3 * gates,)), ("bias_hh", (3 * gates,))]
    assert [(n, p.shape) for n, p in cell.named_parameters()] == expected
    assert [n for n, _ in getattr(nn, kind)(5, 3, bias=False).named_parameters()] == [
        "weight_ih",
        "weight_hh",
    ]


@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell"])
def test_initialisation_is_uniform_1_over_sqrt_hidden_in_parameter_order(mode) -> None:
    """U(-1/√H, 1/√H) for every parameter, drawn one after another from the given generator
    in registration order (PyTorch's reset_parameters), so a seed reproduces the weights."""
    hidden = 7
    args = (3, hidden, 2) if not mode.endswith("Cell") else (3, hidden)
    model = getattr(nn, mode)(*args, rng=np.random.default_rng(5))
    rng = np.random.default_rng(5)
    bound = 1 / np.sqrt(hidden)
    for name, param in model.named_parameters():
        np.testing.assert_array_equal(param.data, rng.uniform(-bound, bound, param.shape), name)
    assert all(np.abs(p.data).max() <= bound for p in model.parameters())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_option_gives_parameters_and_outputs_of_that_dtype(dtype) -> None:
    model = nn.LSTM(3, 4, dtype=dtype)
    assert {p.dtype for p in model.parameters()} == {np.dtype(dtype)}
    output, (h_n, c_n) = model(np.zeros((2, 1, 3), dtype))
    assert output.dtype == h_n.dtype == c_n.dtype == dtype


@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
def test_state_dict_round_trip_gives_the_same_layer(mode) -> None:
    source = getattr(nn, mode)(3, 4, 2, rng=1)
    target = getattr(nn, mode)(3, 4, 2, rng=2)
    x = np.random.default_rng(0).standard_normal((5, 2, 3))
    assert not np.array_equal(source(x)[0].data, target(x)[0].data)
    target.load_state_dict(source.state_dict())
    np.testing.assert_array_equal(source(x)[0].data, target(x)[0].data)
    state = source.state_dict()  # a copy: changing it changes nothing in the layer
    state["weight_hh_l0"] += 1
    assert not np.array_equal(state["weight_hh_l0"], source.weight_hh_l0.data)


def test_state_dict_of_another_shape_is_refused_naming_the_key() -> None:
    wider = nn.LSTM(3, 5).state_dict()
    model = nn.LSTM(3, 4)
    before = copy.deepcopy(model.state_dict())
    with pytest.raises(ValueError, match="weight_ih_l0 has shape"):
        model.load_state_dict(wider)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


# ----------------------------------------------------------------------------- dropout
@pytest.mark.parametrize("mode", ["RNN_TANH", "LSTM", "GRU"])
def test_dropout_between_layers_draws_masks_from_the_layers_generator(mode) -> None:
    """In training, each layer's output but the last's is multiplied by a mask drawn from the
    layer's generator (rng.random per step, as `Dropout` draws it); in eval mode, none."""
    p, layers, length, batch, hidden = 0.4, 3, 4, 2, 3
    model = build(mode, 2, hidden, num_layers=layers, dropout=p, rng=np.random.default_rng(9))
    x = np.random.default_rng(1).standard_normal((length, batch, 2))
    generator = copy.deepcopy(model.rng)
    output = _call(model, "LSTM" if mode == "LSTM" else mode, x, None, None)[0]
    masks = [
        np.stack([(generator.random((batch, hidden)) >= p) / (1 - p) for _ in range(length)])
        for _ in range(layers - 1)
    ]
    zeros = np.zeros((layers, batch, hidden))
    c0 = zeros if mode == "LSTM" else None
    expected = numpy_layer(mode, model.state_dict(), x, zeros, c0, layers, False, masks)[0]
    np.testing.assert_allclose(output.data, expected, rtol=1e-12, atol=1e-12)
    model.eval()
    plain = numpy_layer(mode, model.state_dict(), x, zeros, c0, layers, False)[0]
    np.testing.assert_allclose(model(x)[0].data, plain, rtol=1e-12, atol=1e-12)


def test_dropout_with_one_layer_warns_as_pytorch() -> None:
    with pytest.warns(UserWarning, match="num_layers=1"):
        nn.GRU(2, 3, dropout=0.5)


# ----------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    "make, call, error, words",
    [
        (
            lambda: nn.LSTM(3, 4),
            lambda m: m(np.zeros((5, 2, 2))),
            ValueError,
            ["LSTM(3 → 4)", "input", "(L, N, 3)", "(5, 2, 2)"],
        ),
        (
            lambda: nn.GRU(3, 4, batch_first=True),
            lambda m: m(np.zeros((5, 2, 3, 1))),
            ValueError,
            ["GRU(3 → 4)", "(N, L, 3)", "(5, 2, 3, 1)"],
        ),
        (
            lambda: nn.RNN(3, 4, 2),
            lambda m: m(np.zeros((5, 2, 3)), np.zeros((1, 2, 4))),
            ValueError,
            ["RNN(3 → 4)", "h0", "(2, 2, 4)", "(1, 2, 4)"],
        ),
        (
            lambda: nn.LSTM(3, 4),
            lambda m: m(np.zeros((5, 2, 3)), (np.zeros((1, 2, 4)), np.zeros((1, 3, 4)))),
            ValueError,
            ["LSTM(3 → 4)", "c0", "(1, 2, 4)", "(1, 3, 4)"],
        ),
        (
            lambda: nn.LSTM(3, 4),
            lambda m: m(np.zeros((5, 2, 3)), np.zeros((1, 2, 4))),
            TypeError,
            ["LSTM(3 → 4)", "hx", "(h, c)"],
        ),
        (
            lambda: nn.RNN(3, 4),
            lambda m: m(np.zeros((0, 2, 3))),
            ValueError,
            ["RNN(3 → 4)", "length >= 1"],
        ),
        (
            lambda: nn.GRUCell(3, 4),
            lambda m: m(np.zeros((2, 4))),
            ValueError,
            ["GRUCell(3 → 4)", "(N, 3)", "(2, 4)"],
        ),
        (
            lambda: nn.LSTMCell(3, 4),
            lambda m: m(np.zeros((2, 3)), (np.zeros((2, 4)), np.zeros((3, 4)))),
            ValueError,
            ["LSTMCell(3 → 4)", "cx", "(2, 4)", "(3, 4)"],
        ),
        (
            lambda: nn.RNNCell(3, 4),
            lambda m: m(np.zeros(3), np.zeros((1, 4))),
            ValueError,
            ["RNNCell(3 → 4)", "hx", "(4,)", "(1, 4)"],
        ),
    ],
)
def test_bad_input_is_an_error_naming_layer_argument_expected_and_given(
    make, call, error, words
) -> None:
    model = make()
    with pytest.raises(error) as caught:
        call(model)
    for word in words:
        assert word in str(caught.value), (word, str(caught.value))


def test_a_refused_call_draws_no_dropout_mask() -> None:
    """Checks come before anything runs: the generator is where it was."""
    model = nn.LSTM(3, 4, 2, dropout=0.5, rng=0)
    state = copy.deepcopy(model.rng.bit_generator.state)
    with pytest.raises(ValueError, match="h0"):
        model(np.zeros((5, 2, 3)), (np.zeros((1, 2, 4)), np.zeros((2, 2, 4))))
    assert model.rng.bit_generator.state == state


@pytest.mark.parametrize(
    "make, error, words",
    [
        (lambda: nn.RNN(3, 4, nonlinearity="sigmoid"), ValueError, ["RNN", "'tanh' or 'relu'"]),
        (lambda: nn.RNNCell(3, 4, nonlinearity="gelu"), ValueError, ["RNNCell", "'gelu'"]),
        (lambda: nn.LSTM(0, 4), ValueError, ["LSTM", "input_size", ">= 1", "0"]),
        (lambda: nn.GRU(3, 2.5), ValueError, ["GRU", "hidden_size", "2.5"]),
        (lambda: nn.RNN(3, 4, num_layers=0), ValueError, ["RNN", "num_layers", "0"]),
        (lambda: nn.LSTM(3, 4, dropout=1.5), ValueError, ["LSTM", "dropout", "1.5"]),
        (lambda: nn.GRU(3, 4, bias="no"), TypeError, ["GRU", "bias", "'no'"]),
        (lambda: nn.LSTM(3, 4, bidirectional=True), NotImplementedError, ["bidirectional"]),
        (lambda: nn.LSTM(3, 4, proj_size=2), NotImplementedError, ["proj_size"]),
    ],
)
def test_bad_arguments_are_errors_naming_layer_and_argument(make, error, words) -> None:
    with pytest.raises(error) as caught:
        make()
    for word in words:
        assert word in str(caught.value), (word, str(caught.value))


# ----------------------------------------------------------------------------- BPTT
def test_truncated_bptt_by_detach_stops_the_gradient_at_the_chunk() -> None:
    """The second chunk's loss reaches the weights through the second chunk only when the
    state is detached: the gradient equals that of the chunk run from that state as a leaf."""
    rng = np.random.default_rng(0)
    model = nn.LSTM(2, 3, rng=1)
    x = rng.standard_normal((6, 2, 2))
    _, (h, c) = model(x[:3])
    out, _ = model(x[3:], (h.detach(), c.detach()))
    out.sum().backward()
    truncated = model.weight_hh_l0.grad.copy()
    model.zero_grad()
    out, _ = model(x[3:], (Tensor(h.data), Tensor(c.data)))
    out.sum().backward()
    np.testing.assert_array_equal(truncated, model.weight_hh_l0.grad)
    model.zero_grad()
    _, (h, c) = model(x[:3])
    out, _ = model(x[3:], (h, c))  # not detached: the gradient goes back through the first chunk
    out.sum().backward()
    assert not np.allclose(truncated, model.weight_hh_l0.grad)


def test_unrolled_graph_has_one_cell_graph_per_time_step() -> None:
    """The layer is its cell repeated: the number of ops grows by the same count per step."""

    def op_count(length: int) -> int:
        out, _ = nn.GRU(2, 3, rng=0)(np.zeros((length, 1, 2)))
        seen, stack = set(), [out]
        while stack:
            t = stack.pop()
            if t._ctx is not None and id(t._ctx) not in seen:
                seen.add(id(t._ctx))
                stack.extend(t._ctx.parents)
        return len(seen)

    counts = [op_count(n) for n in (1, 2, 3, 4)]
    steps = {b - a for a, b in zip(counts, counts[1:], strict=False)}
    assert len(steps) == 1 and steps.pop() > 5


def test_repr_names_sizes_and_options() -> None:
    assert "LSTM(3 → 4, num_layers=2, batch_first=True)" in repr(nn.LSTM(3, 4, 2, batch_first=True))
    assert "nonlinearity='relu'" in repr(nn.RNN(3, 4, nonlinearity="relu"))
    assert repr(nn.GRUCell(3, 4, bias=False)).startswith("GRUCell(3 → 4, bias=False)")

"""Modules as PyTorch users call and hook them: keyword arguments (``model(x=...)``), forward
hooks with ``with_kwargs`` and ``prepend``, full backward hooks on modules that return a tuple
(grad_output one entry per output) or a dict (an error, not a hook that never fires), and
state_dict names for a module used twice, a tied weight and a Sequential slice."""

from collections import OrderedDict

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_lab import Tensor, autograd, nn, no_grad

seeds = st.integers(0, 2**32 - 1)


class Masked(nn.Module):
    """forward(self, x, mask=None), the signature of an attention layer."""

    def __init__(self, rng: np.random.Generator) -> None:
        super().__init__()
        self.linear = nn.Linear(3, 3, rng=rng)

    def forward(self, x, mask=None):
        y = self.linear(x)
        return y if mask is None else y * mask


# ------------------------------------------------------------------------------- keyword calls
def test_modules_take_keyword_arguments_with_and_without_hooks():
    rng = np.random.default_rng(0)
    layer = Masked(rng)
    x, mask = rng.normal(size=(2, 3)), np.array([1.0, 0.0, 1.0])
    expected = layer.forward(x, mask).data
    np.testing.assert_array_equal(layer(x=x, mask=mask).data, expected)
    np.testing.assert_array_equal(layer(x, mask=mask).data, expected)
    layer.register_forward_hook(lambda m, args, out: None)
    layer.register_full_backward_hook(lambda m, gin, gout: None)
    np.testing.assert_array_equal(layer(x=x, mask=mask).data, expected)
    with pytest.raises(TypeError, match="unexpected keyword argument 'masc'"):
        layer(x, masc=mask)


def test_hooks_without_kwargs_see_the_positional_arguments_only_as_pytorch():
    layer = Masked(np.random.default_rng(1))
    seen = []
    layer.register_forward_pre_hook(lambda m, args: seen.append(("pre", args)))
    layer.register_forward_hook(lambda m, args, out: seen.append(("post", args)))
    x = Tensor(np.ones((1, 3)))
    layer(x, mask=np.ones(3))
    assert seen == [("pre", (x,)), ("post", (x,))]


def test_with_kwargs_hooks_see_and_replace_the_keyword_arguments():
    layer = Masked(np.random.default_rng(2))
    x = np.ones((1, 3))
    seen = []

    def pre(module, args, kwargs):
        seen.append(dict(kwargs))
        return args, {**kwargs, "mask": np.array([0.0, 0.0, 1.0])}

    layer.register_forward_pre_hook(pre, with_kwargs=True)
    layer.register_forward_hook(
        lambda m, args, kwargs, out: seen.append(sorted(kwargs)), with_kwargs=True
    )
    out = layer(x, mask=np.ones(3))
    assert list(seen[0]) == ["mask"] and seen[1] == ["mask"]
    np.testing.assert_array_equal(out.data[0, :2], [0.0, 0.0])  # the replaced mask was used
    bad = Masked(np.random.default_rng(2))
    bad.register_forward_pre_hook(lambda m, args, kwargs: args, with_kwargs=True)
    with pytest.raises(RuntimeError, match=r"must return None or a tuple \(args, kwargs\)"):
        bad(x)


def test_prepend_runs_a_hook_before_those_already_registered():
    layer = nn.Identity()
    order = []
    layer.register_forward_hook(lambda m, a, o: order.append("first"))
    layer.register_forward_hook(lambda m, a, o: order.append("prepended"), prepend=True)
    layer.register_forward_pre_hook(lambda m, a: order.append("pre"))
    layer.register_forward_pre_hook(lambda m, a: order.append("pre prepended"), prepend=True)
    layer(Tensor(1.0))
    assert order == ["pre prepended", "pre", "prepended", "first"]


def test_full_backward_hook_leaves_keyword_inputs_out_of_grad_input_as_pytorch():
    layer = Masked(np.random.default_rng(3))
    seen = []
    layer.register_full_backward_hook(lambda m, gin, gout: seen.append(gin))
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    mask = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    layer(x, mask=mask).sum().backward()
    layer(x=x, mask=mask).sum().backward()
    (positional,), keywords_only = seen
    np.testing.assert_allclose(positional.data, x.grad / 2)  # half of x.grad: two calls
    assert keywords_only == ()  # no positional input: fired from the output, as in PyTorch
    assert mask.grad is not None  # keyword inputs get their gradient all the same


# ------------------------------------------------------------------------------- tuple outputs
class Pair(nn.Module):
    """Returns (x·w, x²·w, a count): two tensors and a plain number."""

    def __init__(self, width: int, rng: np.random.Generator) -> None:
        super().__init__()
        self.w = nn.Parameter(rng.normal(size=width))

    def forward(self, x):
        return x * self.w, x * x * self.w, 3


@given(
    seed=seeds,
    width=st.integers(1, 4),
    inputs_need_grad=st.booleans(),
    used=st.sampled_from(["first", "second", "both"]),
)
def test_full_backward_hook_on_a_tuple_gives_each_outputs_gradient(
    seed, width, inputs_need_grad, used
):
    """grad_output has one entry per item: the gradient that reached it (None for an unused
    output and for the plain number); grad_input the input's, or None when it needs none.
    The hook fires once, whichever outputs are used, as PyTorch's."""
    rng = np.random.default_rng(seed)
    layer = Pair(width, rng)
    seen = []
    layer.register_full_backward_hook(lambda m, gin, gout: seen.append((gin, gout)))
    x = Tensor(rng.normal(size=width), requires_grad=inputs_need_grad)
    a, b, count = layer(x)
    assert count == 3
    ga, gb = rng.normal(size=width), rng.normal(size=width)
    loss = {"first": (a * ga).sum(), "second": (b * gb).sum(), "both": (a * ga + b * gb).sum()}
    loss[used].backward()
    ((grad_input, grad_output),) = seen
    assert len(grad_output) == 3 and grad_output[2] is None
    expect_a = ga if used != "second" else None
    expect_b = gb if used != "first" else None
    for got, expected in zip(grad_output[:2], (expect_a, expect_b), strict=True):
        if expected is None:
            assert got is None
        else:
            np.testing.assert_array_equal(got.data, expected)
    if not inputs_need_grad:
        assert grad_input == (None,)
    else:  # d/dx of ga·x·w + gb·x²·w
        w = layer.w.data
        dx = (expect_a if expect_a is not None else 0) * w
        dx = dx + (2 * expect_b * x.data * w if expect_b is not None else 0)
        np.testing.assert_allclose(grad_input[0].data, dx, rtol=1e-12)
        np.testing.assert_allclose(x.grad, dx, rtol=1e-12)


@given(seed=seeds, width=st.integers(1, 4), inputs_need_grad=st.booleans())
def test_full_backward_hooks_fire_once_in_a_recorded_backward_that_differentiates_again(
    seed, width, inputs_need_grad
):
    """backward(create_graph=True) through a hooked module of two outputs: the hook fires once
    with both gradients, and w.grad is a Tensor whose own gradient is the second derivative."""
    rng = np.random.default_rng(seed)
    layer = Pair(width, rng)
    seen = []
    layer.register_full_backward_hook(lambda m, gin, gout: seen.append(gout))
    x = Tensor(rng.normal(size=width), requires_grad=inputs_need_grad)
    a, b, _ = layer(x)
    (a * a + b).backward(np.ones(width), create_graph=True)
    assert len(seen) == 1 and seen[0][2] is None
    np.testing.assert_allclose(seen[0][0].data, 2 * a.data, rtol=1e-12)
    np.testing.assert_array_equal(seen[0][1].data, np.ones(width))
    xv, w = x.data, layer.w.data
    # each entry: x²w² + x²w, so d/dw = 2x²w + x², and d²/dw² = 2x²
    np.testing.assert_allclose(layer.w.grad.data, 2 * xv**2 * w + xv**2, rtol=1e-12)
    (second,) = autograd.grad(layer.w.grad, [layer.w], Tensor(np.ones(width)))
    np.testing.assert_allclose(second.data, 2 * xv**2, rtol=1e-12)


def test_tuple_outputs_keep_their_values_and_the_parameters_their_gradients():
    rng = np.random.default_rng(5)
    plain, hooked = Pair(3, rng), Pair(3, np.random.default_rng(5))
    hooked.w = nn.Parameter(plain.w.data.copy())
    hooked.register_full_backward_hook(lambda *args: None)
    x = Tensor(rng.normal(size=3))
    for layer in (plain, hooked):
        a, b, _ = layer(x)
        (a.sum() + 2 * b.sum()).backward()
    np.testing.assert_array_equal(hooked(x)[1].data, plain(x)[1].data)
    np.testing.assert_array_equal(hooked.w.grad, plain.w.grad)


def test_a_hook_returning_gradients_when_no_input_needs_one_is_an_error():
    layer = Pair(2, np.random.default_rng(6))
    layer.register_full_backward_hook(lambda m, gin, gout: (Tensor(np.ones(2)),))
    a, b, _ = layer(Tensor(np.ones(2)))
    with pytest.raises(RuntimeError, match="Pair: no input of this call needs a gradient"):
        (a + b).sum().backward()


class Named(nn.Module):
    def forward(self, x):
        return {"y": x * 2}


def test_a_full_backward_hook_on_a_module_returning_a_dict_is_an_error_not_silence():
    layer = Named()
    x = Tensor(np.ones(2), requires_grad=True)
    assert layer(x)["y"].requires_grad  # no hook: fine
    layer.register_full_backward_hook(lambda *args: None)
    with pytest.raises(TypeError, match=r"Named has a full backward hook.*returned a dict"):
        layer(x)
    with no_grad():  # no backward will run: nothing to hook, no error
        layer(x)


def test_forward_hooks_see_and_may_replace_a_dict_or_tuple_output():
    layer = Named()
    layer.register_forward_hook(lambda m, args, out: {**out, "z": out["y"] + 1})
    out = layer(Tensor(np.ones(2)))
    np.testing.assert_array_equal(out["z"].data, [3.0, 3.0])
    pair = Pair(2, np.random.default_rng(7))
    pair.register_forward_hook(lambda m, args, out: out[:2])
    assert len(pair(Tensor(np.ones(2)))) == 2


# ------------------------------------------------------------------------------- state_dict names
class Shared(nn.Module):
    def __init__(self, rng: np.random.Generator) -> None:
        super().__init__()
        self.encoder = nn.Linear(3, 3, rng=rng)
        self.decoder = nn.Linear(3, 3, rng=rng)
        self.decoder.weight = self.encoder.weight  # tied
        self.again = self.encoder  # the same module under a second name

    def forward(self, x):
        return self.decoder(self.again(self.encoder(x)))


def test_state_dict_names_a_shared_module_and_a_tied_weight_under_each_name():
    model = Shared(np.random.default_rng(8))
    state = model.state_dict()
    assert list(state) == [
        "encoder.weight",
        "encoder.bias",
        "decoder.weight",
        "decoder.bias",
        "again.weight",
        "again.bias",
    ]
    np.testing.assert_array_equal(state["decoder.weight"], model.encoder.weight.data)
    assert [name for name, _ in model.named_parameters()] == [
        "encoder.weight",
        "encoder.bias",
        "decoder.bias",
    ]
    assert len(list(model.parameters())) == 3  # each parameter once
    everywhere = [name for name, _ in model.named_parameters(remove_duplicate=False)]
    assert everywhere == list(state)
    assert [name for name, _ in model.named_modules()] == ["", "encoder", "decoder"]
    assert [name for name, _ in model.named_modules(remove_duplicate=False)] == [
        "",
        "encoder",
        "decoder",
        "again",
    ]


def test_a_state_dict_with_tied_names_loads_back_and_conflicting_values_are_refused():
    model, copy = Shared(np.random.default_rng(9)), Shared(np.random.default_rng(10))
    copy.load_state_dict(model.state_dict())
    np.testing.assert_array_equal(copy.decoder.weight.data, model.encoder.weight.data)
    assert copy.decoder.weight is copy.encoder.weight  # still tied
    state = model.state_dict()
    state["decoder.weight"] = state["decoder.weight"] + 1
    before = copy.state_dict()
    with pytest.raises(ValueError, match="encoder.weight and decoder.weight are one tied"):
        copy.load_state_dict(state)
    for name, array in copy.state_dict().items():  # nothing was written
        np.testing.assert_array_equal(array, before[name])
    with pytest.raises(KeyError, match=r"missing keys \['again.weight'"):
        copy.load_state_dict({k: v for k, v in model.state_dict().items() if "again" not in k})
    result = copy.load_state_dict(
        {k: v for k, v in model.state_dict().items() if "again" not in k}, strict=False
    )
    assert result.missing_keys == ["again.weight", "again.bias"]


def test_a_module_inside_itself_is_an_error_when_every_name_is_asked_for():
    model = nn.Sequential(nn.Linear(2, 2))
    model.inner = model
    assert [name for name, _ in model.named_modules()] == ["", "0"]
    with pytest.raises(ValueError, match="named_modules: inner is a Sequential inside itself"):
        model.state_dict()


def test_sequential_slices_keep_the_original_names_as_pytorch():
    rng = np.random.default_rng(11)
    model = nn.Sequential(
        nn.Linear(2, 3, rng=rng), nn.ReLU(), nn.Linear(3, 3, rng=rng), nn.Linear(3, 1, rng=rng)
    )
    middle = model[2:4]
    assert list(middle.state_dict()) == ["2.weight", "2.bias", "3.weight", "3.bias"]
    assert middle[0] is model[2]  # an int index is still a position
    assert list(model[1:][1:].state_dict())[:1] == ["2.weight"]
    assert [name for name, _ in model[::-1].named_children()] == ["3", "2", "1", "0"]
    middle.load_state_dict({k: v for k, v in model.state_dict().items() if k[0] in "23"})
    middle.append(nn.Tanh())  # a list edit renumbers 0..n-1
    assert [name for name, _ in middle.named_children()] == ["0", "1", "2"]


def test_sequential_setitem_keeps_the_name_and_ordered_dict_names_the_layers():
    rng = np.random.default_rng(12)
    model = nn.Sequential(OrderedDict([("hidden", nn.Linear(2, 3, rng=rng)), ("act", nn.ReLU())]))
    assert list(model.state_dict()) == ["hidden.weight", "hidden.bias"]
    assert model.hidden is model[0]
    model[1] = nn.Tanh()
    assert [name for name, _ in model.named_children()] == ["hidden", "act"]
    assert isinstance(model.act, nn.Tanh)
    with pytest.raises(KeyError, match=r"without '\.'"):
        nn.Sequential(OrderedDict([("a.b", nn.ReLU())]))


def test_add_module_and_apply_as_pytorch():
    model = nn.Module()
    model.add_module("body", nn.Linear(2, 2, rng=np.random.default_rng(13)))
    assert [name for name, _ in model.named_parameters()] == ["body.weight", "body.bias"]
    with pytest.raises(KeyError, match="'training' is already an attribute"):
        model.add_module("training", nn.ReLU())
    with pytest.raises(TypeError, match="must be a string"):
        model.add_module(1, nn.ReLU())
    visited = []
    assert model.apply(lambda m: visited.append(type(m).__name__)) is model
    assert visited == ["Linear", "Module"]  # children first, as PyTorch

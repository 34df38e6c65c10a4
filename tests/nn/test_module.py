"""nn.Module: registration, the parameter tree, train/eval, state dicts, repr and hooks."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_lab import Tensor, nn, no_grad


class Scale(nn.Module):
    """A student's custom layer: one Parameter and one sub-Module, assigned as attributes."""

    def __init__(self, features: int, rng: np.random.Generator) -> None:
        super().__init__()
        self.gain = nn.Parameter(rng.standard_normal(features))
        self.inner = nn.Linear(features, features, rng=rng)
        self.note = "not a parameter"  # plain attributes are not registered

    def forward(self, x):
        return self.inner(x) * self.gain


class Tied(nn.Module):
    """Uses one Linear twice and shares a weight between two Linears: each Parameter once."""

    def __init__(self, rng: np.random.Generator) -> None:
        super().__init__()
        self.first = nn.Linear(4, 4, rng=rng)
        self.again = self.first  # the same module under two names
        self.second = nn.Linear(4, 4, rng=rng)
        self.second.weight = self.first.weight  # weight tying: one Parameter in two modules
        self.extra = nn.Parameter(np.ones(2))

    def forward(self, x):
        return self.second(self.again(self.first(x)))


def mlp(rng: np.random.Generator) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(3, 5, rng=rng), nn.ReLU(), nn.Linear(5, 4, rng=rng), nn.Tanh(), nn.Linear(4, 1)
    )


# ------------------------------------------------------------------------------- registration
def test_custom_layer_registers_parameters_and_submodules_by_assignment():
    layer = Scale(3, np.random.default_rng(0))
    names = [name for name, _ in layer.named_parameters()]
    assert names == ["gain", "inner.weight", "inner.bias"]
    assert list(layer.children()) == [layer.inner]
    # Tensors compare by identity here: the very objects assigned, in assignment order
    assert list(layer.parameters()) == [layer.gain, layer.inner.weight, layer.inner.bias]
    assert layer.num_parameters() == 3 + 9 + 3


def test_reassigning_an_attribute_unregisters_the_old_value():
    layer = Scale(3, np.random.default_rng(0))
    layer.inner = None
    layer.gain = None
    assert list(layer.named_parameters()) == []
    assert list(layer.children()) == []
    del layer.gain
    assert not hasattr(layer, "gain")


def test_assigning_before_super_init_is_a_clear_error():
    class Forgetful(nn.Module):
        def __init__(self):
            self.weight = nn.Parameter(np.ones(2))

    with pytest.raises(AttributeError, match="super\\(\\).__init__\\(\\)"):
        Forgetful()


def test_module_without_forward_says_so():
    class Empty(nn.Module):
        pass

    with pytest.raises(NotImplementedError, match="Empty must define forward"):
        Empty()(Tensor(1.0))


def test_parameter_always_requires_grad():
    p = nn.Parameter([1.0, 2.0])
    assert p.requires_grad and p.is_leaf
    assert repr(p).startswith("Parameter(")


def test_shared_parameters_are_listed_once_in_registration_order():
    model = Tied(np.random.default_rng(1))
    # PyTorch's order: a module's own parameters, then each child's, depth first
    params = list(model.parameters())
    expected = [model.extra, model.first.weight, model.first.bias, model.second.bias]
    assert [id(p) for p in params] == [id(p) for p in expected]
    assert [name for name, _ in model.named_parameters()] == [
        "extra",
        "first.weight",
        "first.bias",
        "second.bias",
    ]
    assert model.num_parameters() == 2 + 16 + 4 + 4
    # state_dict, as PyTorch's, lists a shared module and a tied weight under every name
    assert list(model.state_dict()) == [
        "extra",
        "first.weight",
        "first.bias",
        "again.weight",
        "again.bias",
        "second.weight",
        "second.bias",
    ]


def test_named_parameters_use_pytorch_names():
    rng = np.random.default_rng(2)
    model = mlp(rng)
    names = [name for name, _ in model.named_parameters()]
    assert names == ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]
    outer = nn.Sequential(nn.Linear(2, 3, rng=rng), nn.Sequential(nn.Linear(3, 3, rng=rng)))

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.block = outer

    assert [name for name, _ in Net().named_parameters()] == [
        "block.0.weight",
        "block.0.bias",
        "block.1.0.weight",
        "block.1.0.bias",
    ]
    assert [name for name, _ in outer.named_parameters(recurse=False)] == []


def test_children_and_modules_walk_the_tree_depth_first():
    rng = np.random.default_rng(3)
    inner = nn.Sequential(nn.Linear(2, 2, rng=rng), nn.ReLU())
    model = nn.Sequential(inner, nn.Linear(2, 1, rng=rng))
    assert list(model.children()) == [inner, model[1]]
    assert list(model.modules()) == [model, inner, inner[0], inner[1], model[1]]
    assert [name for name, _ in model.named_modules()] == ["", "0", "0.0", "0.1", "1"]


def test_num_parameters_counts_every_scalar_once():
    model = mlp(np.random.default_rng(4))
    assert model.num_parameters() == (3 * 5 + 5) + (5 * 4 + 4) + (4 + 1)
    assert model.num_parameters() == sum(p.size for p in model.parameters())


def test_zero_grad_clears_every_gradient():
    model = mlp(np.random.default_rng(5))
    model(Tensor(np.ones((2, 3)))).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_train_and_eval_are_recursive_and_return_the_module():
    model = nn.Sequential(mlp(np.random.default_rng(6)), nn.ReLU())
    assert model.eval() is model
    assert [m.training for m in model.modules()] == [False] * 8
    assert model.train() is model
    assert all(m.training for m in model.modules())


# ------------------------------------------------------------------------------- state dicts
def test_state_dict_round_trip_restores_values_in_place():
    model, other = mlp(np.random.default_rng(7)), mlp(np.random.default_rng(8))
    state = model.state_dict()
    assert list(state) == [name for name, _ in model.named_parameters()]
    weight = other[0].weight.data
    other.load_state_dict(state)
    assert other[0].weight.data is weight  # copied in place, same array
    for (_, p), (_, q) in zip(model.named_parameters(), other.named_parameters(), strict=True):
        np.testing.assert_array_equal(p.data, q.data)
    model[0].weight.data[0, 0] += 1.0  # the state dict is a copy, not a view
    assert state["0.weight"][0, 0] != model[0].weight.data[0, 0]
    x = Tensor(np.random.default_rng(9).standard_normal((4, 3)))
    with no_grad():
        model[0].weight.data[0, 0] -= 1.0
        np.testing.assert_array_equal(model(x).data, other(x).data)


def _snapshot(model):
    return [p.data.copy() for p in model.parameters()]


@pytest.mark.parametrize(
    ("edit", "error", "named"),
    [
        (lambda s: s.pop("2.bias"), KeyError, "missing keys \\['2.bias'\\]"),
        (lambda s: s.__setitem__("9.weight", np.ones(1)), KeyError, "unexpected keys \\['9.w"),
        (lambda s: s.__setitem__("4.weight", np.ones((1, 4))), ValueError, "4.weight"),
    ],
)
def test_load_state_dict_errors_name_the_key_and_change_nothing(edit, error, named):
    model = mlp(np.random.default_rng(10))
    state = mlp(np.random.default_rng(11)).state_dict()
    edit(state)
    before = _snapshot(model)
    with pytest.raises(error, match=named):
        model.load_state_dict(state)
    for old, p in zip(before, model.parameters(), strict=True):
        np.testing.assert_array_equal(old, p.data)


def test_load_state_dict_shape_error_gives_both_shapes():
    model = mlp(np.random.default_rng(12))
    state = model.state_dict()
    state["0.weight"] = np.zeros((5, 3))
    with pytest.raises(ValueError, match=r"0\.weight has shape \(3, 5\).*\(5, 3\)"):
        model.load_state_dict(state)


# ------------------------------------------------------------------------------- repr
def test_repr_prints_one_layer_a_line_with_shapes():
    model = mlp(np.random.default_rng(13))
    lines = repr(model).splitlines()
    assert lines[0] == "Sequential("
    assert lines[1] == "  (0): Linear(3 → 5)  [weight (3, 5), bias (5,)]"
    assert lines[2] == "  (1): ReLU()"
    assert lines[5] == "  (4): Linear(4 → 1)  [weight (4, 1), bias (1,)]"
    assert lines[6] == f")  # {model.num_parameters():,} parameters"
    assert len(lines) == len(model) + 2
    assert repr(nn.Linear(2, 3, bias=False)) == "Linear(2 → 3, bias=False)  [weight (2, 3)]"


# ------------------------------------------------------------------------------- forward hooks
def test_forward_hook_sees_module_inputs_and_output_and_can_replace_output():
    layer = nn.Linear(3, 2, rng=np.random.default_rng(14))
    seen = []
    handle = layer.register_forward_hook(lambda m, inputs, out: seen.append((m, inputs, out)))
    x = Tensor(np.ones((4, 3)))
    out = layer(x)
    ((module, inputs, output),) = seen
    assert module is layer and inputs == (x,) and output is out
    doubled = layer.register_forward_hook(lambda m, inputs, out: out * 2)
    np.testing.assert_array_equal(layer(x).data, 2 * out.data)
    handle.remove()
    doubled.remove()
    doubled.remove()  # removing twice is harmless
    np.testing.assert_array_equal(layer(x).data, out.data)
    assert len(seen) == 2


def test_forward_pre_hook_can_replace_inputs():
    layer = nn.Identity()
    layer.register_forward_pre_hook(lambda m, inputs: (inputs[0] * 3,))
    np.testing.assert_array_equal(layer(Tensor([1.0, 2.0])).data, [3.0, 6.0])


# ------------------------------------------------------------------------------- backward hooks
@given(
    batch=st.integers(1, 5),
    widths=st.lists(st.integers(1, 5), min_size=2, max_size=4),
    seed=st.integers(0, 2**32 - 1),
)
def test_full_backward_hooks_give_the_gradients_autograd_computes(batch, widths, seed):
    """grad_output of each layer is dL/d(its output), grad_input dL/d(its input); the first
    layer's input needs no grad, so its grad_input is (None,), as in PyTorch."""
    rng = np.random.default_rng(seed)
    layers = []
    for fan_in, fan_out in zip(widths[:-1], widths[1:], strict=True):
        layers += [nn.Linear(fan_in, fan_out, rng=rng), nn.Tanh()]
    model = nn.Sequential(*layers)
    seen = {}
    for layer in model:
        layer.register_full_backward_hook(lambda m, gin, gout: seen.__setitem__(id(m), (gin, gout)))
    x = Tensor(rng.standard_normal((batch, widths[0])))
    # The same forward, step by step, keeping every intermediate's gradient independently.
    outs, h = [], x
    for layer in model:
        h = layer.forward(h).retain_grad()
        outs.append(h)
    target = rng.standard_normal(outs[-1].shape)
    ((outs[-1] - target) ** 2).sum().backward()
    loss = ((model(x) - target) ** 2).sum()
    loss.backward()
    for k, layer in enumerate(model):
        grad_input, grad_output = seen[id(layer)]
        assert len(grad_output) == 1
        np.testing.assert_allclose(grad_output[0].data, outs[k].grad, rtol=1e-12, atol=1e-15)
        if k == 0:
            assert grad_input == (None,)
        else:
            np.testing.assert_allclose(grad_input[0].data, outs[k - 1].grad, rtol=1e-12, atol=1e-15)


def test_full_backward_hook_grad_input_for_an_input_that_requires_grad():
    layer = nn.Linear(3, 2, rng=np.random.default_rng(15))
    seen = []
    layer.register_full_backward_hook(lambda m, gin, gout: seen.append((m, gin, gout)))
    x = Tensor(np.random.default_rng(16).standard_normal((4, 3)), requires_grad=True)
    g = np.random.default_rng(17).standard_normal((4, 2))
    layer(x).backward(g)
    ((module, grad_input, grad_output),) = seen
    assert module is layer
    np.testing.assert_allclose(grad_output[0].data, g)
    np.testing.assert_allclose(grad_input[0].data, g @ layer.weight.data.T, rtol=1e-13)
    np.testing.assert_allclose(x.grad, grad_input[0].data)


def test_full_backward_hook_sees_only_the_module_share_of_a_reused_input():
    layer = nn.Tanh()
    seen = []
    layer.register_full_backward_hook(lambda m, gin, gout: seen.append(gin[0].data))
    x = Tensor(np.array([0.3, -1.2]), requires_grad=True)
    (layer(x) + 5 * x).sum().backward()
    np.testing.assert_allclose(seen[0], 1 - np.tanh(x.data) ** 2, rtol=1e-13)
    np.testing.assert_allclose(x.grad, 1 - np.tanh(x.data) ** 2 + 5, rtol=1e-13)


def test_full_backward_hook_can_replace_grad_input():
    layer = nn.Identity()
    layer.register_full_backward_hook(lambda m, gin, gout: (gin[0] * 10,))
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (layer(x) * 3).sum().backward()
    np.testing.assert_array_equal(x.grad, [30.0, 30.0])


class Product(nn.Module):
    """A custom layer of two inputs."""

    def forward(self, a, b):
        return a * b


def test_full_backward_hook_of_a_two_input_module_gives_each_input_gradient():
    rng = np.random.default_rng(20)
    a, b = (Tensor(rng.standard_normal(3), requires_grad=True) for _ in range(2))
    constant = Tensor(rng.standard_normal(3))
    seen = []
    layer = Product()
    layer.register_full_backward_hook(lambda m, gin, gout: seen.append((gin, gout)))
    (layer(a, b) * 2).sum().backward()
    (layer(a, constant) * 2).sum().backward()
    (grad_a, grad_b), (grad_output,) = seen[0]
    np.testing.assert_array_equal(grad_output.data, [2.0, 2.0, 2.0])
    np.testing.assert_allclose(grad_a.data, 2 * b.data)
    np.testing.assert_allclose(grad_b.data, 2 * a.data)
    assert seen[1][0][1] is None and np.allclose(seen[1][0][0].data, 2 * constant.data)


def test_replacing_an_input_gradient_that_has_flowed_on_is_an_error_not_ignored():
    layer = Product()
    layer.register_full_backward_hook(lambda m, gin, gout: tuple(g * 0 for g in gin))
    a, b = Tensor([1.0, 2.0], requires_grad=True), Tensor([3.0, 4.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="Product: a full backward hook can replace only"):
        layer(a, b).sum().backward()
    wrong_length = Product()
    wrong_length.register_full_backward_hook(lambda m, gin, gout: (gin[0],))
    with pytest.raises(RuntimeError, match="returned 1 gradients for 2 inputs"):
        wrong_length(a, b).sum().backward()


def test_backward_hook_handle_remove_detaches_it():
    layer = nn.Linear(2, 2, rng=np.random.default_rng(18))
    calls = []
    handle = layer.register_full_backward_hook(lambda *args: calls.append(1))
    x = Tensor(np.ones((1, 2)), requires_grad=True)
    layer(x).sum().backward()
    handle.remove()
    layer(x).sum().backward()
    assert calls == [1]
    assert not layer._backward_hooks


def test_no_backward_hook_machinery_under_no_grad():
    layer = nn.Linear(2, 2, rng=np.random.default_rng(19))
    layer.register_full_backward_hook(lambda *args: None)
    with no_grad():
        out = layer(Tensor(np.ones((1, 2)), requires_grad=True))
    assert not out.requires_grad and out.grad_fn is None


def test_zero_grad_sets_none_or_new_zeros_never_writing_a_kept_array():
    model = nn.Linear(3, 2)
    x = Tensor(np.ones((4, 3)))
    model(x).sum().backward()
    kept = model.weight.grad
    before = kept.copy()
    model.zero_grad(set_to_none=False)
    assert np.array_equal(model.weight.grad, np.zeros((3, 2))) and model.weight.grad is not kept
    assert np.array_equal(kept, before)
    model.zero_grad()
    assert model.weight.grad is None and model.bias.grad is None

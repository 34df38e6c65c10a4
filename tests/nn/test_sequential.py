"""nn.Sequential behaves as a Python list of layers (compared against a real list)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_lab import Tensor, nn


def layers(count: int) -> list[nn.Module]:
    return [nn.Identity() for _ in range(count)]


def test_sequential_applies_layers_in_order():
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Linear(3, 4, rng=rng), nn.Tanh(), nn.Linear(4, 2, rng=rng))
    x = Tensor(rng.standard_normal((5, 3)))
    expected = np.tanh(x.data @ model[0].weight.data + model[0].bias.data)
    expected = expected @ model[2].weight.data + model[2].bias.data
    np.testing.assert_allclose(model(x).data, expected, rtol=1e-12)
    assert nn.Sequential()(x) is x  # an empty Sequential is the identity


def test_indexing_negative_index_len_and_iteration():
    items = layers(4)
    model = nn.Sequential(*items)
    assert len(model) == 4
    assert model[0] is items[0] and model[-1] is items[3] and model[-4] is items[0]
    assert list(model) == items
    with pytest.raises(IndexError):
        model[4]
    with pytest.raises(IndexError):
        model[-5]


def test_slicing_returns_a_sequential_sharing_the_modules():
    rng = np.random.default_rng(1)
    model = nn.Sequential(nn.Linear(2, 3, rng=rng), nn.ReLU(), nn.Linear(3, 1, rng=rng))
    head = model[:2]
    assert isinstance(head, nn.Sequential)
    assert list(head) == list(model)[:2]
    assert head[0].weight is model[0].weight  # shared, not copied
    assert list(model[::-1]) == list(model)[::-1]
    assert len(model[5:]) == 0
    # a slice keeps the layers' names, as PyTorch's does
    assert [name for name, _ in model[1:].named_parameters()] == ["2.weight", "2.bias"]


def test_setitem_and_delitem_keep_list_semantics():
    items = layers(3)
    model = nn.Sequential(*items)
    new = nn.ReLU()
    model[-1] = new
    del model[0]
    assert list(model) == [items[1], new]
    with pytest.raises(TypeError, match="expected a Module, got int"):
        model[0] = 3


def test_insert_renumbers_parameter_names_like_the_lab_does():
    rng = np.random.default_rng(2)
    model = nn.Sequential(nn.Linear(3, 4, rng=rng), nn.ReLU(), nn.Linear(4, 1, rng=rng))
    output_layer = model[-1]
    model.insert(-1, nn.Linear(4, 4, rng=rng))
    model.insert(-1, nn.ReLU())
    assert model[-1] is output_layer
    names = [name for name, _ in model.named_parameters()]
    assert names == ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]
    assert dict(model.named_parameters())["4.weight"] is output_layer.weight
    assert model(Tensor(np.ones((2, 3)))).shape == (2, 1)


def test_append_extend_insert_return_the_sequential():
    model = nn.Sequential()
    assert model.append(nn.ReLU()) is model
    assert model.extend(layers(2)) is model
    assert model.insert(0, nn.Tanh()) is model
    assert len(model) == 4


@pytest.mark.parametrize(
    ("call", "where"),
    [
        (lambda m: m.append(np.ones(3)), "append"),
        (lambda m: m.insert(0, "ReLU"), "insert"),
        (lambda m: m.extend([nn.ReLU(), lambda x: x]), "extend"),
        (lambda m: m.insert(-1, nn.ReLU), "insert"),  # the class, not an instance
    ],
)
def test_non_modules_are_a_type_error_and_change_nothing(call, where):
    items = layers(2)
    model = nn.Sequential(*items)
    with pytest.raises(TypeError, match=f"Sequential.{where}: expected a Module, got "):
        call(model)
    assert list(model) == items


def test_constructor_rejects_non_modules():
    with pytest.raises(TypeError, match="Sequential.__init__: expected a Module, got function"):
        nn.Sequential(nn.ReLU(), lambda x: x)


# A random program of list operations, run on a Sequential and on a plain list side by side.
operations = st.lists(
    st.one_of(
        st.tuples(st.just("insert"), st.integers(-8, 8)),
        st.tuples(st.just("append"), st.just(0)),
        st.tuples(st.just("extend"), st.integers(0, 3)),
        st.tuples(st.just("delete"), st.integers(-8, 8)),
    ),
    max_size=15,
)


@given(initial=st.integers(0, 4), program=operations)
def test_list_operations_match_a_python_list(initial, program):
    """... except that inserting beyond either end is an IndexError, not a silent append."""
    reference = layers(initial)
    model = nn.Sequential(*reference)
    for operation, argument in program:
        if operation == "insert" and not -len(reference) <= argument <= len(reference):
            with pytest.raises(IndexError, match=f"index {argument} is out of range for"):
                model.insert(argument, nn.Identity())
        elif operation == "insert":
            new = nn.Identity()
            model.insert(argument, new)
            reference.insert(argument, new)
        elif operation == "append":
            new = nn.Identity()
            model.append(new)
            reference.append(new)
        elif operation == "extend":
            new_layers = layers(argument)
            model.extend(new_layers)
            reference.extend(new_layers)
        elif reference and -len(reference) <= argument < len(reference):
            del model[argument]
            del reference[argument]
        assert len(model) == len(reference)
        assert all(a is b for a, b in zip(model, reference, strict=True))
        for index in range(-len(reference), len(reference)):
            assert model[index] is reference[index]
    assert [name for name, _ in model.named_children()] == [str(i) for i in range(len(model))]

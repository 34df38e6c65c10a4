"""ModuleList and ModuleDict as PyTorch's: their modules' parameters are the model's, named by
position or key; list and dict operations behave as a Python list's and dict's; neither has a
forward; bad keys and non-modules are errors that change nothing."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_lab import Tensor, nn


def layers(n: int) -> list[nn.Module]:
    return [nn.Linear(2, 2, rng=np.random.default_rng(k)) for k in range(n)]


class Tower(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(layers(3))
        rng = np.random.default_rng(3)
        self.heads = nn.ModuleDict(
            {"mean": nn.Linear(2, 1, rng=rng), "scale": nn.Linear(2, 1, rng=rng)}
        )

    def forward(self, x):
        for block in self.blocks:
            x = block(x).tanh()
        return self.heads["mean"](x), self.heads["scale"](x)


def test_module_list_and_dict_parameters_are_the_models_named_as_pytorch():
    model = Tower()
    assert [name for name, _ in model.named_parameters()] == [
        *(f"blocks.{k}.{p}" for k in range(3) for p in ("weight", "bias")),
        "heads.mean.weight",
        "heads.mean.bias",
        "heads.scale.weight",
        "heads.scale.bias",
    ]
    mean, scale = model(Tensor(np.ones((4, 2))))
    (mean.sum() + scale.sum()).backward()
    assert all(p.grad is not None for p in model.parameters())


def test_containers_have_no_forward_and_say_what_to_do():
    with pytest.raises(NotImplementedError, match="loop over its modules"):
        nn.ModuleList(layers(1))(Tensor(np.ones(2)))
    with pytest.raises(NotImplementedError, match="call its modules"):
        nn.ModuleDict()(Tensor(np.ones(2)))


# A random program of list operations, run on a ModuleList and on a plain list side by side.
list_operations = st.lists(
    st.one_of(
        st.tuples(st.just("insert"), st.integers(-4, 4)),
        st.tuples(st.just("append"), st.just(0)),
        st.tuples(st.just("extend"), st.integers(0, 2)),
        st.tuples(st.just("iadd"), st.integers(0, 2)),
        st.tuples(st.just("delete"), st.integers(-4, 4)),
        st.tuples(st.just("delete slice"), st.integers(-4, 4)),
        st.tuples(st.just("set"), st.integers(-4, 4)),
        st.tuples(st.just("pop"), st.integers(-4, 4)),
    ),
    max_size=12,
)


@given(initial=st.integers(0, 3), program=list_operations)
def test_module_list_operations_match_a_python_list(initial, program):
    reference = layers(initial)
    modules = nn.ModuleList(reference)
    for operation, k in program:
        fits = -len(reference) <= k < len(reference)
        if operation == "insert" and -len(reference) <= k <= len(reference):
            new = nn.Identity()
            modules.insert(k, new)
            reference.insert(k, new)
        elif operation == "append":
            new = nn.Identity()
            assert modules.append(new) is modules
            reference.append(new)
        elif operation in ("extend", "iadd"):
            new_layers = layers(k)
            if operation == "extend":
                modules.extend(new_layers)
            else:
                modules += new_layers
            reference.extend(new_layers)
        elif operation == "delete" and fits:
            del modules[k]
            del reference[k]
        elif operation == "delete slice":
            del modules[k:]
            del reference[k:]
        elif operation == "set" and fits:
            new = nn.ReLU()
            modules[k] = new
            reference[k] = new
        elif operation == "pop" and fits:
            assert modules.pop(k) is reference.pop(k)
        elif operation in ("delete", "set", "pop"):
            with pytest.raises(IndexError, match=f"index {k} is out of range for"):
                modules[k]
        assert list(modules) == reference
        # renumbered: the names are the positions
        assert [name for name, _ in modules.named_children()] == [
            str(i) for i in range(len(reference))
        ]
    for k in range(-len(reference), len(reference)):
        assert modules[k] is reference[k]
    assert list(modules[1:]) == reference[1:]
    assert (
        [name for name, _ in modules[1:].named_children()]
        == [  # renumbered, as PyTorch's
            str(i) for i in range(len(reference[1:]))
        ]
    )
    assert list(modules + layers(1))[: len(reference)] == reference


def test_module_list_refuses_non_modules_and_changes_nothing():
    modules = nn.ModuleList(layers(2))
    before = list(modules)
    with pytest.raises(TypeError, match="ModuleList.append: expected a Module, got function"):
        modules.append(lambda x: x)
    with pytest.raises(TypeError, match="ModuleList.extend: expected a Module, got int"):
        modules.extend([nn.ReLU(), 3])
    with pytest.raises(TypeError, match="an index must be an int"):
        modules["0"]
    assert list(modules) == before


# A random program of dict operations, run on a ModuleDict and on a plain dict side by side.
keys = st.sampled_from(["a", "b", "conv1", "0"])
dict_operations = st.lists(
    st.one_of(
        st.tuples(st.just("set"), keys),
        st.tuples(st.just("delete"), keys),
        st.tuples(st.just("pop"), keys),
        st.tuples(st.just("update"), keys),
        st.tuples(st.just("clear"), keys),
    ),
    max_size=12,
)


@given(program=dict_operations)
def test_module_dict_operations_match_a_python_dict(program):
    reference: dict[str, nn.Module] = {}
    modules = nn.ModuleDict()
    for operation, key in program:
        if operation == "set":
            new = nn.Identity()
            modules[key] = new
            reference[key] = new
        elif operation == "update":
            new = {key: nn.ReLU(), "z": nn.Tanh()}
            modules.update(new)
            reference.update(new)
        elif operation == "clear":
            modules.clear()
            reference.clear()
        elif key in reference:
            if operation == "pop":
                assert modules.pop(key) is reference.pop(key)
            else:
                del modules[key]
                del reference[key]
        else:
            with pytest.raises(KeyError, match=f"ModuleDict: no module '{key}'"):
                modules[key]
        assert list(modules) == list(reference) == modules.keys()
        assert modules.values() == list(reference.values())
        assert modules.items() == list(reference.items())
        assert len(modules) == len(reference)
        assert all(k in modules for k in reference)
        assert [name for name, _ in modules.named_children()] == list(reference)


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("update", "'update' is already an attribute of ModuleDict"),
        ("training", "'training' is already an attribute"),
        ("a.b", r"non-empty string without '\.'"),
        ("", "non-empty string"),
        (3, "non-empty string"),
    ],
)
def test_module_dict_refuses_keys_that_would_shadow_or_break_names_before_adding_any(key, message):
    modules = nn.ModuleDict({"kept": nn.ReLU()})
    with pytest.raises(KeyError, match=message):
        modules.update([("fine", nn.ReLU()), (key, nn.ReLU())])
    assert modules.keys() == ["kept"]
    with pytest.raises(KeyError, match=message):
        nn.ModuleDict({key: nn.ReLU()})


def test_module_dict_takes_pairs_and_refuses_non_modules():
    modules = nn.ModuleDict([("a", nn.ReLU()), ("b", nn.Tanh())])
    assert modules.keys() == ["a", "b"]
    assert modules.a is modules["a"]
    with pytest.raises(TypeError, match="ModuleDict.update: expected a Module, got int"):
        modules.update({"c": 3})
    with pytest.raises(TypeError, match=r"item 0 must be a \(key, module\) pair"):
        modules.update(["ab"])
    assert modules.keys() == ["a", "b"]


def test_a_state_dict_of_containers_round_trips():
    model, copy = Tower(), Tower()
    for p in copy.parameters():
        p.data[...] = 0
    copy.load_state_dict(model.state_dict())
    for (name, a), (_, b) in zip(model.named_parameters(), copy.named_parameters(), strict=True):
        np.testing.assert_array_equal(a.data, b.data, err_msg=name)

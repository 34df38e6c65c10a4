"""The lab's Part A reproduces the course notebook's own code (tests/support/notebook_oracle.py) run
after np.random.seed(seed), for roll numbers and seeds drawn by hypothesis."""

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from notebook_oracle import notebook_lab, notebook_part_b

from tinygrad_lab.lab.rules import LabRun, lab_config, record_epochs
from tinygrad_lab.lab.stress.part_a import run_stress_test
from tinygrad_lab.lab.stress.part_b import run_part_b

# The notebook's code hard-codes ReLU and 3 added layers, which are also the documented defaults
# where the rules are open (odd a; b mod 3 of 0 or 2): every roll number reproduces it.
rolls = st.text(alphabet="0123456789", min_size=3, max_size=11)
seeds = st.integers(min_value=0, max_value=2**32 - 1)


def assert_same_run(ours, theirs):
    assert len(ours.loss_history) == len(theirs["loss_history"])
    for mine, notebook in zip(ours.loss_history, theirs["loss_history"], strict=True):
        assert math.isclose(mine, notebook, rel_tol=1e-12, abs_tol=0)
    assert math.isclose(ours.grad_norm_first, theirs["grad_first"], rel_tol=1e-12)
    assert math.isclose(ours.grad_norm_last, theirs["grad_last"], rel_tol=1e-12)
    if theirs["grad_last"] == 0:
        assert ours.gri is None and ours.gri_undefined_reason
    else:
        assert math.isclose(ours.gri, theirs["GRI"], rel_tol=1e-12)


@settings(max_examples=6)
@given(roll=rolls, seed=seeds)
def test_part_a_equals_the_notebooks_code_for_any_roll_and_seed(roll, seed):
    result = run_stress_test(LabRun(lab_config(roll), seed))
    with np.errstate(invalid="ignore", divide="ignore"):  # the notebook's GRI of a dead layer
        notebook = notebook_lab(roll, seed)
    for ours, theirs in zip(result.runs().values(), notebook, strict=True):
        assert_same_run(ours, theirs)


def test_example_roll_reproduces_the_notebook_for_several_seeds_with_reported_epochs():
    for seed in (0, 1, 42):
        result = run_stress_test(LabRun(lab_config("102303346"), seed))
        notebook = notebook_lab("102303346", seed)
        for ours, theirs in zip(result.runs().values(), notebook, strict=True):
            assert_same_run(ours, theirs)
            assert ours.losses == {e: ours.loss_history[e - 1] for e in (1, 100, 400)}
            for epoch, value in ours.losses.items():
                assert math.isclose(value, theirs["loss_history"][epoch - 1], rel_tol=1e-12)


@given(epochs=st.integers(1, 500))
def test_reported_epochs_are_1_100_and_the_last_that_exist(epochs):
    got = record_epochs(epochs)
    assert got == sorted({1, epochs} | ({100} if epochs >= 100 else set()))


@given(roll=rolls)
def test_manual_convolution_equals_the_notebooks_code(roll):
    config = lab_config(roll)
    assert run_part_b(config).manual_convolution == notebook_part_b(config.a, config.b)


def test_example_roll_manual_convolution_is_minus_70_not_the_documents_minus_18():
    part_b = run_part_b(lab_config("102303346"))
    assert part_b.manual_convolution == notebook_part_b(6, 4) == -70
    assert any("−18 is wrong" in note for note in part_b.notes)


def test_a_dead_inserted_layer_gives_undefined_gri_with_the_reason_never_nan():
    # seed 54 of the example roll: every unit of the last inserted ReLU dies in run 2, so both
    # gradient norms are exactly 0 and the notebook's own code would print GRI = nan (0/0)
    from tinygrad_lab.lab.stress.analysis import diagnose

    result = run_stress_test(LabRun(lab_config("102303346"), 54))
    with np.errstate(invalid="ignore"):  # the notebook's own 0/0
        notebook = notebook_lab("102303346", 54)
    assert_same_run(result.run2, notebook[1])
    assert notebook[1]["grad_last"] == 0 and notebook[1]["grad_first"] == 0
    assert result.run2.gri is None and "0/0" in result.run2.gri_undefined_reason
    assert result.run2.dead_layers == ["15:ReLU"]
    assert diagnose(result.run2)[0] == "dead network"

"""The modes (no_grad, enable_grad, detect_anomaly, record_sites, observe_backward): re-entering
one object, leaving out of order, sharing one between threads; what `is_grad_enabled` says is
what the engine does (ops record, in-place writes on a leaf are refused), and `switched` counts
exactly the modes that are on."""

import contextlib
import threading
from collections.abc import Callable, Iterator

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_lab import (
    Tensor,
    detect_anomaly,
    enable_grad,
    grad_mode,
    is_grad_enabled,
    no_grad,
    record_sites,
)
from tinygrad_lab.grad_mode import observe_backward

DEFAULT_FLAGS = {"grad_enabled": True, "anomaly": False, "record_sites": False}


def leaf() -> Tensor:
    return Tensor(np.arange(3.0), requires_grad=True)


def flags() -> dict[str, bool]:
    return {name: getattr(grad_mode.state, name) for name in DEFAULT_FLAGS}


def records() -> bool:
    """Whether the engine records an op in this thread now."""
    return (leaf() * 2.0).requires_grad


def leaf_write_refused() -> bool:
    """Whether ``w += 1`` on a leaf that requires grad is refused now (it is outside no_grad)."""
    w = leaf()
    try:
        w += 1.0
    except RuntimeError:
        return True
    return False


def assert_grad_mode_is(enabled: bool) -> None:
    """The flag, `is_grad_enabled`, the engine's recording and the in-place guard agree."""
    assert is_grad_enabled() is enabled
    assert records() is enabled
    assert leaf_write_refused() is enabled


def every_mode() -> list:
    return [no_grad(), enable_grad(), detect_anomaly(), record_sites(), observe_backward(print)]


def mode_flags(modes: list) -> dict[str, bool]:
    """What the modes on (outermost first) make the flags: the innermost one that sets a flag."""
    expected = dict(DEFAULT_FLAGS)
    for mode in modes:
        if isinstance(mode, (no_grad, enable_grad)):
            expected["grad_enabled"] = isinstance(mode, enable_grad)
        if isinstance(mode, detect_anomaly):
            expected["anomaly"] = True
        if isinstance(mode, (detect_anomaly, record_sites)):
            expected["record_sites"] = True
    return expected


def start_thread(body: Callable[[], None]) -> Callable[[], None]:
    """Run ``body`` in a new thread; the function returned joins it and re-raises its error."""
    errors: list[BaseException] = []

    def target() -> None:
        try:
            body()
        except BaseException as error:  # noqa: BLE001  (handed to the test's thread)
            errors.append(error)

    thread = threading.Thread(target=target)
    thread.start()

    def finish() -> None:
        thread.join(30)
        assert not thread.is_alive()
        if errors:
            raise errors[0]

    return finish


# ------------------------------------------------------------------------- re-entry
@pytest.mark.parametrize("depth", [2, 3])
@pytest.mark.parametrize("outer", [None, no_grad()], ids=["alone", "in_no_grad"])
@pytest.mark.parametrize("mode", every_mode(), ids=lambda m: type(m).__name__)
def test_re_entering_one_mode_object_nests_and_restores_what_it_found(mode, outer, depth):
    """Each entry gives back what it found: the defaults, or the surrounding no_grad."""
    base = grad_mode.switched
    around = [] if outer is None else [outer]
    with outer or contextlib.nullcontext():
        found = flags()
        with nested(mode, depth):
            assert flags() == mode_flags([*around, mode])
            assert grad_mode.switched == base + len(around) + depth
        assert flags() == found
        assert_grad_mode_is(outer is None)
    assert flags() == DEFAULT_FLAGS and grad_mode.state.backward_observers == []
    assert grad_mode.switched == base
    assert_grad_mode_is(True)


@contextlib.contextmanager
def nested(mode, depth: int) -> Iterator[None]:
    """``with mode: with mode: ...`` ``depth`` times, checking the mode after each inner exit."""
    if depth == 0:
        yield
        return
    with mode:
        on = flags()
        with nested(mode, depth - 1):
            yield
        assert flags() == on  # the inner entry left: the mode is still on
        assert is_grad_enabled() is on["grad_enabled"] is records()


def test_re_entered_no_grad_keeps_in_place_guards_and_other_threads_recording():
    """The reported case: after ``with ng: with ng:`` the flag stayed off while
    `is_grad_enabled` said on, so ``w += 1`` passed on a leaf, and every op stopped recording
    once any thread switched any mode on."""
    ng = no_grad()
    with ng:
        with ng:
            assert_grad_mode_is(False)
        assert_grad_mode_is(False)
    assert_grad_mode_is(True)
    entered, done = threading.Event(), threading.Event()

    def elsewhere() -> None:
        with record_sites():
            entered.set()
            assert done.wait(10)

    finish = start_thread(elsewhere)
    try:
        assert entered.wait(10)
        assert grad_mode.switched > 0  # the engine reads this thread's flags now
        assert_grad_mode_is(True)
    finally:
        done.set()
        finish()


def test_re_entered_observe_backward_calls_its_observer_once_per_node_until_the_last_exit():
    seen: list[str] = []
    observe = observe_backward(lambda node, ctx, grad, grads: seen.append(ctx.name))
    x = leaf()
    with observe:
        with observe:
            (x * 2.0).sum().backward()
            assert seen == ["Sum", "Mul"]
        (x * 2.0).sum().backward()
        assert seen == ["Sum", "Mul"] * 2  # still observing after the inner exit
    (x * 2.0).sum().backward()
    assert seen == ["Sum", "Mul"] * 2 and grad_mode.state.backward_observers == []
    with observe, observe_backward(observe.observer):  # another object, the same observer
        (x * 2.0).sum().backward()
    assert seen == ["Sum", "Mul"] * 3


# ------------------------------------------------------------------------- any order
actions = st.lists(st.tuples(st.booleans(), st.integers(0, 6)), max_size=14)


@given(actions=actions)
def test_any_enters_and_exits_leave_the_flags_of_the_modes_still_on(actions):
    """Enter any of a few mode objects (the same object again too) or leave any mode that is
    on, in any order (generators leave out of order): the flags, `is_grad_enabled`, the engine
    and `switched` always agree with the modes still on, and all is default at the end."""
    base = grad_mode.switched
    seen: list[int] = []
    observers = [observe_backward(lambda *a, k=k: seen.append(k)) for k in range(2)]
    pool = [no_grad(), no_grad(), enable_grad(), detect_anomaly(), record_sites(), *observers]
    on: list = []  # the entries, outermost first
    try:
        for enter, k in actions:
            if enter or not on:
                mode = pool[k % len(pool)]
                mode.__enter__()
                on.append(mode)
            else:
                mode = on[k % len(on)]
                mode.__exit__(None, None, None)
                del on[len(on) - 1 - on[::-1].index(mode)]  # its latest entry
            assert grad_mode.switched == base + len(on)
            assert flags() == mode_flags(on)
            assert_grad_mode_is(mode_flags(on)["grad_enabled"])
            expected = [o.observer for o in observers if o in on]
            assert sorted(map(id, grad_mode.state.backward_observers)) == sorted(map(id, expected))
    finally:
        for mode in reversed(on):
            mode.__exit__(None, None, None)
    assert flags() == DEFAULT_FLAGS and grad_mode.switched == base


def test_generators_left_out_of_order_leave_the_modes_still_on():
    """A generator suspended inside ``with`` keeps its mode on; closing them in any order
    restores exactly the modes of the generators still open."""
    shared = no_grad()

    def inside(mode) -> object:
        with mode:
            yield

    for make in (lambda: shared, no_grad):
        first, second = inside(make()), inside(make())
        next(first)
        next(second)
        first.close()
        assert_grad_mode_is(False)  # the second generator is still inside its no_grad
        second.close()
        assert_grad_mode_is(True)
        assert flags() == DEFAULT_FLAGS


@pytest.mark.parametrize("mode", every_mode(), ids=lambda m: type(m).__name__)
def test_a_mode_object_as_decorator_of_a_generator_is_on_only_while_its_body_runs(mode):
    on = mode_flags([mode])

    @mode
    def count(n: int):
        for k in range(n):
            assert flags() == on
            with mode:  # the same object re-entered inside its own decorated body
                assert flags() == on
            yield k

    first, second = count(3), count(3)
    for _ in range(3):
        next(first)
        assert flags() == DEFAULT_FLAGS
        next(second)
        assert_grad_mode_is(True)
    assert list(first) == list(second) == []
    assert flags() == DEFAULT_FLAGS and grad_mode.state.backward_observers == []


def test_a_mode_object_as_decorator_of_a_recursive_function_and_as_context_at_once():
    ng = no_grad()

    @ng
    def depth(n: int) -> bool:
        with ng:
            return records() if n == 0 else depth(n - 1)

    with ng:
        assert depth(3) is False
        assert_grad_mode_is(False)
    assert_grad_mode_is(True)


# ------------------------------------------------------------------------- threads
def test_one_mode_object_shared_by_threads_restores_each_threads_own_mode():
    shared = no_grad()
    inside, main_entered, main_left = threading.Event(), threading.Event(), threading.Event()

    def worker() -> None:
        with enable_grad(), no_grad():  # this thread is in no_grad, within enable_grad
            with shared:
                inside.set()
                assert main_entered.wait(10)
            assert_grad_mode_is(False)  # back to its own no_grad, whatever the main thread did
            assert main_left.wait(10)
            assert_grad_mode_is(False)
        assert_grad_mode_is(True)

    finish = start_thread(worker)
    try:
        assert inside.wait(10)
        assert_grad_mode_is(True)  # the worker's modes are its own
        with shared:
            main_entered.set()
            assert_grad_mode_is(False)
        assert_grad_mode_is(True)
    finally:
        main_entered.set()
        main_left.set()
        finish()


def test_leaving_a_mode_in_a_thread_that_did_not_enter_it_is_an_error_and_changes_nothing():
    ng = no_grad()
    with ng:

        def leave() -> None:
            with pytest.raises(RuntimeError, match="no_grad: left in a thread where it is not"):
                ng.__exit__(None, None, None)
            assert_grad_mode_is(True)

        start_thread(leave)()
        assert_grad_mode_is(False)  # still on in the thread that entered it
    assert_grad_mode_is(True)
    with pytest.raises(RuntimeError, match="record_sites: left in a thread where it is not on"):
        record_sites().__exit__(None, None, None)
    assert flags() == DEFAULT_FLAGS

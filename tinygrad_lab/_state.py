"""Switches of the engine, read on every op. Thread-local, as PyTorch's grad mode is: a
``no_grad()`` in one thread must not stop another thread's training from recording its graph."""

import threading


class _State(threading.local):
    def __init__(self) -> None:  # runs once in every thread that touches the state
        self.grad_enabled = True  # False inside `no_grad()`: ops record no graph
        self.anomaly = False  # inside `detect_anomaly()`: forward and backward checked for NaN/inf
        self.record_sites = False  # creation sites and modules recorded (anomaly mode, traces)
        self.module_stack: list = []  # the Modules whose forward is running, innermost last
        self.backward_observers: list = []  # callables told of each node backward visits


state = _State()

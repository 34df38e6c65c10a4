"""Global switches of the engine, read on every op: kept as plain module attributes for speed."""

grad_enabled = True  # False inside `no_grad()`: ops record no graph
anomaly = False  # True inside `detect_anomaly()`: every forward and backward is checked for NaN/inf
record_sites = False  # True while creation sites and modules are recorded (anomaly mode, traces)
module_stack: list = []  # the Modules whose forward is running, innermost last
backward_observers: list = []  # callables told of each node backward visits (backward traces)

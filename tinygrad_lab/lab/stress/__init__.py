"""The stress test (Part A: run 1 → break → run 2 → run 3, and Q2) and Part B, and the commands
that run them: spec, stress-test, part-b, lab, check, graph."""

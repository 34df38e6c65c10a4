"""The course lab: roll-number rules, Part A stress test, Part B, sweeps, reports."""

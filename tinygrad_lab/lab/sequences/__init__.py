"""The lab's question along time: how the gradient fades through a recurrent network's steps,
and which cell (vanilla RNN, LSTM, GRU) still learns the adding problem as sequences grow.

``time_study(...)`` runs it and returns a `TimeResult`; `report` writes study.md, .csv, .json
and the plots (`plots`) from it, as ``tinygrad-lab study time`` does."""

from tinygrad_lab.lab.sequences.data import AddingProblem, adding_problem, baseline_mse
from tinygrad_lab.lab.sequences.study import (
    LEARNED_BELOW,
    SequenceRun,
    TimeResult,
    TimeStudy,
    run_time_study,
    time_study,
)

__all__ = [
    "LEARNED_BELOW",
    "AddingProblem",
    "SequenceRun",
    "TimeResult",
    "TimeStudy",
    "adding_problem",
    "baseline_mse",
    "run_time_study",
    "time_study",
]

"""The oracle, and the self-check against it.

`matrix_form` is the course notebook's explicit matrix-form MLP in plain NumPy (``dZ = dA *
act'(Z)``, ``dW = A_prevᵀ dZ``, ``db = Σ dZ``, ``dA = dZ Wᵀ``); `selfcheck` compares autograd
with it, layer by layer (`compare`).

The reproduction contract, stated once for the whole project: the lab's stress test run with
seed ``s`` gives the figures of the notebook's own code run after ``np.random.seed(s)``, to the
last bit. It draws from one ``np.random.RandomState(s)`` (never the global state) in the
notebook's order: the data ``X`` first, then every weight matrix of run 1 in layer order
(biases draw nothing), then, at the structural break, the inserted matrices in insertion order;
and it computes each step with the notebook's arithmetic (``lr * grad`` subtracted in place,
``2·error/N`` at the loss). The tests run the notebook's code itself as the oracle of that.
"""

from tinygrad_lab.reference.matrix_form import backward, forward, init_mlp, mse, train
from tinygrad_lab.reference.selfcheck import (
    LayerDifference,
    NotAnMLPError,
    compare,
    format_table,
    gradients,
    mlp_structure,
    reference_gradients,
)

__all__ = [
    "LayerDifference",
    "NotAnMLPError",
    "backward",
    "compare",
    "format_table",
    "forward",
    "gradients",
    "init_mlp",
    "mlp_structure",
    "mse",
    "reference_gradients",
    "train",
]

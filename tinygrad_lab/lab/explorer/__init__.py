"""One epoch of the lab's network in the backprop explorer (``tinygrad-lab explore``)."""

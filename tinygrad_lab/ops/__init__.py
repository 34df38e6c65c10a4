"""Every built-in op, each a `Function` written exactly as a user would write one.

Adding an op: write its `Function` in the file of its kind (each file lists its ops in
``__all__``, which is all this package re-exports) and register it once beside it
(`registry.register`): its Tensor method, ``nn.functional`` function, ufunc and layer come from
that line. The element-wise ops come first: the activation registry lists them in this order.
"""

from tinygrad_lab.ops.elementwise import *  # noqa: F403, I001  (first: see above)
from tinygrad_lab.ops.activation import *  # noqa: F403
from tinygrad_lab.ops.conv import *  # noqa: F403
from tinygrad_lab.ops.conversion import *  # noqa: F403
from tinygrad_lab.ops.dropout import *  # noqa: F403
from tinygrad_lab.ops.einsum import *  # noqa: F403
from tinygrad_lab.ops.indexing import *  # noqa: F403
from tinygrad_lab.ops.loss import *  # noqa: F403
from tinygrad_lab.ops.math import *  # noqa: F403
from tinygrad_lab.ops.matmul import *  # noqa: F403
from tinygrad_lab.ops.module_hooks import *  # noqa: F403
from tinygrad_lab.ops.movement import *  # noqa: F403
from tinygrad_lab.ops.normalization import *  # noqa: F403
from tinygrad_lab.ops.pool import *  # noqa: F403
from tinygrad_lab.ops.reduce import *  # noqa: F403
from tinygrad_lab.ops.scan import *  # noqa: F403
from tinygrad_lab.ops.selection import *  # noqa: F403
from tinygrad_lab.ops.numpy_functions import *  # noqa: F403
from tinygrad_lab.ops.registry import REGISTRY, Registration, register  # noqa: E402, F401

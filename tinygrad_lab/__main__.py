"""``python -m tinygrad_lab``: the same as the ``tinygrad-lab`` command."""

import sys

from tinygrad_lab.lab.cli import main

sys.exit(main())

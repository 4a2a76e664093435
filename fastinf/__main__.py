"""``python -m fastinf``: the same as the ``fastinf`` command."""

import sys

from fastinf.cli import main

sys.exit(main())

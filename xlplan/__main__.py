"""``python -m xlplan``: the same command line as ``xlplan``, where the script is not on PATH."""

import sys

from xlplan.cli import main

sys.exit(main())

"""``python -m models``: the same command line as ``cmbloc``."""
import sys

from .cli import main

sys.exit(main())

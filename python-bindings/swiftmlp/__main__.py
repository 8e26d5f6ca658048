"""python -m swiftmlp: the command line (swiftmlp.cli)."""
import sys

from .cli import main

sys.exit(main())

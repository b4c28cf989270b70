"""Run the command line: ``python -m tiering score INPUT --out OUT.xlsx``."""

import sys

from tiering.cli import main

if __name__ == "__main__":
    sys.exit(main())

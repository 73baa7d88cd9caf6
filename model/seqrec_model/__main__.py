"""Entry point for ``python -m seqrec_model``."""

import sys

from seqrec_model.cli import main

if __name__ == "__main__":
    sys.exit(main())

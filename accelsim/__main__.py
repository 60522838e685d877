"""``python -m accelsim``: the command line, for machines where the ``accelsim`` script is not installed."""

import sys

from .cli.main import main

if __name__ == "__main__":
    sys.exit(main())

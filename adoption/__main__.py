"""``python -m adoption`` runs the command line."""

import sys

from adoption.errors import INTERRUPTED

try:
    from adoption.cli import main
except KeyboardInterrupt:  # Ctrl-C while the libraries load: the same line as later on
    print(INTERRUPTED, file=sys.stderr)
    sys.exit(130)

sys.exit(main())

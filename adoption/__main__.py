"""``python -m adoption`` runs the command line."""

import os
import signal
import sys

from adoption.errors import INTERRUPTED

try:
    from adoption.cli import main
except KeyboardInterrupt:  # Ctrl-C while the libraries load: the same line as later on
    # Nothing has been written yet. Leave at once: a half-imported library may hold
    # threads or a SIGINT handler that would otherwise end the process by the signal (-2).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    print(INTERRUPTED, file=sys.stderr, flush=True)
    os._exit(130)

sys.exit(main())

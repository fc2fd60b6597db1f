"""``python -m adoption`` runs the command line."""

import sys

from adoption.cli import main

sys.exit(main())

"""``python -m netfence`` runs the CLI."""

import sys

from netfence.cli import main

sys.exit(main())

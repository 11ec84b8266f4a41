"""``python -m factor_desktop.sandbox``."""

from __future__ import annotations

import sys

from .cli import main

sys.exit(main())

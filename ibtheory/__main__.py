"""``python -m ibtheory``: the command line."""

from .cli import main

raise SystemExit(main())

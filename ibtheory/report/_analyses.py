"""The headline analyses of ``ibtheory reproduce`` (registered in order of the report)."""

from __future__ import annotations

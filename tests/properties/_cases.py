"""Case accounting of the property suite (issue 21, deliverable 6).

Every property test wraps each call of a public function in :func:`case` (a valid input whose
invariants the test then asserts) or :func:`refuses` (malformed input that must raise
``ValueError``/``TypeError`` naming the argument). Both count what happened per public function:
``hand`` (a hand-picked, parametrised case) or ``hypothesis`` (a generated example), ``refused``
(a clear refusal), ``failed`` (an exception or a broken invariant). ``conftest.py`` writes the
counts at the end of the session when ``IBTHEORY_CASE_COUNTS`` names a folder; ``case_table.py``
runs the suite and prints the table.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis.control import currently_in_test_context

#: (public function, outcome) -> count; outcomes: hand, hypothesis, refused, failed.
COUNTS: Counter[tuple[str, str]] = Counter()

#: Exceptions a public function may raise for bad input (issue 21, deliverable 2).
REFUSALS = (ValueError, TypeError)


def _origin() -> str:
    return "hypothesis" if currently_in_test_context() else "hand"


@contextmanager
def case(name: str) -> Iterator[None]:
    """Count one valid call of ``name`` (and the assertions inside the block) as tried or failed."""
    COUNTS[(name, _origin())] += 1
    try:
        yield
    except BaseException:
        COUNTS[(name, "failed")] += 1
        raise


def count_refusal(name: str) -> None:
    """Count a clear refusal checked by the caller (e.g. a one-line CLI error with exit code 2)."""
    COUNTS[(name, "refused")] += 1


def refuses(name: str, arg: str | None, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> BaseException:
    """Call ``fn`` and require a ``ValueError``/``TypeError`` whose message names ``arg``.

    ``arg=None`` only requires the exception type (the argument is positional-only in spirit,
    e.g. the single input of a converter). Counted under ``name`` as refused, or failed.
    """
    with case(name):
        with pytest.raises(REFUSALS) as info:
            fn(*args, **kwargs)
        message = str(info.value)
        if arg is not None and not re.search(rf"\b{re.escape(arg)}\b", message):
            raise AssertionError(f"{name}: the refusal does not name {arg!r}: {type(info.value).__name__}: {message}")
        if "\n" in message.strip() and "Traceback" in message:
            raise AssertionError(f"{name}: the refusal carries a traceback: {message}")
    COUNTS[(name, "refused")] += 1
    return info.value


def examples(base: int) -> int:
    """``max_examples`` of an expensive test: ``base`` under the ``ci`` profile (25 examples), scaled
    with the active profile (the ``nightly`` profile runs 40x more)."""
    from hypothesis import settings

    return max(1, base * settings.default.max_examples // 25)

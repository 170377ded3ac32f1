"""The notation printer: the papers' notation on hand-built expressions, and every catalogue
derivation free of machine notation, with short display lines and named left-hand sides.

The catalogue checks read the committed ``derivations/*.md`` (fast: nothing is derived here);
``test_derivations.py`` checks that those files are what the derivations render today.
The expected strings below are the notation of Tishby, Pereira & Bialek 1999 (physics/0004057),
written by hand.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sympy as sp

from ibtheory.symbolic import DERIVATIONS, Chain, Named, Step, display, latex, named_function
from ibtheory.symbolic.symbols import (
    a,
    b,
    beta,
    log_z,
    n_t,
    n_x,
    p_t,
    p_t_given_x,
    p_x,
    p_xy,
    p_y_given_t,
    p_y_given_x,
    t,
    tp,
    x,
    xp,
    y,
)

DERIVATIONS_DIR = Path(__file__).resolve().parents[2] / "derivations"
#: The longest display line allowed, in characters of LaTeX (issue 17: "~200").
MAX_LINE = 200
#: A named left-hand side is a name, not an expression: longer than this it is not one (the
#: longest named one is the Gaussian dualIB's gradient of tr(W Sigma_{x|t}), 117 characters).
MAX_LHS = 140
#: Machine notation that must never reach a reader.
MACHINE = (
    "given",  # p_{t given x}: a kernel argument name
    r"\mathrel{..}",  # SymPy's Idx range
    r"\nobreak",  # not in MathJax
    r"\substack",  # index ranges of a multiple sum, 0 <= x <= n_x - 1
    "{p_",  # a distribution printed as its array name, {p_{x}}_{x}
    "}}_{",  # any IndexedBase printed as SymPy does, {q}_{x} aside
)
#: A sum over an index printed with its range (x = 0 .. n_x - 1) instead of a bare letter.
RANGE_LIMIT = re.compile(r"\\(sum|prod)_\{[^{}]*=0\}|\^\{n_\{[xyt]\} - 1\}")
RELATION = re.compile(r" &?(=|\\leq|\\geq|<|>) ")


def _sum(body, *indices):
    return sp.Sum(body, *[(i, i.lower, i.upper) for i in indices])


# ----------------------------------------------------------------------------- hand-built expressions
@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        (p_t_given_x[x, t], "p(t|x)"),
        (p_y_given_t[y, t], "p(y|t)"),
        (p_y_given_x[x, y], "p(y|x)"),
        (p_x[x], "p(x)"),
        (p_xy[x, y], "p(x,y)"),
        (log_z[x], r"\log Z(x,\beta)"),
        # the entry a derivative is taken at (x = b, t = a) reads as the paper's p(t|x)
        (p_t_given_x[b, a], "p(t|x)"),
        # a dummy index alone is its bare letter; beside the free one it takes a prime
        (_sum(p_x[xp] * p_t_given_x[xp, t], xp), r"\sum_{x} p(x) p(t|x)"),
        (
            p_t_given_x[x, t] / _sum(p_x[xp] * p_t_given_x[xp, t], xp),
            r"\frac{p(t|x)}{\sum_{x'} p(x') p(t|x')}",
        ),
        (
            _sum(p_x[x] * p_t_given_x[x, t] * sp.log(p_t_given_x[x, t] / p_t[t]), x, t),
            r"\sum_{x,t} p(x) p(t|x) \log \frac{p(t|x)}{p(t)}",
        ),
        # a log is printed last in a product, so nothing after it reads as its argument
        (beta * p_x[x] * sp.log(p_t[t]), r"\beta p(x) \log p(t)"),
        (sp.KroneckerDelta(t, tp), r"\delta_{t t'}"),
    ],
)
def test_printer_writes_the_papers_notation(expr, expected):
    assert latex(expr) == expected


def test_named_quantities_print_by_their_names_with_renamed_indices():
    kl = named_function(r"D_{KL}[p(y|#1) \| p(y|#2)]")
    z = named_function(r"Z(#1,\beta)")
    encoder = sp.Eq(p_t_given_x[x, t], p_t[t] * sp.exp(-beta * kl(x, t)) / z(x))
    assert display(encoder) == r"p(t|x) = \frac{p(t) \exp\left(- \beta D_{KL}[p(y|x) \| p(y|t)]\right)}{Z(x,\beta)}"
    assert latex(kl(x, tp) + kl(x, t)) in (
        r"D_{KL}[p(y|x) \| p(y|t)] + D_{KL}[p(y|x) \| p(y|t')]",
        r"D_{KL}[p(y|x) \| p(y|t')] + D_{KL}[p(y|x) \| p(y|t)]",
    )
    assert display(sp.Eq(Named("I(X;T)"), sp.Symbol("q"))) == "I(X;T) = q"


def test_a_chain_and_an_inequality_show_the_name_first():
    assert display(Chain(Named(r"\frac{\partial L}{\partial p(t|x)}"), p_x[x] * sp.log(p_t[t]), 0)) == (
        r"\frac{\partial L}{\partial p(t|x)} = p(x) \log p(t) = 0"
    )
    assert display(sp.Le(p_x[x] + beta, Named("I(X;T)"))) == r"I(X;T) \geq \beta + p(x)"


def test_an_unknown_indexed_base_prints_as_sympy_prints_it():
    q = sp.IndexedBase("q")
    assert latex(q[x]) == "{q}_{x}"


def test_a_long_sum_is_broken_over_short_aligned_lines():
    long_sum = sp.Add(*[sp.Symbol(f"c_{k}") * p_t_given_x[x, t] * sp.log(p_y_given_x[x, y]) for k in range(20)])
    tex = display(sp.Eq(Named("L"), long_sum))
    assert tex.startswith("\\begin{aligned}\nL &= ")
    assert max(len(line) for line in tex.splitlines()) <= MAX_LINE
    assert tex.count("\\\\\n") >= 2


def test_step_title_defaults_to_words_and_display_overrides_expr():
    s = Step("critical-beta", "text", sp.Eq(sp.Symbol("b"), 1))
    assert s.title == "Critical beta"
    shown = Step("information", "t", p_x[x], display=sp.Eq(Named("H(X)"), p_x[x]))
    assert shown.displays() == ["H(X) = p(x)"]
    assert shown.expr == p_x[x]  # what code uses is untouched


# ----------------------------------------------------------------------------- the catalogue
def _rendered(name: str) -> tuple[list[str], list[str]]:
    """(step titles, display blocks) of a committed derivation page."""
    text = (DERIVATIONS_DIR / f"{name}.md").read_text()
    titles = re.findall(r"^## \d+\. (.+)$", text, flags=re.M)
    blocks = re.findall(r"^\$\$\n(.*?)\n\$\$$", text, flags=re.M | re.S)
    return titles, blocks


@pytest.mark.parametrize("name", sorted(DERIVATIONS))
def test_catalogue_derivation_reads_like_the_papers(name):
    titles, blocks = _rendered(name)
    assert titles and blocks
    for title in titles:  # words, not slugs
        assert title[:1].isupper() or title.startswith("$"), title
        assert "_" not in title.replace("$", "") or "$" in title, title
        assert not re.fullmatch(r"[A-Za-z]+(-[a-z]+)+", title), f"slug title {title!r}"
    for block in blocks:
        for bad in MACHINE:
            assert bad not in block, f"{name}: machine notation {bad!r} in\n{block}"
        assert not RANGE_LIMIT.search(block), f"{name}: a sum with its range in\n{block}"
        assert "\n\n" not in block, f"{name}: a blank line ends a Markdown display early:\n{block}"
        for line in block.splitlines():
            assert len(line) <= MAX_LINE, f"{name}: display line of {len(line)} characters:\n{line}"
        first = block.removeprefix("\\begin{aligned}\n").splitlines()[0]
        relation = RELATION.search(first) or RELATION.search(block)
        assert relation, f"{name}: a display without a relation:\n{block}"
        lhs = block.removeprefix("\\begin{aligned}\n")[: relation.start()].strip(" &\n\\")
        assert 0 < len(lhs) <= MAX_LHS, f"{name}: no named left-hand side in\n{block}"


def test_every_catalogue_derivation_has_a_committed_page():
    for name in DERIVATIONS:
        assert (DERIVATIONS_DIR / f"{name}.md").exists(), f"run `ibtheory derive --all --out derivations` ({name})"


def test_alphabet_sizes_are_the_index_ranges():
    # the printer finds an index's letter from its range; the symbols must keep these ranges
    assert (x.upper + 1, t.upper + 1, xp.upper + 1, tp.upper + 1) == (n_x, n_t, n_x, n_t)

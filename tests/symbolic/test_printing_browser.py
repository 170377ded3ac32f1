"""Every committed derivation page typesets in MathJax without an error, as on the docs site.

Each ``derivations/NAME.md`` becomes a plain HTML page (headings, prose with inline ``$...$``,
every ``$$`` display) that loads the docs site's vendored MathJax
(``docs/javascripts/vendor/mathjax-3.2.2-tex-svg.js``) with the site's settings
(``docs/javascripts/mathjax.js``, minus the arithmatex class filter); headless Chromium, driven by
Playwright, typesets it. The test fails on any MathJax error node (``merror``: TeX MathJax cannot
parse) and on red text (an undefined macro such as ``\\nobreak``). A screenshot of each page goes to ``$IBTHEORY_SCREENSHOT_DIR``
(default: the test's temporary directory).

Needs ``playwright`` (PyPI; its own browser download is not used) and a Chromium binary (Debian:
``apt-get install chromium``; or ``$IBTHEORY_CHROMIUM``). Marked slow.
"""

from __future__ import annotations

import html
import os
import re
import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
MATHJAX = REPO / "docs" / "javascripts" / "vendor" / "mathjax-3.2.2-tex-svg.js"
PAGES = sorted((REPO / "derivations").glob("*.md"))
#: Milliseconds for MathJax to typeset one page (the largest, ntk, takes a few seconds on 2 cores).
TYPESET_MS = 120_000
REQUIRED = os.environ.get("IBTHEORY_REQUIRE_BROWSER") == "1"

# The docs site's MathJax settings (docs/javascripts/mathjax.js) for a page without arithmatex.
_CONFIG = """window.MathJax = {
  tex: {inlineMath: [["$", "$"]], displayMath: [["$$", "$$"]], processEscapes: true},
  startup: {typeset: true}
};"""

# TeX that MathJax typeset as an error or, for an undefined macro, as red text. The docs site
# uses MathJax's SVG output, whose errors are <g data-mml-node="merror"> (the CHTML output's
# mjx-merror elements are looked for too); the assistive MathML says which TeX failed.
_BAD_TEX_JS = """() => {
  const bad = [];
  for (const c of document.querySelectorAll('mjx-container')) {
    if (!c.querySelector('[data-mml-node=merror], [data-mml-node=mtext][fill=red], mjx-merror')) continue;
    const mml = c.querySelector('mjx-assistive-mml');
    const hits = mml ? Array.from(mml.querySelectorAll('merror, mtext[mathcolor=red]')) : [];
    bad.push(hits.map(e => e.getAttribute('data-mjx-error') || e.textContent).join(' ') || 'error');
  }
  return bad;
}"""


def _chromium() -> str | None:
    path = os.environ.get("IBTHEORY_CHROMIUM")
    if path:
        return path
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def _page(markdown: str) -> str:
    """The Markdown page as HTML: displays kept whole for MathJax, everything else escaped."""
    body = []
    for k, part in enumerate(re.split(r"^\$\$\n(.*?)\n\$\$$", markdown, flags=re.M | re.S)):
        if k % 2:  # a display
            body.append(f'<div class="display">$${html.escape(part)}$$</div>')
            continue
        for line in part.splitlines():
            if line.startswith("#"):
                level = len(line) - len(line.lstrip("#"))
                body.append(f"<h{level}>{html.escape(line.lstrip('# '))}</h{level}>")
            elif line.strip():
                body.append(f"<p>{html.escape(line)}</p>")
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        "<style>body{font-family:sans-serif;max-width:1100px;margin:1em auto}"
        ".display{overflow-x:auto}</style>"
        f"<script>{_CONFIG}</script><script src='{MATHJAX.as_uri()}'></script>"
        f"</head><body>{''.join(body)}</body></html>"
    )


@pytest.fixture(scope="module")
def browser():
    if REQUIRED:
        import playwright.sync_api as playwright
    else:
        playwright = pytest.importorskip("playwright.sync_api")
    chromium = _chromium()
    if chromium is None:
        if REQUIRED:
            pytest.fail("IBTHEORY_REQUIRE_BROWSER=1 but no Chromium binary")
        pytest.skip("no Chromium binary (apt-get install chromium, or set IBTHEORY_CHROMIUM)")
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, headless=True, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


@pytest.mark.parametrize("path", PAGES, ids=[p.stem for p in PAGES])
def test_derivation_page_typesets_without_mathjax_errors(browser, path, tmp_path):
    assert MATHJAX.exists(), f"{MATHJAX} missing (vendored MathJax of the docs site)"
    page_file = tmp_path / f"{path.stem}.html"
    page_file.write_text(_page(path.read_text()))
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    try:
        page.goto(page_file.as_uri())
        page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=TYPESET_MS)
        page.evaluate("() => MathJax.startup.promise")
        n_displays = page.evaluate("() => document.querySelectorAll('.display mjx-container').length")
        bad = page.evaluate(_BAD_TEX_JS)
        shots = Path(os.environ.get("IBTHEORY_SCREENSHOT_DIR", tmp_path))
        shots.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shots / f"derivation_{path.stem}.png"), full_page=True)
    finally:
        page.close()
    assert n_displays == path.read_text().count("\n$$\n") // 2, "not every display was typeset"
    assert not bad, f"{path.name}: MathJax errors: {bad}"

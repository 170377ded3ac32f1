"""Every notebook opens as a notebook in a real JupyterLab, runs in the browser, and shows no error.

JupyterLab is started the README's way (``JUPYTER_CONFIG_PATH=notebooks/.jupyter jupyter lab
notebooks/``) on a free port of 127.0.0.1, from a copy of ``notebooks/`` (the notebooks write
figures next to themselves), with empty user config, settings and workspace directories (a fresh
JupyterLab: nothing the developer configured by hand can make the test pass). Headless Chromium,
driven by Playwright, opens each notebook by its tree URL (the route a double click takes: the
default viewer), checks that a notebook panel opened and no text editor, runs all cells, and fails
on any error output, on stderr output that reports an error or a warning, and on widgets that fail to
render. One notebook is also opened by a double click in the file browser. A screenshot per notebook
goes to ``$IBTHEORY_SCREENSHOT_DIR`` (default: the test's temporary directory).

Needs: the ``notebooks`` extra, ``playwright`` (PyPI; its own browser download is not used) and a
Chromium binary (Debian: ``apt-get install chromium``; or ``$IBTHEORY_CHROMIUM``). Marked slow.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.py"))
#: The README's command, relative to the folder holding notebooks/.
CONFIG_PATH = "notebooks/.jupyter"
#: Seconds for JupyterLab to answer, a notebook panel to appear, and one notebook to run (quick
#: settings; the slowest, 07, runs in about a minute as a script on 2 cores).
SERVER_START_S = 90
OPEN_S = 90
RUN_S = 420
#: Seconds for an explorer to redraw after its slider moved (one kernel round trip and a figure).
EXPLORER_S = 60
#: stderr text that marks a problem (tqdm bars and plain logging are allowed).
STDERR_PROBLEMS = ("Traceback", "Error", "Warning")


#: CI sets this after installing the browser stack, so that a missing piece fails instead of skipping.
REQUIRED = os.environ.get("IBTHEORY_REQUIRE_BROWSER") == "1"


def _need(module: str):
    if REQUIRED:
        return importlib.import_module(module)
    return pytest.importorskip(module)


def _missing(reason: str) -> None:
    if REQUIRED:
        pytest.fail(f"IBTHEORY_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


def _chromium() -> str | None:
    path = os.environ.get("IBTHEORY_CHROMIUM")
    if path:
        return path
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A fresh JupyterLab on the copied notebooks; yields (base_url, token, workdir)."""
    for module in ("jupyterlab", "jupytext", "ipywidgets"):
        _need(module)
    jupyter = Path(sys.executable).parent / "jupyter"
    if not jupyter.exists():
        _missing("no jupyter command next to this Python")
    work = tmp_path_factory.mktemp("lab")
    shutil.copytree(REPO / "notebooks", work / "notebooks", ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    fresh = {name: work / name for name in ("config", "settings", "workspaces", "runtime", "data")}
    for p in fresh.values():
        p.mkdir()
    # the news prompt of a fresh JupyterLab would cover part of every screenshot
    news = fresh["settings"] / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    news.parent.mkdir(parents=True)
    news.write_text(json.dumps({"fetchNews": "false"}))
    port, token = _free_port(), "ibtheory-browser-test"
    env = {
        **os.environ,
        "JUPYTER_CONFIG_PATH": CONFIG_PATH,  # the README's setting, relative as there
        "JUPYTER_CONFIG_DIR": str(fresh["config"]),
        "JUPYTERLAB_SETTINGS_DIR": str(fresh["settings"]),
        "JUPYTERLAB_WORKSPACES_DIR": str(fresh["workspaces"]),
        "JUPYTER_RUNTIME_DIR": str(fresh["runtime"]),
        "IBTHEORY_NOTEBOOK_QUICK": "1",
        "OMP_NUM_THREADS": "1",
    }
    env.pop("MPLBACKEND", None)  # the kernel's own inline backend, as for a user
    cmd = [
        str(jupyter), "lab", "notebooks/", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
        "--port-retries=0", f"--IdentityProvider.token={token}", "--LabApp.expose_app_in_browser=True",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # CI and containers run as root
        cmd.append("--allow-root")
    log = (work / "lab.log").open("w")
    proc = subprocess.Popen(cmd, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + SERVER_START_S
    while True:
        try:
            with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            proc.wait()
            log.close()
            pytest.fail(f"JupyterLab did not start:\n{(work / 'lab.log').read_text()[-3000:]}")
        time.sleep(0.5)
    try:
        yield base, token, work
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(scope="module")
def browser():
    playwright = _need("playwright.sync_api")
    chromium = _chromium()
    if chromium is None:
        _missing("no Chromium binary (apt-get install chromium, or set IBTHEORY_CHROMIUM)")
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, headless=True, args=["--no-sandbox", "--disable-gpu"])
        try:
            yield b
        finally:
            b.close()


def _screenshot_dir(work: Path) -> Path:
    out = Path(os.environ.get("IBTHEORY_SCREENSHOT_DIR", work / "screenshots"))
    out.mkdir(parents=True, exist_ok=True)
    return out


# JavaScript run in the page: the state of the current notebook's code cells and kernel.
_STATE_JS = """() => {
  const w = window.jupyterapp.shell.currentWidget;
  if (!w || !w.content || !w.content.model) return null;
  const cells = [];
  for (const c of w.content.model.cells) {
    if (c.type !== 'code') continue;
    cells.push({count: c.executionCount, outputs: c.outputs.toJSON()});
  }
  const k = w.sessionContext.session && w.sessionContext.session.kernel;
  return {cells, kernel: k ? k.status : null};
}"""


# JavaScript: TeX that MathJax typeset as an error or, for an undefined macro, as red text.
_BAD_TEX_JS = """() => Array.from(document.querySelectorAll(
    '#jp-main-dock-panel mjx-container mjx-merror, #jp-main-dock-panel mjx-container mjx-mtext'))
  .filter(e => e.tagName === 'MJX-MERROR' || getComputedStyle(e).color === 'rgb(255, 0, 0)')
  .map(e => { const c = e.closest('mjx-container'); const mml = c && c.querySelector('mjx-assistive-mml math');
               const text = mml ? Array.from(mml.querySelectorAll('mtext')).map(t => t.textContent) : [];
               return text.filter(t => t.startsWith('\\\\')).join(' ') || e.tagName.toLowerCase(); })"""


def _problems(state: dict, source: str = "") -> list[str]:
    out = []
    # a notebook that draws matplotlib figures must show one: with a non-interactive backend forced
    # (matplotlib.use("Agg")) JupyterLab users see none
    draws = any(call in source for call in ("plt.subplots(", "plt.figure(", "plot_information_planes("))
    shown = any("image/png" in o.get("data", {}) for c in state["cells"] for o in c["outputs"])
    if draws and not shown and all(c["count"] is not None for c in state["cells"]):
        out.append("draws matplotlib figures but shows none (is a non-interactive backend forced?)")
    for i, cell in enumerate(state["cells"]):
        for o in cell["outputs"]:
            if o.get("output_type") == "error":
                out.append(f"code cell {i}: {o.get('ename')}: {o.get('evalue')}")
            elif o.get("output_type") == "stream" and o.get("name") == "stderr":
                text = "".join(o.get("text", ""))
                if any(word in text for word in STDERR_PROBLEMS):
                    out.append(f"code cell {i} stderr: {text[:500]}")
    return out


def _assert_opened_as_notebook(page, name: str) -> None:
    """Wait for the document to open, then require a notebook panel and no text editor."""
    page.wait_for_selector(
        "#jp-main-dock-panel .jp-NotebookPanel, #jp-main-dock-panel .jp-FileEditor", timeout=OPEN_S * 1000
    )
    assert page.locator("#jp-main-dock-panel .jp-FileEditor").count() == 0, (
        f"{name} opened in a text editor, not as a notebook (is {CONFIG_PATH} on JUPYTER_CONFIG_PATH?)"
    )
    assert page.locator("#jp-main-dock-panel .jp-NotebookPanel").count() == 1


def _drive_explorers(page) -> list[str]:
    """Move the first slider of every explorer (ibtheory.explore) one step with the keyboard and
    require its figure to be redrawn by the kernel."""
    problems = []
    boxes = page.locator(".jp-OutputArea-output .widget-vbox:has(.widget-image)")
    for k in range(boxes.count()):
        box = boxes.nth(k)
        handle = box.locator(".noUi-handle").first
        if not handle.count():
            continue
        box.scroll_into_view_if_needed()
        img = box.locator(".widget-image").first
        before = img.get_attribute("src")
        handle.focus()
        page.keyboard.press("ArrowLeft")
        try:
            page.wait_for_function(
                "([el, src]) => el.getAttribute('src') !== src", arg=[img.element_handle(), before],
                timeout=EXPLORER_S * 1000,
            )
        except Exception:  # playwright's TimeoutError
            problems.append(f"explorer {k}: moving its slider did not redraw the figure")
    return problems


def _open_and_run(page, url: str, name: str, source: str, shots: Path) -> None:
    page.goto(url)
    _assert_opened_as_notebook(page, name)
    # a kernel starts by itself: no "select kernel" dialog may be waiting for the user
    page.wait_for_function(
        "() => { if (document.querySelector('.jp-Dialog')) return true;"
        " const w = window.jupyterapp.shell.currentWidget; const s = w && w.sessionContext;"
        " return s && s.session && s.session.kernel && s.session.kernel.status === 'idle'; }",
        timeout=OPEN_S * 1000,
    )
    dialog = page.locator(".jp-Dialog")
    assert not dialog.count(), (
        f"{name} opened with a dialog instead of a running kernel (no kernelspec in its jupytext "
        f"header?): {dialog.first.inner_text()[:200]!r}"
    )
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    deadline = time.monotonic() + RUN_S
    state: dict = {}
    while time.monotonic() < deadline:
        time.sleep(2.0)
        state = page.evaluate(_STATE_JS)
        if state and state["kernel"] == "idle" and (
            all(c["count"] is not None for c in state["cells"]) or _problems(state)
        ):
            break
    else:
        pytest.fail(f"{name} did not finish within {RUN_S} s")
    page.wait_for_timeout(1500)  # let widget views render
    stem = Path(name).stem
    page.screenshot(path=str(shots / f"{stem}.png"))
    problems = _problems(state, source) + _drive_explorers(page)
    bad_tex = page.evaluate(_BAD_TEX_JS)
    if bad_tex:
        names = sorted({word for piece in bad_tex for word in piece.split()})
        problems.append(f"MathJax could not typeset {len(bad_tex)} piece(s) of TeX: {names}")
    outputs = page.locator(".jp-OutputArea-output")
    if outputs.count():  # the end of the notebook, after the explorers moved
        outputs.last.scroll_into_view_if_needed()
        page.wait_for_timeout(500)
        page.screenshot(path=str(shots / f"{stem}_end.png"))
    body = page.locator("#jp-main-dock-panel").inner_text()
    if "Error displaying widget" in body or "Failed to load model class" in body:
        problems.append("a widget failed to render")
    assert not problems, f"{name}:\n" + "\n".join(problems)


def test_double_click_opens_a_notebook(lab, browser):
    base, token, work = lab
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    try:
        page.goto(f"{base}/lab?reset&token={token}")
        name = NOTEBOOKS[0].name
        item = page.locator(".jp-DirListing-item", has_text=name)
        item.wait_for(timeout=OPEN_S * 1000)
        item.dblclick()
        _assert_opened_as_notebook(page, name)
        page.wait_for_function(  # the cells have loaded (a fresh panel holds one placeholder cell)
            "() => document.querySelectorAll('#jp-main-dock-panel .jp-NotebookPanel .jp-Cell').length > 1",
            timeout=OPEN_S * 1000,
        )
        page.screenshot(path=str(_screenshot_dir(work) / "double_click.png"))
    finally:
        page.close()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_opens_and_runs_in_jupyterlab(lab, browser, path):
    base, token, work = lab
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    shots = _screenshot_dir(work)
    try:
        _open_and_run(page, f"{base}/lab/tree/{path.name}?reset&token={token}", path.name, path.read_text(), shots)
    except Exception:
        page.screenshot(path=str(shots / f"{path.stem}_failed.png"))
        raise
    finally:
        try:  # stop this notebook's kernel; the next test opens a fresh page
            page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.shutdown()")
        except Exception:  # the page may already be broken; the test result stands
            pass
        page.close()


def test_notebooks_listed_by_the_server(lab):
    """The server sees the same notebooks as the repository (guards the copy above)."""
    base, token, _ = lab
    with urllib.request.urlopen(f"{base}/api/contents?token={token}", timeout=10) as r:
        listing = json.load(r)
    names = {item["name"] for item in listing["content"]}
    assert {p.name for p in NOTEBOOKS} <= names

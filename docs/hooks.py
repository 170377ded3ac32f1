"""MkDocs hook: publish the rendered derivations and the notebooks without copying them into docs/.

``derivations/*.md`` (written by ``ibtheory derive --all``) and ``notebooks/*.py`` (jupytext
percent sources, turned into Markdown pages: markdown cells as text, code cells as code blocks,
no execution) are added to the site, with generated index pages listing them.
"""

from __future__ import annotations

from pathlib import Path

from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parent.parent


def on_files(files: Files, config) -> Files:  # noqa: ANN001 - mkdocs config object
    derivations = sorted((ROOT / "derivations").glob("*.md"))
    notebooks = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py"))
    for path in derivations:
        files.append(File.generated(config, f"derivations/{path.name}", abs_src_path=str(path)))
    for path in notebooks:
        files.append(File.generated(config, f"notebooks/{path.stem}.md", content=percent_to_markdown(path)))
    index = [
        "# Derivations",
        "",
        "Rendered from the symbolic layer by `ibtheory derive --all --out derivations`, in the papers'",
        "notation: $p(t|x)$ for the array `p_t_given_x`, sums over bare letters, a dummy index primed",
        "where it meets the free one ($\\sum_{x'} p(x') p(t|x')$), and the derivative with respect to",
        "one entry written $\\partial L/\\partial p(t|x)$ with $x$, $t$ that entry's values.",
        "",
    ]
    index += [f"- [{p.stem}]({p.name})" for p in derivations]
    files.append(File.generated(config, "derivations/index.md", content="\n".join(index) + "\n"))
    nb = ["# Notebooks", "", "Jupytext percent sources, shown without outputs; run them in JupyterLab.", ""]
    nb += [f"- [{p.stem}]({p.stem}.md)" for p in notebooks]
    files.append(File.generated(config, "notebooks/index.md", content="\n".join(nb) + "\n"))
    return files


def percent_to_markdown(path: Path) -> str:
    """A jupytext percent notebook as Markdown (header block dropped)."""
    cells: list[tuple[str, list[str]]] = []
    for line in path.read_text().splitlines():
        if line.startswith("# %%"):
            cells.append(("markdown" if "[markdown]" in line else "code", []))
        elif cells:
            cells[-1][1].append(line)
    out = [f"*Source: `notebooks/{path.name}` (open it in JupyterLab to run it).*", ""]
    for kind, lines in cells:
        if kind == "markdown":
            out += [ln[2:] if ln.startswith("# ") else ln.lstrip("#") for ln in lines]
        else:
            body = "\n".join(lines).strip("\n")
            if body:
                out += ["```python", body, "```"]
        out.append("")
    return "\n".join(out) + "\n"

"""Build the course's notebooks from one source per chapter, in French and in English, and run them.

A chapter source (`notebooks/src/NN-name.py`) defines `CELLS`, a list of `md(fr=..., en=...)` and
`code(...)` cells. Code cells are written once, so both languages run exactly the same code; the
prose is written natively in each language. The built notebooks keep their outputs: nbval checks
them cell by cell in CI.

    python notebooks/build.py            # build and execute every chapter
    python notebooks/build.py 01 03      # only these chapters
    python notebooks/build.py --no-run   # write the notebooks without executing them
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
LANGS = ("fr", "en")
KERNEL = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


@dataclass(frozen=True)
class Markdown:
    """A prose cell, once per language."""

    fr: str
    en: str


@dataclass(frozen=True)
class Code:
    """A code cell, the same in every language; `tags` become cell metadata tags (e.g. nbval markers)."""

    source: str
    tags: tuple[str, ...] = ()


def md(*, fr: str, en: str) -> Markdown:
    """A Markdown cell in both languages."""
    return Markdown(fr.strip("\n"), en.strip("\n"))


def code(source: str, *tags: str) -> Code:
    """A code cell."""
    return Code(source.strip("\n"), tags)


def load(path: Path) -> list:
    """The CELLS of a chapter source."""
    spec = importlib.util.spec_from_file_location(f"chapter_{path.stem.replace('-', '_')}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("build", sys.modules[__name__])
    spec.loader.exec_module(module)
    return module.CELLS


def notebook(cells: list, lang: str) -> nbformat.NotebookNode:
    """One language's notebook for a chapter."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = dict(KERNEL)
    nb.metadata["language_info"] = {"name": "python"}
    for i, cell in enumerate(cells):
        if isinstance(cell, Markdown):
            nb.cells.append(nbformat.v4.new_markdown_cell(getattr(cell, lang)))
        else:
            c = nbformat.v4.new_code_cell(cell.source)
            if cell.tags:
                c.metadata["tags"] = list(cell.tags)
            nb.cells.append(c)
        nb.cells[-1]["id"] = f"c{i:02d}"
    return nb


def execute(nb: nbformat.NotebookNode, cwd: Path, timeout: int = 300) -> None:
    """Run a notebook in its own folder, as JupyterLab would."""
    NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}).execute()


def main(argv: list[str] | None = None) -> int:
    """Build (and run) the chapters named, or all of them."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("chapters", nargs="*", help="chapter numbers, e.g. 01 03 (default: all)")
    p.add_argument("--no-run", action="store_true", help="write the notebooks without executing them")
    p.add_argument("--lang", choices=LANGS, action="append", help="only this language")
    a = p.parse_args(argv)
    sources = sorted((HERE / "src").glob("[0-9][0-9]-*.py"))
    if a.chapters:
        sources = [s for s in sources if s.name[:2] in a.chapters]
    for src in sources:
        cells = load(src)
        for lang in a.lang or LANGS:
            nb = notebook(cells, lang)
            out_dir = HERE / lang
            out_dir.mkdir(exist_ok=True)
            if not a.no_run:
                print(f"running {lang}/{src.stem}.ipynb …", file=sys.stderr, flush=True)
                execute(nb, out_dir)
            nbformat.write(nb, out_dir / f"{src.stem}.ipynb")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    sys.exit(main())

"""The French and English notebooks are one course: same chapters, same code cells, outputs stored, sources in sync."""
from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
CHAPTERS = sorted(p.stem for p in (NOTEBOOKS / "src").glob("[0-9][0-9]-*.py"))


def _builder():
    """notebooks/build.py, imported under the name the chapter sources use (`from build import code, md`)."""
    if "build" not in sys.modules:
        spec = importlib.util.spec_from_file_location("build", NOTEBOOKS / "build.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules["build"] = module
        spec.loader.exec_module(module)
    return sys.modules["build"]


def code_cells(path: Path) -> list[str]:
    nb = json.loads(path.read_text())
    return ["".join(c["source"]) if isinstance(c["source"], list) else c["source"]
            for c in nb["cells"] if c["cell_type"] == "code"]


def test_every_chapter_exists_in_both_languages():
    assert CHAPTERS, "no chapter sources in notebooks/src"
    for lang in ("fr", "en"):
        built = sorted(p.stem for p in (NOTEBOOKS / lang).glob("*.ipynb"))
        assert built == CHAPTERS, f"notebooks/{lang} does not match notebooks/src"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_code_cells_are_identical_across_languages(chapter):
    assert code_cells(NOTEBOOKS / "fr" / f"{chapter}.ipynb") == code_cells(NOTEBOOKS / "en" / f"{chapter}.ipynb")


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_built_notebooks_match_their_source(chapter):
    build = _builder()
    cells = build.load(NOTEBOOKS / "src" / f"{chapter}.py")
    for lang in ("fr", "en"):
        nb = json.loads((NOTEBOOKS / lang / f"{chapter}.ipynb").read_text())
        expected = [getattr(c, lang) if isinstance(c, build.Markdown) else c.source for c in cells]
        got = ["".join(c["source"]) if isinstance(c["source"], list) else c["source"] for c in nb["cells"]]
        assert got == expected, f"{lang}/{chapter}.ipynb is stale: run `make build-notebooks`"
        assert all(c.get("outputs") or c.get("execution_count") for c in nb["cells"] if c["cell_type"] == "code"), \
            f"{lang}/{chapter}.ipynb has code cells that were never run"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_prose_differs_between_languages(chapter):
    fr = json.loads((NOTEBOOKS / "fr" / f"{chapter}.ipynb").read_text())
    en = json.loads((NOTEBOOKS / "en" / f"{chapter}.ipynb").read_text())
    md = [(a, b) for a, b in zip(fr["cells"], en["cells"]) if a["cell_type"] == "markdown"]
    assert md and all(a["source"] != b["source"] for a, b in md), "a prose cell is the same in both languages"

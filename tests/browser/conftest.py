"""The browser test is heavy (every chapter, both languages, run in JupyterLab): it runs only when asked for.

`make screenshots` asks for it (`pytest -m browser tests/browser`); a plain `pytest tests` skips it and says how to run it.
"""
from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    """Skip this folder's tests unless the run selects the `browser` marker."""
    if "browser" in (config.getoption("markexpr", "") or ""):
        return
    skip = pytest.mark.skip(reason="browser screenshot test: run it with `make screenshots` (pytest -m browser tests/browser)")
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(skip)

"""Fixtures for tests that build real labs in namespaces (Linux, no root needed)."""
from __future__ import annotations

from pathlib import Path

import pytest

from k8snet_tutorial import Lab
from k8snet_tutorial.backends.sandbox import SandboxBackend
from labtools import DATA, REPO, unique_name

_detected = SandboxBackend.detect()
if not _detected.available:
    pytest.skip(f"the sandbox cannot run here: {_detected.reason}", allow_module_level=True)


@pytest.fixture(scope="module")
def lab():
    """A fresh three-node sandbox lab for the module, torn down afterwards."""
    lab = Lab.up(unique_name("t"), backend="sandbox", config=str(REPO / "kind-config.yaml"))
    yield lab
    lab.down()


@pytest.fixture
def data() -> Path:
    """The folder of test manifests."""
    return DATA

"""Fixtures for the tests that need a real kind cluster; the whole folder is skipped when kind cannot run here."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from k8snet_tutorial.backends.kind import KindBackend

REPO = Path(__file__).resolve().parents[2]

HERE = Path(__file__).resolve().parent
_detection = KindBackend.detect()


def pytest_collection_modifyitems(config, items):
    """Skip every test of this folder, with detection's reason, when kind or its engine is missing."""
    if _detection.available:
        return
    skip = pytest.mark.skip(reason=f"kind backend unavailable: {_detection.reason}")
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def kind_config():
    """The kind config under test: $K8SNET_CONFIG, else the repository's kind-config.yaml."""
    from k8snet_tutorial.config import load_config
    return load_config(os.environ.get("K8SNET_CONFIG") or REPO / "kind-config.yaml")


@pytest.fixture(scope="session")
def progress_log():
    """Every progress line the backend reported during the session."""
    return []


@pytest.fixture(scope="session")
def backend(kind_config, progress_log):
    """A running kind cluster: reused when one of the same shape exists, created (and later deleted) otherwise."""
    b = KindBackend(kind_config)
    account = b.up(progress_log.append)
    yield b
    if account.startswith(f"kind cluster {kind_config.name!r} created") and not os.environ.get("K8SNET_KEEP_CLUSTER"):
        b.down()


@pytest.fixture(scope="session")
def manifests_dir():
    """The repository's manifests folder."""
    return REPO / "manifests"


@pytest.fixture(scope="module")
def chapter02(backend, manifests_dir):
    """Chapter 02's objects, applied (rollouts waited for); deleted after the module."""
    from k8snet_tutorial.manifests import load_paths
    objects = load_paths([manifests_dir / "02-pods-nodes-services"])
    lines = backend.apply(objects)
    yield objects, lines
    backend.delete(list(reversed(objects)))

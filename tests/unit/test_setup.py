"""The two-command setup: the Makefile's bootstrap order, nbval's default sanitizer, and the lab-name sanitizers."""
from __future__ import annotations

import importlib.util
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def recipe(target: str) -> list[str]:
    """The command lines of one Makefile rule."""
    lines = (ROOT / "Makefile").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{target}:"))
    body = []
    for line in lines[start + 1:]:
        if not line.startswith("\t"):
            break
        body.append(line.strip().lstrip("@"))
    return body


def test_the_bootstrap_installs_before_the_venv_is_created() -> None:
    stamp = recipe("$(STAMP)")
    assert stamp[0] == "$(PYTHON) k8snet_tutorial/preflight.py --install"
    assert stamp[1] == "$(PYTHON) -m venv $(VENV)"
    assert recipe("preflight") == ["$(BIN)/python -m k8snet_tutorial.preflight --install"]


def test_nbval_runs_use_the_default_sanitizer() -> None:
    options = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert "--nbval-sanitize-with=notebooks/sanitize.cfg" in options["addopts"]
    assert (ROOT / "notebooks" / "sanitize.cfg").is_file()
    for target in ("test", "notebooks"):
        assert not any("sanitize" in line for line in recipe(target)), f"{target} names the sanitizer again"


def test_ci_relies_on_make_test() -> None:
    script = (ROOT / ".ci" / "run").read_text()
    assert script.rstrip().endswith("make test </dev/null")
    assert "sudo -n" in script


def conftest():
    """notebooks/conftest.py, loaded as a module."""
    spec = importlib.util.spec_from_file_location("notebooks_conftest", ROOT / "notebooks" / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def sanitize(text: str, cluster: str | None) -> str:
    """What nbval compares: the file's patterns first, then the lab-name patterns, as notebooks/conftest.py orders them."""
    from nbval.plugin import get_sanitize_patterns
    patterns = dict(get_sanitize_patterns((ROOT / "notebooks" / "sanitize.cfg").read_text()))
    for regex, replace in conftest().cluster_patterns(cluster).items():
        patterns.pop(regex, None)
        patterns[regex] = replace
    for regex, replace in patterns.items():
        text = re.sub(regex, replace, text)
    return text


STORED = (
    "NAME      READY   STATUS    RESTARTS   AGE   IP           NODE             NOMINATED NODE   READINESS GATES\n"
    "cart      1/1     Running   0          5s    10.244.2.2   k8snet-worker2   <none>           <none>\n"
    "lab 'k8snet' (sandbox): running, kube-proxy iptables\n"
    "  k8snet-nft-control-plane     172.18.0.2\n"
)
OTHER = (
    "NAME      READY   STATUS    RESTARTS   AGE   IP           NODE            NOMINATED NODE   READINESS GATES\n"
    "cart      1/1     Running   0          12s   10.244.2.2   other-worker2   <none>           <none>\n"
    "lab 'other' (sandbox): running, kube-proxy iptables\n"
    "  k8snet-nft-control-plane     172.18.0.2\n"
)


def test_another_lab_name_compares_equal_to_the_stored_outputs() -> None:
    assert sanitize(STORED, "other") == sanitize(OTHER, "other")
    assert "CLUSTER-worker2" in sanitize(OTHER, "other") and "k8snet-nft-control-plane" in sanitize(OTHER, "other")


def test_the_default_name_keeps_the_column_padding() -> None:
    assert sanitize(STORED, None) == sanitize(STORED, "k8snet")
    assert "   NOMINATED" in sanitize(STORED, None)
    assert "AGE   IP" in sanitize(STORED, None)


def test_a_word_equal_to_the_lab_name_is_left_alone() -> None:
    text = "no other pod answered; another-worker is not a node of this lab"
    assert sanitize(text, "other") == text


def test_a_name_with_regex_characters_is_escaped() -> None:
    assert sanitize("lab.1-worker labx1-worker", "lab.1") == "CLUSTER-worker labx1-worker"


def test_the_sanitizer_file_is_found_from_another_folder(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """addopts' relative path, seen from a folder that is not the repository's root, is made absolute."""
    module = conftest()

    class Option:
        nbval_sanitize_with = "notebooks/sanitize.cfg"

    class Config:
        option = Option()
        rootpath = ROOT

    class Notebook:
        sanitize_patterns: dict = {}

    class Item:
        config = Config()
        parent = Notebook()

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("K8SNET_CLUSTER", "other")
    hook = module.pytest_runtest_setup(Item())
    next(hook)
    assert Item.config.option.nbval_sanitize_with == str(ROOT / "notebooks" / "sanitize.cfg")
    with pytest.raises(StopIteration):
        next(hook)
    assert list(Notebook.sanitize_patterns.values())[-1] == "  "

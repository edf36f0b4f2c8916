"""The predict-then-probe grid: predictions, the evaluator's and the kernel's answers side by side."""
from __future__ import annotations

import pytest

from k8snet_tutorial.errors import K8snetError
from k8snet_tutorial.matrix import Cell, Matrix
from k8snet_tutorial.widgets import prediction_grid


class FakeLab:
    """Two pods; a matrix where a->b is allowed and b->a is denied (the kernel disagrees with policies on b->a)."""

    def __init__(self) -> None:
        self.calls = []

    def pods(self, ns):
        return [{"metadata": {"name": n}, "status": {"podIP": ip}} for n, ip in (("a", "10.244.1.2"), ("b", "10.244.2.2"))]

    def matrix(self, namespaces, ports, protocols, timeout):
        self.calls.append((namespaces, ports, protocols, timeout))
        cells = [Cell("x/a", "x/b", 80, "TCP", "allowed", "connected", expected="allowed"),
                 Cell("x/b", "x/a", 80, "TCP", "denied", "timeout", expected="allowed"),
                 Cell("x/a", "x/a", 80, "TCP", "allowed", "connected", expected="allowed", loopback=True),
                 Cell("x/b", "x/b", 80, "TCP", "allowed", "connected", expected="allowed", loopback=True)]
        return Matrix(["x/a", "x/b"], cells)


def test_prediction_then_probe_scores_against_the_kernel():
    lab = FakeLab()
    grid = prediction_grid(lab, "x", port=80)
    assert "0 of 2 cells predicted" in grid.text()
    grid.predict({("x/a", "x/b"): "allowed", ("x/b", "x/a"): "allowed"})
    grid.run()
    assert lab.calls == [(["x"], [80], ["tcp"], 0.5)]
    assert grid.score == (1, 2)
    text = grid.text()
    assert "./././" not in text and "././." in text and "././X" in text
    assert grid.buttons[("x/a", "x/b")].button_style == "success"
    assert grid.buttons[("x/b", "x/a")].button_style == "danger"


def test_clicking_cycles_the_prediction():
    grid = prediction_grid(FakeLab(), "x")
    button = grid.buttons[("x/a", "x/b")]
    button.click()
    assert grid.prediction[("x/a", "x/b")] == "allowed" and button.description == "."
    button.click()
    assert grid.prediction[("x/a", "x/b")] == "denied" and button.description == "X"


def test_unknown_cell_is_refused():
    with pytest.raises(K8snetError):
        prediction_grid(FakeLab(), "x").predict({("x/a", "x/zzz"): "allowed"})

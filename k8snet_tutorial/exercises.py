"""Exercise checks for the notebooks: a learner's answer against what the live lab says."""
from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from .i18n import _


@dataclass
class Check:
    """The verdict on one answer: not answered yet, right, or not quite (with a hint)."""

    answered: bool
    correct: bool
    hint: str = ""

    def __str__(self) -> str:
        if not self.answered:
            return _("⏳ Not answered yet: fill in your answer and run the cell again.")
        if self.correct:
            return _("✔ Correct!")
        return _("✘ Not quite.") + (f" {self.hint}" if self.hint else "")

    def _repr_pretty_(self, p, cycle) -> None:
        p.text(str(self))

    def _repr_html_(self) -> str:
        colour = "#616161" if not self.answered else ("#2e7d32" if self.correct else "#c62828")
        return f'<span style="color:{colour}">{html.escape(str(self))}</span>'


def _normal(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip().rstrip(".").lower()
    if isinstance(value, (list, tuple, set, frozenset)):
        return sorted(_normal(v) for v in value)
    return value


def check(answer: Any, *, expected: Any, hint: str = "") -> Check:
    """Compare an answer with the expected value (strings compared without case or surrounding spaces)."""
    if answer is None:
        return Check(False, False)
    return Check(True, _normal(answer) == _normal(expected), hint)

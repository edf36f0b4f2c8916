"""Result objects returned by the library: they render as text in a terminal and as HTML in Jupyter."""
from __future__ import annotations

import html
import json
from dataclasses import asdict, dataclass, field

from .i18n import N_, _


@dataclass
class CommandResult:
    """The outcome of a command run in a pod, on a node or through kubectl."""

    command: list[str]
    returncode: int
    stdout: str = ""
    stderr: str = ""

    @property
    def ok(self) -> bool:
        """True when the command exited with status 0."""
        return self.returncode == 0

    def __str__(self) -> str:
        out = self.stdout
        if self.stderr:
            out += ("" if not out or out.endswith("\n") else "\n") + self.stderr
        return out.rstrip("\n")

    def __repr__(self) -> str:
        return str(self) if self.ok else f"{self}\n[exit code {self.returncode}]"

    def _repr_pretty_(self, p, cycle) -> None:  # IPython: show the output like a terminal would
        p.text(repr(self))


PROBE_OUTCOMES = ("connected", "refused", "timeout", "unresolved", "unreachable", "error")
# How an outcome reads in a sentence (the `outcome` field itself stays one of PROBE_OUTCOMES, in English: it is API).
OUTCOME_WORDS = {"connected": N_("connected"), "refused": N_("refused"), "timeout": N_("timeout"),
                 "unresolved": N_("unresolved"), "unreachable": N_("unreachable"), "error": N_("error")}


def outcome_word(outcome: str) -> str:
    """A probe outcome as a word of the current language ('connected' → 'connecté' in French)."""
    return _(OUTCOME_WORDS[outcome]) if outcome in OUTCOME_WORDS else outcome


@dataclass
class ProbeResult:
    """One probe: where it went, what happened to the packet, and who answered."""

    source: str
    target: str
    address: str | None
    port: int | None
    protocol: str
    outcome: str
    responder: str | None = None
    seen_source: str | None = None
    latency_ms: float | None = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        """True when the connection was established."""
        return self.outcome == "connected"

    def to_dict(self) -> dict:
        """A JSON-ready dict."""
        return asdict(self)

    def to_json(self) -> str:
        """The result as one JSON object."""
        return json.dumps(self.to_dict(), sort_keys=True)

    def summary(self, *, timing: bool = True) -> str:
        """One line: source → target, outcome, responder and the source IP it saw."""
        dest = f"{self.address}:{self.port}" if self.address else self.target
        line = f"{self.source} -> {self.target} ({dest}/{self.protocol}): {outcome_word(self.outcome)}"
        if self.responder:
            line += ", " + _("answered by {pod}").format(pod=self.responder)
        if self.seen_source:
            line += ", " + _("saw source {address}").format(address=self.seen_source)
        if timing and self.latency_ms is not None:
            line += f", {self.latency_ms:.1f} ms"
        if self.detail and not self.ok:
            line += f" ({self.detail})"
        return line

    def __str__(self) -> str:
        return self.summary()

    def _repr_pretty_(self, p, cycle) -> None:
        p.text(self.summary())

    def _repr_html_(self) -> str:
        colour = "#2e7d32" if self.ok else "#c62828"
        return f'<span style="color:{colour}">{"✔" if self.ok else "✘"}</span> {html.escape(self.summary())}'


@dataclass
class Status:
    """What `k8snet status` reports about a lab."""

    name: str
    backend: str
    running: bool
    nodes: list[dict] = field(default_factory=list)
    proxy_mode: str | None = None
    detail: str = ""

    def to_dict(self) -> dict:
        """A JSON-ready dict."""
        return asdict(self)

    def __str__(self) -> str:
        if not self.running:
            return _("lab {name} ({backend}): not running").format(name=repr(self.name), backend=self.backend) + (
                f" — {self.detail}" if self.detail else "")
        lines = [_("lab {name} ({backend}): running, kube-proxy mode {mode}").format(
            name=repr(self.name), backend=self.backend, mode=self.proxy_mode)]
        for n in self.nodes:
            lines.append(f"  {n['name']:<28} {n.get('ip', ''):<15} {n.get('podCIDR', '')}")
        return "\n".join(lines)

    def _repr_pretty_(self, p, cycle) -> None:
        p.text(str(self))

"""Backend registry and auto-detection: kind where kind and a container engine work, else the sandbox."""
from __future__ import annotations

import os

from ..config import ClusterConfig
from ..errors import EnvironmentProblem, UsageError
from ..i18n import _
from .base import Backend, Capabilities, Detection

CHOICES = ("auto", "kind", "sandbox")


def backend_class(name: str) -> type[Backend]:
    """The Backend class for a name (imported lazily: the kind backend pulls in the kubernetes client)."""
    if name == "sandbox":
        from .sandbox import SandboxBackend
        return SandboxBackend
    if name == "kind":
        from .kind import KindBackend
        return KindBackend
    raise UsageError(_("unknown backend {name}: choose one of {choices}").format(name=repr(name),
                                                                                choices=", ".join(CHOICES)))


def choose(requested: str | None = None) -> tuple[str, str]:
    """Pick a backend name and say why: an explicit choice, K8SNET_BACKEND, or detection (kind first)."""
    requested = requested or os.environ.get("K8SNET_BACKEND") or "auto"
    if requested not in CHOICES:
        raise UsageError(_("unknown backend {name} (from --backend or K8SNET_BACKEND): choose one of {choices}")
                         .format(name=repr(requested), choices=", ".join(CHOICES)))
    if requested != "auto":
        return requested, _("chosen explicitly")
    kind = backend_class("kind").detect()
    if kind.available:
        return "kind", kind.reason
    sandbox = backend_class("sandbox").detect()
    if sandbox.available:
        return "sandbox", _("the sandbox, since kind cannot run here: {why}").format(why=kind.reason)
    raise EnvironmentProblem(_("no backend can run on this machine: kind: {kind}; sandbox: {sandbox}").format(
        kind=kind.reason, sandbox=sandbox.reason))


def make_backend(name: str, config: ClusterConfig, context: str | None = None) -> Backend:
    """Instantiate a backend after checking it can run here."""
    cls = backend_class(name)
    if name == "sandbox" or not context:
        found = cls.detect()
        if not found.available:
            raise EnvironmentProblem(_("the {name} backend cannot run here: {why}").format(name=name, why=found.reason))
    return cls(config, context=context)


__all__ = ["Backend", "Capabilities", "Detection", "CHOICES", "backend_class", "choose", "make_backend"]

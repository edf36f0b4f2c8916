"""The small interface every backend implements, with the capability flags notebooks check."""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Callable, ClassVar

from ..config import ClusterConfig
from ..i18n import _, ngettext
from ..results import CommandResult, ProbeResult, Status

Progress = Callable[[str], None]


def no_progress(_: str) -> None:
    """A progress callback that shows nothing."""


@dataclass(frozen=True)
class Capabilities:
    """What a backend can do; notebooks read these to run a cell or explain why it is skipped."""

    service_types: frozenset[str] = frozenset()
    proxy_modes: frozenset[str] = frozenset()
    network_policy: bool = False
    ingress: bool = False
    load_balancer: bool = False
    multi_cluster: bool = False
    notes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Detection:
    """Whether a backend can run on this machine, and why not when it cannot."""

    available: bool
    reason: str


class Backend(ABC):
    """A place where a lab's cluster runs: a kind cluster or the namespace sandbox."""

    name: ClassVar[str]
    capabilities: ClassVar[Capabilities]

    def __init__(self, config: ClusterConfig, *, context: str | None = None) -> None:
        self.config = config
        self.context = context

    @classmethod
    @abstractmethod
    def detect(cls) -> Detection:
        """Say whether this backend can run here, without starting anything."""

    @abstractmethod
    def up(self, progress: Progress = no_progress) -> str:
        """Provision the cluster (or reuse a running one) and return a one-line account of what happened."""

    @abstractmethod
    def down(self) -> str:
        """Tear the cluster down and return a one-line account of what was removed."""

    SYSTEM_NAMESPACES = ("default", "kube-node-lease", "kube-public", "kube-system", "local-path-storage")

    def reset(self, progress: Progress = no_progress) -> str:
        """Bring the cluster back to a fresh state: every namespace and object a learner made is deleted."""
        doomed: list[dict] = []
        for ns in self.list_objects("Namespace"):
            if ns["metadata"]["name"] not in self.SYSTEM_NAMESPACES:
                doomed.append(ns)
        for kind in ("Deployment", "ReplicaSet", "Pod", "Service", "NetworkPolicy", "Ingress", "ConfigMap"):
            for obj in self.list_objects(kind, "default"):
                owned = obj["metadata"].get("ownerReferences")
                if not owned and not (kind == "Service" and obj["metadata"]["name"] == "kubernetes") and not (
                        kind == "ConfigMap" and obj["metadata"]["name"] == "kube-root-ca.crt"):
                    doomed.append({"apiVersion": obj.get("apiVersion", "v1"), "kind": kind,
                                   "metadata": {"name": obj["metadata"]["name"], "namespace": "default"}})
        if doomed:
            progress(ngettext("deleting {n} object left by earlier chapters…",
                              "deleting {n} objects left by earlier chapters…", len(doomed)).format(n=len(doomed)))
            self.delete(doomed)
        return ngettext("{n} object deleted", "{n} objects deleted", len(doomed)).format(n=len(doomed))

    @abstractmethod
    def status(self) -> Status:
        """Report whether the cluster runs, with its nodes."""

    @abstractmethod
    def apply(self, objects: list[dict], progress: Progress = no_progress) -> list[str]:
        """Create or update objects; return kubectl-style lines (`pod/x created`)."""

    @abstractmethod
    def delete(self, objects: list[dict]) -> list[str]:
        """Delete objects; return kubectl-style lines (`pod "x" deleted`)."""

    @abstractmethod
    def list_objects(self, kind: str, namespace: str | None = None, selector: str | None = None) -> list[dict]:
        """List objects of a kind as API dicts (namespace None means all namespaces)."""

    @abstractmethod
    def kubectl(self, args: list[str]) -> CommandResult:
        """Run a kubectl command against the cluster."""

    @abstractmethod
    def exec(self, pod: str | None, command: list[str], *, namespace: str = "default",
             container: str | None = None, node: str | None = None, timeout: float = 30) -> CommandResult:
        """Run a command inside a pod's (or, with node=, a node's) namespaces."""

    def kill(self, pod: str, *, namespace: str = "default", container: str | None = None) -> str:
        """Crash a container on purpose (the backend decides how: stop its server, or kill its main process)."""
        argv = ["sh", "-c", "kill 1"]
        r = self.exec(pod, argv, namespace=namespace, container=container)
        return _('container of pod "{pod}" killed').format(pod=pod) if r.ok else str(r)

    @abstractmethod
    def probe(self, source: str, target: str, *, namespace: str = "default", port: int | None = None,
              protocol: str = "tcp", timeout: float = 2.0) -> ProbeResult:
        """Send a real connection from a pod to a target and report what happened."""

"""`Lab`: the one object notebooks and the CLI use, whatever backend runs the cluster."""
from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path
from typing import Callable, Sequence

from . import backends
from .backends.base import Backend, Progress, no_progress
from .config import ClusterConfig, load_config
from .errors import UsageError
from .i18n import _, ngettext
from .manifests import load_paths
from .results import CommandResult, ProbeResult, Status, outcome_word

REPO = Path(__file__).resolve().parent.parent


def _marker(name: str) -> Path:
    from .backends.sandbox import runtime_dir
    return runtime_dir() / f"{name}.backend"


def _resolve_paths(paths: Sequence[str | os.PathLike]) -> list[str]:
    """Accept paths relative to the current folder or, failing that, to the course's root (for notebooks)."""
    out = []
    for p in paths:
        s = str(p)
        if s != "-" and not os.path.exists(s) and (REPO / s).exists():
            s = str(REPO / s)
        out.append(s)
    return out


class Lab:
    """A lab: a cluster on some backend, plus the verbs a learner needs (apply, kubectl, exec, probe, …)."""

    def __init__(self, name: str | None = None, *, backend: str | None = None, config: str | ClusterConfig | None = None,
                 context: str | None = None, progress: Progress | None = None) -> None:
        if isinstance(config, (str, os.PathLike)):
            config = _resolve_paths([config])[0]
        cfg = config if isinstance(config, ClusterConfig) else load_config(config, name=name)
        self.config = cfg
        self.name = cfg.name
        self.context = context or os.environ.get("K8SNET_CONTEXT")
        self.progress = progress or no_progress
        requested = backend or os.environ.get("K8SNET_BACKEND")
        if not requested or requested == "auto":
            recorded = _marker(self.name)
            requested = recorded.read_text().strip() if recorded.exists() else "auto"
        if self.context and requested == "auto":
            requested = "kind"
        self.backend_name, self.backend_reason = backends.choose(requested)
        self.backend: Backend = backends.make_backend(self.backend_name, cfg, self.context)

    # -- lifecycle -------------------------------------------------------------
    @classmethod
    def up(cls, name: str | None = None, *, backend: str | None = None, config: str | ClusterConfig | None = None,
           context: str | None = None, progress: Progress | bool | None = None, fresh: bool = False) -> "Lab":
        """Start the lab (or reuse the running one) and return it.

        fresh=True gives a clean cluster (what every chapter starts from); progress=True prints progress to stderr.
        """
        if progress is True:
            progress = _stderr_progress
        lab = cls(name, backend=backend, config=config, context=context, progress=progress or None)
        was_running = fresh and lab.backend.status().running
        lab.start()
        if was_running:
            lab.backend.reset(lab.progress)
            lab.message = _("lab {name} ({backend}) is up, starting fresh").format(name=repr(lab.name),
                                                                                  backend=lab.backend_name)
        return lab

    def start(self) -> str:
        """Start this lab's cluster (what `Lab.up()` does for a new object); returns the backend's account."""
        self.message = self.backend.up(self.progress)
        marker = _marker(self.name)
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(self.backend_name + "\n")
        return self.message

    def down(self) -> str:
        """Tear the lab down and forget its backend choice."""
        message = self.backend.down()
        _marker(self.name).unlink(missing_ok=True)
        return message

    def status(self) -> Status:
        """Whether the lab runs, on which backend, with which nodes."""
        return self.backend.status()

    @property
    def capabilities(self):
        """What this lab's backend can do."""
        return self.backend.capabilities

    # -- objects -----------------------------------------------------------------
    def apply(self, *paths: str | os.PathLike, stdin=None) -> "Lines":
        """Apply manifest files or folders (or '-' with stdin); returns kubectl-style lines."""
        if not paths:
            raise UsageError(_("apply: give at least one file or folder (or '-' for standard input)"))
        objects = load_paths(_resolve_paths(paths), stdin=stdin)
        return Lines(self.backend.apply(objects, self.progress))

    def delete(self, *paths: str | os.PathLike, stdin=None) -> "Lines":
        """Delete the objects described by manifest files or folders."""
        objects = load_paths(_resolve_paths(paths), stdin=stdin)
        return Lines(self.backend.delete(list(reversed(objects))))

    def kubectl(self, args: str | Sequence[str]) -> CommandResult:
        """Run kubectl against the lab: `lab.kubectl("get pods -o wide")`."""
        argv = shlex.split(args) if isinstance(args, str) else list(args)
        if argv and argv[0] == "kubectl":
            argv = argv[1:]
        for i, arg in enumerate(argv[:-1]):
            if arg in ("-f", "--filename"):
                argv[i + 1] = _resolve_paths([argv[i + 1]])[0]
        return self.backend.kubectl(argv)

    def pods(self, namespace: str | None = "default", selector: str | None = None) -> list[dict]:
        """Pods as API dicts (namespace None for all namespaces)."""
        return self.backend.list_objects("Pod", namespace, selector)

    def objects(self, kind: str, namespace: str | None = None, selector: str | None = None) -> list[dict]:
        """Objects of any kind as API dicts."""
        return self.backend.list_objects(kind, namespace, selector)

    def pod_ip(self, pod: str, namespace: str = "default") -> str:
        """A pod's IP address."""
        for p in self.pods(namespace):
            if p["metadata"]["name"] == pod:
                return p["status"]["podIP"]
        raise UsageError(_('pod "{name}" not found in namespace {namespace}').format(name=pod, namespace=repr(namespace)))

    # -- commands and packets -------------------------------------------------------
    def exec(self, pod: str | None, command: str | Sequence[str], *, namespace: str = "default",
             container: str | None = None, node: str | None = None, timeout: float = 30) -> CommandResult:
        """Run a command in a pod (or on a node with node=NAME): `lab.exec("web", "ip addr")`."""
        argv = shlex.split(command) if isinstance(command, str) else list(command)
        return self.backend.exec(pod, argv, namespace=namespace, container=container, node=node, timeout=timeout)

    def node_exec(self, node: str, command: str | Sequence[str], timeout: float = 30) -> CommandResult:
        """Run a command on a node: `lab.node_exec("k8snet-worker", "ip route")`."""
        return self.exec(None, command, node=node, timeout=timeout)

    def probe(self, source: str, target: str, *, namespace: str = "default", port: int | None = None,
              protocol: str = "tcp", timeout: float = 2.0) -> ProbeResult:
        """Open a real connection from a pod to a target (pod, IP, IP:port or URL) and report what happened."""
        if protocol.lower() not in ("tcp", "udp"):
            raise UsageError(_("probe: protocol must be tcp or udp, not {protocol}").format(protocol=repr(protocol)))
        return self.backend.probe(source, target, namespace=namespace, port=port, protocol=protocol, timeout=timeout)

    def spread(self, source: str, target: str, n: int = 30, *, namespace: str = "default", port: int | None = None,
               protocol: str = "tcp", timeout: float = 2.0) -> "Spread":
        """Send n requests (n ≤ 1000) from a pod to a Service and count which endpoint answered each."""
        if not 1 <= n <= 1000:
            raise UsageError(_("spread: n must be between 1 and 1000"))
        results = [self.probe(source, target, namespace=namespace, port=port, protocol=protocol, timeout=timeout)
                   for _ in range(n)]
        return Spread(target, results)

    def matrix(self, namespaces: Sequence[str] = ("default",), ports: Sequence[int] = (80,),
               protocols: Sequence[str] = ("tcp",), timeout: float = 0.5):
        """Every pod of the namespaces probes every other one on each port: who can reach whom."""
        from .matrix import run_matrix
        return run_matrix(self, list(namespaces), list(ports), list(protocols), timeout)

    def explain(self, source: str, target: str, *, port: int, protocol: str = "tcp", namespace: str = "default"):
        """Why a pod may (or may not) reach another: the policies' verdict, the real probe, the rules it hit."""
        from .explain import explain
        return explain(self, source, target, port=port, protocol=protocol, namespace=namespace)

    def kill(self, pod: str, *, namespace: str = "default", container: str | None = None) -> str:
        """Make a container crash (its server or process stops): readiness fails, then the kubelet restarts it."""
        return self.backend.kill(pod, namespace=namespace, container=container)

    def diagram(self, *, namespace: str | None = None, highlight: ProbeResult | None = None, **options):
        """A graphviz picture of the live topology: nodes holding their pods, Services and a probe's path."""
        from .diagrams import topology_diagram
        return topology_diagram(self, namespace=namespace, highlight=highlight, **options)

    def __repr__(self) -> str:
        return f"Lab(name={self.name!r}, backend={self.backend_name!r})"


class Spread:
    """How n requests to one target were shared among the pods that answered."""

    def __init__(self, target: str, results: list[ProbeResult]) -> None:
        self.target = target
        self.results = results
        self.counts: dict[str, int] = {}
        for r in results:
            key = r.responder if r.ok and r.responder else f"({r.outcome})"
            self.counts[key] = self.counts.get(key, 0) + 1

    def __str__(self) -> str:
        # Failed requests are counted under "(outcome)" in English (data); shown here in the learner's language.
        labels = {k: f"({outcome_word(k[1:-1])})" if k.startswith("(") and k.endswith(")") else k for k in self.counts}
        width = max((len(v) for v in labels.values()), default=8)
        n = len(self.results)
        lines = [ngettext("{n} request to {target}:", "{n} requests to {target}:", n).format(n=n, target=self.target)]
        for key, count in sorted(self.counts.items()):
            lines.append(f"  {labels[key]:<{width}}  {count:>4}  {'#' * count}")
        return "\n".join(lines)

    def _repr_pretty_(self, p, cycle) -> None:
        p.text(str(self))


class Lines(list):
    """kubectl-style result lines that print one per line."""

    def __str__(self) -> str:
        return "\n".join(self)

    def _repr_pretty_(self, p, cycle) -> None:
        p.text(str(self))


def _stderr_progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)

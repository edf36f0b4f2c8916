"""The kind backend: a real Kubernetes cluster in Docker or Podman containers, built by kind and driven by the official client."""
from __future__ import annotations

import ipaddress
import json
import os
import queue
import re
import shutil
import subprocess
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator
from urllib.parse import urlsplit

import yaml

from ..config import ClusterConfig
from ..errors import EnvironmentProblem, K8snetError, LabNotRunning, ManifestError, UsageError
from ..i18n import N_, _
from ..results import CommandResult, ProbeResult, Status
from .base import Backend, Capabilities, Detection, Progress, no_progress

TOOLS_IMAGE = "nicolaka/netshoot:v0.13"
DEBUG_CONTAINER = "k8snet-probe"
FIELD_MANAGER = "k8snet"
RUNTIMES = ("docker", "podman", "nerdctl")
HTTP_PORTS = {80: "http", 8080: "http", 8000: "http", 443: "https"}
IMAGE_PULL_REASONS = frozenset({"ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull"})
INFO_TIMEOUT = 5.0          # `docker info` must answer within this many seconds
API_TIMEOUT = 30            # one API request
CREATE_TIMEOUT = 900.0      # `kind create cluster`, image pull included
READY_TIMEOUT = 300.0       # nodes Ready and CoreDNS available
ROLLOUT_TIMEOUT = 300.0     # workloads applied by apply(), image pulls included
DELETE_TIMEOUT = 90.0       # objects gone after delete()
DEBUG_TIMEOUT = 120.0       # the probe tools container running
PULL_GRACE = 15.0           # how long an image pull may fail before we say so
NOTE_EVERY = 5.0            # seconds between progress messages while waiting
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


# ----------------------------------------------------------------------------------------------
# Pure helpers (unit-tested without a cluster)
# ----------------------------------------------------------------------------------------------

def _meaningful_line(text: str) -> str:
    """The line of a tool's output that best says what went wrong."""
    lines = [ln.strip() for ln in _ANSI.sub("", text or "").splitlines() if ln.strip()]
    for needle in ("Cannot connect", "permission denied", "ERROR:", "Error", "error"):
        for ln in lines:
            if needle in ln:
                return ln
    return lines[-1] if lines else "no output"


def runtime_answers(runtime: str) -> tuple[bool, str]:
    """Ask a container engine whether it answers (`docker info`, `podman info`) within a few seconds."""
    if not shutil.which(runtime):
        return False, _("`{runtime}` is not installed").format(runtime=runtime)
    try:
        r = subprocess.run([runtime, "info"], capture_output=True, text=True, timeout=INFO_TIMEOUT)
    except subprocess.TimeoutExpired:
        return False, _("`{runtime} info` did not answer within {seconds} s").format(runtime=runtime,
                                                                                    seconds=f"{INFO_TIMEOUT:g}")
    except OSError as e:
        return False, _("`{runtime} info` could not run ({error})").format(runtime=runtime, error=e)
    if r.returncode == 0:
        return True, ""
    return False, _("`{runtime} info` failed ({why})").format(runtime=runtime,
                                                             why=_meaningful_line(r.stderr + chr(10) + r.stdout))


def find_runtime() -> tuple[str | None, str]:
    """Pick the engine kind would use (KIND_EXPERIMENTAL_PROVIDER, else docker, else podman) among those that answer."""
    forced = os.environ.get("KIND_EXPERIMENTAL_PROVIDER", "").strip()
    candidates = [forced] if forced in RUNTIMES else ["docker", "podman"]
    problems = []
    for runtime in candidates:
        ok, why = runtime_answers(runtime)
        if ok:
            return runtime, ""
        problems.append(why)
    return None, "; ".join(problems)


def detect_kind() -> tuple[Detection, str | None]:
    """Check for `kind` on PATH and a working Docker or Podman; return the verdict and the engine found."""
    if not shutil.which("kind"):
        return Detection(False, _("kind is not installed (no `kind` on PATH): install it from {url}, or use the"
                                  " sandbox backend.").format(
            url="https://kind.sigs.k8s.io/docs/user/quick-start/#installation")), None
    runtime, why = find_runtime()
    if runtime is None:
        return Detection(False, _("kind is installed but no container engine answers ({why}): start Docker or"
                                  " Podman, or use the sandbox backend.").format(why=why)), None
    return Detection(True, _("kind and {runtime} are ready.").format(runtime=runtime)), runtime


def parse_name_lines(output: str) -> list[str]:
    """Names printed one a line by `kind get clusters` / `kind get nodes`, without kind's notices."""
    names = []
    for line in _ANSI.sub("", output or "").splitlines():
        line = line.strip()
        if not line or line.startswith(("No kind ", "enabling experimental", "using ", "WARNING", "ERROR")):
            continue
        if " " in line:
            continue
        names.append(line)
    return names


def node_role(node: str, cluster: str) -> str:
    """A kind node's role from its name: control-plane, worker or external-load-balancer."""
    suffix = node[len(cluster) + 1:] if node.startswith(cluster + "-") else node
    for role in ("control-plane", "worker", "external-load-balancer"):
        if re.fullmatch(re.escape(role) + r"\d*", suffix):
            return role
    return "unknown"


def parse_proxy_mode(config_conf: str | None) -> str:
    """kube-proxy's mode from its `config.conf` (KubeProxyConfiguration YAML); empty means iptables."""
    mode = None
    try:
        data = yaml.safe_load(config_conf or "")
        if isinstance(data, dict):
            mode = data.get("mode")
    except yaml.YAMLError:
        m = re.search(r"^mode:\s*['\"]?([A-Za-z]*)['\"]?\s*$", config_conf or "", re.M)
        mode = m.group(1) if m else None
    return str(mode).strip() if mode else "iptables"


def shape_differences(config: ClusterConfig, node_names: list[str], proxy_mode: str | None) -> list[str]:
    """What differs between a running kind cluster (its node names, kube-proxy mode) and the config."""
    problems = []
    actual = sorted(n for n in node_names if node_role(n, config.name) != "external-load-balancer")
    wanted = sorted(n.name for n in config.nodes)
    if wanted and actual != wanted:
        def describe(names: list[str]) -> str:
            return ", ".join(f"{n} ({node_role(n, config.name)})" for n in names) or "none"
        problems.append(f"its nodes are {describe(actual)} but the config asks for {describe(wanted)}")
    if proxy_mode is not None and proxy_mode != config.proxy_mode:
        problems.append(f"kube-proxy runs in {proxy_mode} mode but the config asks for {config.proxy_mode}")
    return problems


def host_ports(config: ClusterConfig | None) -> list[tuple[int, str, int]]:
    """Host ports the config publishes: (hostPort, node name, containerPort)."""
    if config is None:
        return []
    return [(hp, n.name, cp) for n in config.nodes for (cp, hp, _proto) in n.port_mappings]


_BUSY_PORT = re.compile(r"(?:Bind for|listen (?:tcp|udp)[46]?|exposing port (?:TCP|UDP)|failed to bind port)"
                        r"\s+\[?[0-9A-Fa-f.:]*\]?:(\d+)")


def explain_kind_failure(output: str, config: ClusterConfig | None = None,
                         action: str = "create the cluster") -> K8snetError:
    """Turn kind's (or Docker's) failure output into one paragraph that says what to do."""
    text = _ANSI.sub("", output or "")
    cfg_file = (config.path if config and config.path else "kind-config.yaml")
    name = config.name if config else "k8snet"
    if re.search(r"permission denied while trying to connect to the Docker daemon", text, re.I):
        return EnvironmentProblem(
            f"kind cannot {action}: this user may not talk to Docker (permission denied on its socket). "
            "Add yourself to the docker group (`sudo usermod -aG docker $USER`, then log out and back in) "
            "or use rootless Docker, check that `docker info` answers, then try again.")
    if re.search(r"Cannot connect to the Docker daemon|Is the docker daemon running|error during connect", text, re.I):
        return EnvironmentProblem(
            f"Docker is not running, so kind cannot {action}. Start it (Docker Desktop, or "
            "`sudo systemctl start docker` on Linux), wait until `docker info` answers, then try again.")
    if re.search(r"Cannot connect to Podman|podman\.sock.*(?:refused|no such file)", text, re.I):
        return EnvironmentProblem(
            f"Podman is not answering, so kind cannot {action}. Start it (`podman machine start` on macOS "
            "and Windows, or `systemctl --user start podman.socket` on Linux), check `podman info`, then try again.")
    if re.search(r"address already in use|port is already allocated|Ports are not available", text, re.I):
        m = _BUSY_PORT.search(text)
        port = int(m.group(1)) if m else None
        mapped = host_ports(config)
        if port is not None:
            where = [f"{node} maps it to container port {cp}" for hp, node, cp in mapped if hp == port]
            what = f"Host port {port} is already in use" + (f" ({'; '.join(where)} in {cfg_file})" if where else "")
        else:
            ports = ", ".join(str(hp) for hp, _n, _c in mapped) or "the ones in extraPortMappings"
            what = f"One of the host ports {cfg_file} publishes ({ports}) is already in use"
        probe_cmd = f"sudo ss -ltnp 'sport = :{port}'" if port else "sudo ss -ltnp"
        return EnvironmentProblem(
            f"{what}, so kind cannot start the cluster's nodes. Stop the program or the other kind cluster "
            f"that holds it (find it with `{probe_cmd}` and `kind get clusters`), or change that hostPort "
            f"in {cfg_file}, then run up again.")
    if re.search(r"cannot expose privileged port", text, re.I):
        low = ", ".join(str(hp) for hp, _n, _c in host_ports(config) if hp < 1024) or "below 1024"
        return EnvironmentProblem(
            f"Rootless Docker/Podman may not publish host ports below 1024 ({low} in {cfg_file}). Allow them "
            "with `sudo sysctl net.ipv4.ip_unprivileged_port_start=80`, or change those hostPorts, then run up again.")
    if re.search(r"failed to pull image|pull access denied|manifest unknown|toomanyrequests|"
                 r"error pulling image|TLS handshake timeout", text, re.I):
        m = (re.search(r"pull image\s*\"([^\"]+)\"", text) or re.search(r"docker pull (\S+?)\"?(?:\s|$)", text)
             or re.search(r"Ensuring node image \(([^)\s]+)\)", text))
        image = m.group(1) if m else "the node image"
        return EnvironmentProblem(
            f"kind could not pull {image}. Check this machine's network and proxy settings and its access to "
            f"Docker Hub (rate limits: `docker login`), or pull it by hand with `docker pull {image}`, then run up again.")
    if re.search(r"node\(s\) already exist for a cluster with the name", text):
        return UsageError(
            f"A kind cluster named {name!r} appeared while this one was being created. Use it as it is, or "
            f"delete it with `kind delete cluster --name {name}`, then run up again.")
    return EnvironmentProblem(f"kind could not {action}: {_meaningful_line(text)}",
                              hint="kind's output ended with:\n" + "\n".join(text.strip().splitlines()[-15:]))


CURL_CODES = {
    0: ("connected", ""),
    6: ("unresolved", "could not resolve the host name"),
    7: ("refused", "connection refused"),
    28: ("timeout", "no answer before the timeout"),
}


def curl_outcome(code: int, stderr: str = "", connected: bool = False) -> tuple[str, str]:
    """Map a curl exit code (and whether the TCP connection was made) to a probe outcome and detail."""
    err = _meaningful_line(stderr) if stderr.strip() else ""
    if code == 7 and re.search(r"No route to host|Network is unreachable|Host is unreachable", stderr, re.I):
        return "unreachable", err or "no route to host"
    if code in CURL_CODES and not (code == 28 and connected):
        outcome, detail = CURL_CODES[code]
        return outcome, detail
    if connected:  # the TCP handshake succeeded; what came after is the application's business
        return "connected", {28: "TCP connected, but no HTTP reply before the timeout",
                             35: "TCP connected, but the TLS handshake failed",
                             52: "TCP connected, but the server closed it without a reply",
                             56: "TCP connected, then the connection was reset"}.get(code, err or f"curl exit code {code}")
    return "error", f"curl exit code {code}" + (f": {err}" if err else "")


def nc_outcome(code: int, stderr: str = "", protocol: str = "tcp") -> tuple[str, str]:
    """Map an `nc -z` exit code and its message to a probe outcome and detail."""
    text = stderr or ""
    if code == 0:
        return "connected", ("no ICMP port-unreachable came back (UDP has no handshake)" if protocol == "udp" else "")
    if re.search(r"refused", text, re.I):
        return "refused", "connection refused"
    if re.search(r"timed out|timeout", text, re.I):
        return "timeout", "no answer before the timeout"
    if re.search(r"getaddrinfo|resolve|not known|name resolution|bad address", text, re.I):
        return "unresolved", "could not resolve the host name"
    if re.search(r"No route to host|unreachable", text, re.I):
        return "unreachable", "no route to host"
    if code == 1 and not text.strip():
        return "timeout", "no answer before the timeout"
    return "error", f"nc exit code {code}" + (f": {_meaningful_line(text)}" if text.strip() else "")


def dig_outcome(code: int, output: str) -> tuple[str, str]:
    """Map a `dig` exit code and output to a probe outcome and detail."""
    if code == 0:
        status = re.search(r"status:\s*([A-Z]+)", output)
        return "connected", f"DNS answer: {status.group(1) if status else 'received'}"
    if re.search(r"refused", output, re.I):
        return "refused", "connection refused"
    if code == 9:
        return "timeout", "no DNS reply before the timeout"
    if re.search(r"couldn't get address|not known|resolve", output, re.I):
        return "unresolved", "could not resolve the server name"
    return "error", f"dig exit code {code}: {_meaningful_line(output)}"


MARKER = "@@k8snet"


def curl_command(urls: list[str], timeout: float) -> list[str]:
    """The curl command a probe runs: bodies on stdout, then one marker line per transfer."""
    t = f"{max(timeout, 0.1):g}"
    cmd = ["curl", "-sS", "-k", "--noproxy", "*", "--connect-timeout", t, "-m", t,
           "-w", "\n" + MARKER + " %{http_code} %{time_connect} %{remote_ip} %{local_ip}\n"]
    return cmd + (["--fail-early"] if len(urls) > 1 else []) + urls


@dataclass
class Transfer:
    """One HTTP transfer as curl reported it."""

    body: str
    http_code: int
    time_connect: float
    remote_ip: str
    local_ip: str


def parse_curl_output(stdout: str) -> list[Transfer]:
    """Split curl's stdout into transfers at the marker lines its write-out adds."""
    transfers, body = [], []
    for line in (stdout or "").split("\n"):
        if line.startswith(MARKER + " "):
            parts = line.split()
            code = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
            try:
                tc = float(parts[2]) if len(parts) > 2 else 0.0
            except ValueError:
                tc = 0.0
            text = "\n".join(body)
            transfers.append(Transfer(text[:-1] if text.endswith("\n") else text, code, tc,
                                      parts[3] if len(parts) > 3 else "", parts[4] if len(parts) > 4 else ""))
            body = []
        else:
            body.append(line)
    return transfers


def parse_responder(body: str) -> tuple[str | None, str | None]:
    """The pod and client address an echo server reports: `pod=<name> client=<ip>:<port>`."""
    pod = re.search(r"\bpod=([A-Za-z0-9][A-Za-z0-9.\-]*)", body or "")
    client = re.search(r"\bclient=\[?([0-9A-Fa-f.:]+?)\]?:(\d+)\b", body or "")
    return (pod.group(1) if pod else None), (client.group(1) if client else None)


def split_host_port(target: str) -> tuple[str, int | None]:
    """Split `host:port`, `[v6]:port`, a bare host or a bare IPv6 address."""
    m = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\](?::(\d+))?", target)
    if m:
        return m.group(1), int(m.group(2)) if m.group(2) else None
    if target.count(":") == 1:
        host, _, port = target.partition(":")
        if port.isdigit():
            return host, int(port)
    return target, None


def is_ip(text: str) -> bool:
    """True for an IPv4 or IPv6 address."""
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        return False


def selector_string(selector: dict | None) -> str:
    """A LabelSelector (matchLabels, matchExpressions) as the string the API's labelSelector takes."""
    selector = selector or {}
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), ",".join(expr.get("values") or [])
        parts.append({"In": f"{key} in ({values})", "NotIn": f"{key} notin ({values})",
                      "Exists": f"{key}", "DoesNotExist": f"!{key}"}.get(op, f"{key}"))
    return ",".join(parts)


def _container_statuses(pod: dict) -> list[dict]:
    """Every container status of a pod: init, app and ephemeral."""
    st = pod.get("status") or {}
    return (st.get("initContainerStatuses") or []) + (st.get("containerStatuses") or []) + \
        (st.get("ephemeralContainerStatuses") or [])


def pull_problems(pods: list[dict]) -> list[tuple[str, str, str]]:
    """Containers stuck pulling their image: (pod ns/name, image, reason: message)."""
    found = []
    for pod in pods:
        md = pod.get("metadata") or {}
        for cs in _container_statuses(pod):
            waiting = (cs.get("state") or {}).get("waiting") or {}
            if waiting.get("reason") in IMAGE_PULL_REASONS:
                msg = (waiting.get("message") or "").strip()
                found.append((f"{md.get('namespace', 'default')}/{md.get('name')}", cs.get("image", "?"),
                              waiting["reason"] + (f": {msg}" if msg else "")))
    return found


def explain_pull_problems(problems: list[tuple[str, str, str]], cluster: str) -> str:
    """One paragraph about images the nodes cannot pull, and what to do about it."""
    listed = "; ".join(f"pod {p} cannot pull {img} ({why[:200]})" for p, img, why in problems)
    images = sorted({img for _p, img, _w in problems})
    return (f"Kubernetes cannot pull the image some pods need: {listed}. Check the image name and tag in the "
            "manifest, and that this machine reaches the registry (network, proxy, Docker Hub rate limits); "
            "or pull it on the host and load it into the cluster with "
            f"`docker pull {images[0]} && kind load docker-image {images[0]} --name {cluster}`.")


def rollout_state(kind: str, obj: dict) -> tuple[bool, str]:
    """Whether a workload has rolled out, with a short account (`2/3 available`)."""
    md, spec, st = obj.get("metadata") or {}, obj.get("spec") or {}, obj.get("status") or {}
    fresh = (st.get("observedGeneration") or 0) >= (md.get("generation") or 0)
    if kind == "Deployment":
        want = spec.get("replicas", 1)
        upd, avail, total = st.get("updatedReplicas") or 0, st.get("availableReplicas") or 0, st.get("replicas") or 0
        for cond in st.get("conditions") or []:
            if cond.get("type") == "Progressing" and cond.get("reason") == "ProgressDeadlineExceeded":
                return False, f"{avail}/{want} available, progress deadline exceeded"
        return fresh and upd == want and total == want and avail == want, f"{avail}/{want} available"
    if kind == "StatefulSet":
        want, ready = spec.get("replicas", 1), st.get("readyReplicas") or 0
        same_rev = st.get("currentRevision") == st.get("updateRevision") or not st.get("updateRevision")
        return fresh and ready == want and same_rev, f"{ready}/{want} ready"
    if kind == "DaemonSet":
        want = st.get("desiredNumberScheduled") or 0
        upd, avail = st.get("updatedNumberScheduled") or 0, st.get("numberAvailable") or 0
        return fresh and want > 0 and upd == want and avail == want, f"{avail}/{want} available"
    if kind == "Pod":
        phase = st.get("phase", "Pending")
        ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in st.get("conditions") or [])
        return (phase == "Running" and ready) or phase == "Succeeded", phase.lower() + (", ready" if ready else "")
    return True, ""


def pod_trouble(pod: dict) -> str | None:
    """Why a pod is not running, when it says so (CrashLoopBackOff, Unschedulable, …)."""
    for cs in _container_statuses(pod):
        waiting = (cs.get("state") or {}).get("waiting") or {}
        if waiting.get("reason") and waiting["reason"] not in ("ContainerCreating", "PodInitializing"):
            return f"{waiting['reason']}" + (f": {waiting.get('message', '')[:160]}" if waiting.get("message") else "")
    for cond in (pod.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "PodScheduled" and cond.get("status") == "False":
            return f"{cond.get('reason', 'not scheduled')}: {cond.get('message', '')[:160]}"
    return None


def debug_container_plan(pod: dict) -> tuple[str, str]:
    """Which tools container to use in a pod: (name, 'running' | 'starting' | 'new')."""
    names = [c.get("name") for c in (pod.get("spec") or {}).get("ephemeralContainers") or []]
    ours = [n for n in names if n == DEBUG_CONTAINER or re.fullmatch(re.escape(DEBUG_CONTAINER) + r"-\d+", n or "")]
    states = {cs.get("name"): cs.get("state") or {} for cs in (pod.get("status") or {}).get("ephemeralContainerStatuses") or []}
    for n in ours:
        if "running" in states.get(n, {}):
            return n, "running"
    for n in ours:
        if "terminated" not in states.get(n, {}):
            return n, "starting"
    i = 1
    while (DEBUG_CONTAINER if i == 1 else f"{DEBUG_CONTAINER}-{i}") in names:
        i += 1
    return (DEBUG_CONTAINER if i == 1 else f"{DEBUG_CONTAINER}-{i}"), "new"


def parse_exec_status(raw: str | None) -> tuple[int, str]:
    """The exit code and message from an exec's error channel (a metav1.Status)."""
    if not raw or not raw.strip():
        return 255, "no exit status came back from the kubelet"
    try:
        status = yaml.safe_load(raw)
    except yaml.YAMLError:
        return 255, raw.strip()
    if not isinstance(status, dict):
        return 255, raw.strip()
    if status.get("status") == "Success":
        return 0, ""
    for cause in (status.get("details") or {}).get("causes") or []:
        if cause.get("reason") == "ExitCode" and str(cause.get("message", "")).lstrip("-").isdigit():
            return int(cause["message"]), ""
    message = str(status.get("message") or raw).strip()
    return (127 if re.search(r"not found|no such file", message, re.I) else 126), message


def api_message(exc: Exception) -> str:
    """The human message inside an API error (the Status' `message`), else the error text."""
    body = getattr(exc, "body", None)
    if body:
        try:
            data = json.loads(body)
            if isinstance(data, dict) and data.get("message"):
                return str(data["message"])
        except (ValueError, TypeError):
            pass
    reason = getattr(exc, "reason", None)
    status = getattr(exc, "status", None)
    return f"{status} {reason}".strip() if (status or reason) else str(exc)


def _plain(obj: Any) -> Any:
    """A JSON round trip: plain dicts and lists, whatever mapping subclasses came in."""
    return json.loads(json.dumps(obj, default=str))


def _origin(obj: Any) -> str:
    """Where a manifest object came from, when its loader recorded it."""
    for attr in ("location", "source", "path", "origin", "file", "filename"):
        value = getattr(obj, attr, None)
        if value and not callable(value):
            return str(value)
    return "manifest"


# ----------------------------------------------------------------------------------------------
# The backend
# ----------------------------------------------------------------------------------------------

@dataclass
class _Target:
    """A probe target, resolved as far as the API can tell."""

    host: str                      # what the tool connects to (a DNS name is kept, so DNS is exercised)
    port: int
    address: str | None = None    # the IP the API says it stands for
    scheme: str | None = None      # http / https, or None for a plain TCP/UDP check
    path: str = "/"
    backends: list[dict] = field(default_factory=list)
    service_port: dict | None = None


class KindBackend(Backend):
    """A real cluster: kind nodes in Docker/Podman containers, or any kubeconfig context you name."""

    name = "kind"
    capabilities = Capabilities(
        service_types=frozenset({"ClusterIP", "NodePort", "LoadBalancer", "ExternalName", "headless"}),
        proxy_modes=frozenset({"iptables", "nftables", "ipvs"}),
        network_policy=True,
        ingress=True,
        load_balancer=True,
        multi_cluster=False,
        notes={
            "network_policy": N_("enforced by kindnet (kind v0.24 and later ship kube-network-policies)"),
            "ingress": N_("needs an ingress controller installed in the cluster"),
            "load_balancer": N_("needs cloud-provider-kind running on the host to give LoadBalancer Services an"
                                " address"),
        },
    )

    def __init__(self, config: ClusterConfig, *, context: str | None = None) -> None:
        given = context or os.environ.get("K8SNET_CONTEXT") or None
        super().__init__(config, context=given or f"kind-{config.name}")
        self.managed = given is None
        self._api_client: Any = None
        self._dynamic: Any = None
        self._resources: dict[tuple[str, str], Any] = {}
        self._runtime: str | None = None

    # -- detection and tools ---------------------------------------------------------------------

    @classmethod
    def detect(cls) -> Detection:
        """Available when `kind` is on PATH and Docker or Podman answers."""
        return detect_kind()[0]

    def _require_kind(self) -> None:
        """Raise EnvironmentProblem unless kind and a container engine are usable."""
        detection, runtime = detect_kind()
        if not detection.available:
            raise EnvironmentProblem(detection.reason)
        self._runtime = runtime

    def _engine(self) -> str:
        """The container engine the kind nodes run in."""
        if self._runtime is None:
            runtime, why = find_runtime()
            if runtime is None:
                raise EnvironmentProblem(f"No container engine answers ({why}): start Docker or Podman, then try again.")
            self._runtime = runtime
        return self._runtime

    def _kind_env(self) -> dict[str, str]:
        """The environment for kind: the engine we found is the one kind must use."""
        env = dict(os.environ)
        if self._runtime and self._runtime != "docker" and not env.get("KIND_EXPERIMENTAL_PROVIDER"):
            env["KIND_EXPERIMENTAL_PROVIDER"] = self._runtime
        return env

    def _kind(self, args: list[str], timeout: float = 120) -> CommandResult:
        """Run `kind ARGS` and capture its output."""
        try:
            r = subprocess.run(["kind", *args], capture_output=True, text=True, timeout=timeout, env=self._kind_env())
        except FileNotFoundError:
            raise EnvironmentProblem("kind is not installed (no `kind` on PATH): install it from "
                                     "https://kind.sigs.k8s.io/docs/user/quick-start/#installation.") from None
        except subprocess.TimeoutExpired:
            raise EnvironmentProblem(f"`kind {' '.join(args)}` did not finish within {timeout:g} s: "
                                     "is Docker/Podman overloaded or stuck?") from None
        return CommandResult(["kind", *args], r.returncode, r.stdout, r.stderr)

    def _kind_clusters(self) -> list[str]:
        """The kind clusters that exist on this machine."""
        r = self._kind(["get", "clusters"])
        if not r.ok:
            raise explain_kind_failure(r.stdout + "\n" + r.stderr, self.config, "list clusters")
        return parse_name_lines(r.stdout)

    def _kind_nodes(self) -> list[str]:
        """The node containers of this lab's kind cluster."""
        r = self._kind(["get", "nodes", "--name", self.config.name])
        if not r.ok:
            raise explain_kind_failure(r.stdout + "\n" + r.stderr, self.config, "list the cluster's nodes")
        return parse_name_lines(r.stdout)

    # -- API clients -----------------------------------------------------------------------------

    def _client(self) -> Any:
        """The API client for this lab's kubeconfig context."""
        if self._api_client is None:
            from kubernetes import config as kconfig
            from kubernetes.config.config_exception import ConfigException
            path = os.environ.get("KUBECONFIG") or os.path.expanduser("~/.kube/config")
            try:
                self._api_client = kconfig.new_client_from_config(config_file=path, context=self.context,
                                                                  persist_config=False)
                _bound_requests(self._api_client)
            except ConfigException as e:
                if self.managed:
                    raise LabNotRunning(f"There is no kubeconfig context {self.context!r} ({e}): the kind cluster "
                                        f"{self.config.name!r} is not up; run `k8snet up` first.") from None
                raise LabNotRunning(f"The kubeconfig context {self.context!r} cannot be used ({e}); check its name "
                                    "with `kubectl config get-contexts`.") from None
        return self._api_client

    @contextmanager
    def _api(self, doing: str) -> Iterator[None]:
        """Turn connection failures and unexpected API errors into the library's errors."""
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError
        try:
            yield
        except K8snetError:
            raise
        except HTTPError as e:
            hint = (f"Is the cluster running? Check `kind get clusters` and `{self._runtime or 'docker'} ps`."
                    if self.managed else "Is that cluster reachable from here?")
            raise LabNotRunning(f"The API server of context {self.context!r} does not answer while {doing} "
                                f"({type(e).__name__}). {hint}") from None
        except ApiException as e:
            if e.status in (401, 403):
                raise EnvironmentProblem(f"The API server refused {doing} ({api_message(e)}): the credentials of "
                                         f"context {self.context!r} lack the rights.") from None
            raise EnvironmentProblem(f"The API server failed while {doing}: {api_message(e)}") from None

    def _dyn(self) -> Any:
        """The dynamic client (discovery happens on first use)."""
        if self._dynamic is None:
            from kubernetes.dynamic import DynamicClient
            with self._api("discovering the API"):
                self._dynamic = DynamicClient(self._client())
        return self._dynamic

    def _core(self) -> Any:
        """The typed CoreV1 API (exec and ephemeral containers)."""
        from kubernetes import client
        return client.CoreV1Api(self._client())

    def _resource(self, api_version: str, kind: str) -> Any:
        """The dynamic resource for an apiVersion and kind."""
        key = (api_version, kind)
        if key not in self._resources:
            from kubernetes.dynamic.exceptions import ResourceNotFoundError, ResourceNotUniqueError
            with self._api(f"looking up {kind}"):
                try:
                    self._resources[key] = self._dyn().resources.get(api_version=api_version, kind=kind)
                except (ResourceNotFoundError, ResourceNotUniqueError):
                    raise UsageError(f"This cluster has no API for {kind} in {api_version}.") from None
        return self._resources[key]

    def _get(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> dict | None:
        """One object as a plain dict, or None when it does not exist."""
        from kubernetes.dynamic.exceptions import NotFoundError
        res = self._resource(api_version, kind)
        with self._api(f"reading {kind} {name}"):
            try:
                return res.get(name=name, namespace=namespace if res.namespaced else None,
                               _request_timeout=API_TIMEOUT).to_dict()
            except NotFoundError:
                return None

    def _list(self, api_version: str, kind: str, namespace: str | None = None, selector: str | None = None,
              field_selector: str | None = None) -> list[dict]:
        """Objects of a kind as plain dicts, each with its apiVersion and kind filled in."""
        res = self._resource(api_version, kind)
        with self._api(f"listing {kind}"):
            items = res.get(namespace=namespace if res.namespaced else None, label_selector=selector or None,
                            field_selector=field_selector, _request_timeout=API_TIMEOUT).to_dict().get("items") or []
        for item in items:
            item.setdefault("apiVersion", res.group_version)
            item.setdefault("kind", res.kind)
        return sorted(items, key=lambda o: ((o.get("metadata") or {}).get("namespace") or "",
                                            (o.get("metadata") or {}).get("name") or ""))

    # -- provisioning ----------------------------------------------------------------------------

    def up(self, progress: Progress = no_progress) -> str:
        """Create the kind cluster (or reuse a matching one), then wait for Ready nodes and CoreDNS."""
        if not self.managed:
            nodes = self._wait_ready(progress, expected=None)
            return (f"using the existing cluster of context {self.context!r} ({_count(len(nodes), 'node')} Ready); "
                    "nothing was created")
        self._require_kind()
        name = self.config.name
        reuse = name in self._kind_clusters()
        if reuse:
            progress(f"kind cluster {name!r} exists; checking that it matches {self.config.path or 'the config'}")
            self._check_existing(progress)
        else:
            self._create(progress)
        nodes = self._wait_ready(progress, expected=len(self.config.nodes) or None)
        if reuse:
            self._refuse_if_different(self._kind_nodes(), self._proxy_mode())
        verb = "reused" if reuse else "created"
        return (f"kind cluster {name!r} {verb}: {_count(len(nodes), 'node')} Ready, CoreDNS available "
                f"(context {self.context!r})")

    def _check_existing(self, progress: Progress) -> None:
        """Refuse a same-named cluster with other nodes; make sure its nodes run and its context exists."""
        self._refuse_if_different(self._kind_nodes(), None)
        stopped = self._stopped_nodes()
        if stopped:
            engine = self._runtime or "docker"
            raise EnvironmentProblem(
                f"The kind cluster {self.config.name!r} exists but its node containers {', '.join(stopped)} are "
                f"stopped (after a reboot or an engine restart?). Start them with `{engine} start "
                f"{' '.join(stopped)}`, or recreate the cluster with `k8snet down` then `k8snet up`.")
        self._ensure_context(progress)

    def _refuse_if_different(self, nodes: list[str], proxy_mode: str | None) -> None:
        """Raise UsageError when the existing cluster's nodes or kube-proxy mode differ from the config."""
        problems = shape_differences(self.config, nodes, proxy_mode)
        if problems:
            raise UsageError(
                f"A kind cluster named {self.config.name!r} already exists, but {'; and '.join(problems)}. "
                f"Delete it with `k8snet down` (or `kind delete cluster --name {self.config.name}`), or give this "
                "lab another name (K8SNET_CLUSTER=...), then run up again.")

    def _stopped_nodes(self) -> list[str]:
        """Node containers of this cluster that are not running."""
        engine = self._runtime or "docker"
        try:
            r = subprocess.run([engine, "ps", "-a", "--filter", f"label=io.x-k8s.kind.cluster={self.config.name}",
                                "--format", "{{.Names}} {{.State}}"], capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            return []
        stopped = []
        for line in r.stdout.splitlines():
            parts = line.split()
            if len(parts) >= 2 and parts[1].lower() != "running":
                stopped.append(parts[0])
        return sorted(stopped)

    def _ensure_context(self, progress: Progress) -> None:
        """Write the cluster's kubeconfig context when it is missing (e.g. KUBECONFIG changed since create)."""
        from kubernetes import config as kconfig
        path = os.environ.get("KUBECONFIG") or os.path.expanduser("~/.kube/config")
        try:
            contexts, _current = kconfig.list_kube_config_contexts(config_file=path)
            if any(c.get("name") == self.context for c in contexts or []):
                return
        except Exception:  # no kubeconfig at all: export one
            pass
        progress(f"writing the kubeconfig context {self.context!r}")
        r = self._kind(["export", "kubeconfig", "--name", self.config.name])
        if not r.ok:
            raise explain_kind_failure(r.stdout + "\n" + r.stderr, self.config, "write its kubeconfig")
        self._api_client = self._dynamic = None

    def _create(self, progress: Progress) -> None:
        """Run `kind create cluster`, streaming its lines to progress, bounded in time."""
        args = ["create", "cluster", "--name", self.config.name]
        if self.config.path:
            args += ["--config", str(self.config.path)]
        progress("$ kind " + " ".join(args))
        try:
            proc = subprocess.Popen(["kind", *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                    bufsize=1, env=self._kind_env())
        except FileNotFoundError:
            raise EnvironmentProblem("kind is not installed (no `kind` on PATH): install it from "
                                     "https://kind.sigs.k8s.io/docs/user/quick-start/#installation.") from None
        lines = _stream_lines(proc, progress, CREATE_TIMEOUT, "kind create cluster")
        if proc.returncode != 0:
            raise explain_kind_failure("\n".join(lines), self.config)
        self._api_client = self._dynamic = None
        self._resources.clear()

    def _wait_ready(self, progress: Progress, expected: int | None, timeout: float = READY_TIMEOUT) -> list[dict]:
        """Wait until the nodes are Ready and cluster DNS is available; fail on image pulls that cannot succeed."""
        start = time.monotonic()
        last_note, pull_since = start, None
        summary = "the API server has not answered yet"
        while True:
            problems: list[tuple[str, str, str]] = []
            try:
                nodes, summary, done = self._readiness(expected)
                if done:
                    return nodes
                problems = pull_problems(self._list("v1", "Pod", "kube-system"))
            except (LabNotRunning, EnvironmentProblem) as e:  # the API server may still be starting
                summary = f"the API server does not answer yet ({e.message[:120]})"
                if not self.managed and time.monotonic() - start > 10:
                    raise
            if problems:
                pull_since = pull_since or time.monotonic()
                if time.monotonic() - pull_since >= PULL_GRACE:
                    raise EnvironmentProblem(explain_pull_problems(problems, self.config.name))
            else:
                pull_since = None
            now = time.monotonic()
            if now - start > timeout:
                hint = None
                if self.managed:
                    hint = (f"Look at the nodes with `kubectl --context {self.context} get nodes,pods -A`, or start "
                            "afresh with `k8snet down` then `k8snet up`.")
                raise EnvironmentProblem(f"The cluster is not ready after {timeout:g} s: {summary}.", hint=hint)
            if now - last_note >= NOTE_EVERY:
                progress(f"waiting for the cluster ({now - start:.0f} s): {summary}")
                last_note = now
            time.sleep(2)

    def _readiness(self, expected: int | None) -> tuple[list[dict], str, bool]:
        """Nodes, a one-line account, and whether all nodes are Ready and the DNS Deployment is available."""
        nodes = self._node_info()
        ready = [n for n in nodes if n["ready"]]
        want = expected or len(nodes)
        dns_name, dns = "coredns", self._get("apps/v1", "Deployment", "coredns", "kube-system")
        if dns is None:
            dns_name, dns = "kube-dns", self._get("apps/v1", "Deployment", "kube-dns", "kube-system")
        if dns is None:
            dns_ok, dns_text = not self.managed, "no CoreDNS Deployment yet"
        else:
            dns_ok = any(c.get("type") == "Available" and c.get("status") == "True"
                         for c in (dns.get("status") or {}).get("conditions") or [])
            dns_text = (f"{dns_name} {(dns.get('status') or {}).get('availableReplicas') or 0}/"
                        f"{(dns.get('spec') or {}).get('replicas', 0)} available")
        summary = f"{len(ready)}/{want} nodes Ready, {dns_text}"
        return nodes, summary, bool(nodes) and len(ready) >= want and dns_ok

    def down(self) -> str:
        """Delete the kind cluster; a cluster reached through a given context is never deleted."""
        if not self.managed:
            raise UsageError(f"Not deleting anything: this lab uses the existing context {self.context!r}, and k8snet "
                             "only deletes kind clusters it manages. Delete that cluster with its own tools if you mean to.")
        self._require_kind()
        name = self.config.name
        if name not in self._kind_clusters():
            return f"no kind cluster named {name!r}; nothing to delete"
        nodes = self._kind_nodes()
        r = self._kind(["delete", "cluster", "--name", name], timeout=300)
        if not r.ok:
            raise explain_kind_failure(r.stdout + "\n" + r.stderr, self.config, "delete the cluster")
        self._api_client = self._dynamic = None
        self._resources.clear()
        return f"kind cluster {name!r} deleted ({_count(len(nodes), 'node container')} removed)"

    # -- status ----------------------------------------------------------------------------------

    def _node_info(self) -> list[dict]:
        """Nodes with role, InternalIP, podCIDR and readiness."""
        out = []
        for node in self._list("v1", "Node"):
            md, spec, st = node.get("metadata") or {}, node.get("spec") or {}, node.get("status") or {}
            labels = md.get("labels") or {}
            role = "control-plane" if ("node-role.kubernetes.io/control-plane" in labels
                                       or "node-role.kubernetes.io/master" in labels) else "worker"
            ip = next((a.get("address") for a in st.get("addresses") or [] if a.get("type") == "InternalIP"), "")
            ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in st.get("conditions") or [])
            out.append({"name": md.get("name"), "role": role, "ip": ip, "podCIDR": spec.get("podCIDR", ""),
                        "ready": ready, "kubeletVersion": (st.get("nodeInfo") or {}).get("kubeletVersion", "")})
        return out

    def _proxy_mode(self) -> str | None:
        """kube-proxy's mode from its ConfigMap in kube-system (None when there is no kube-proxy)."""
        cm = self._get("v1", "ConfigMap", "kube-proxy", "kube-system")
        if cm is None:
            return None
        return parse_proxy_mode((cm.get("data") or {}).get("config.conf"))

    def status(self) -> Status:
        """Nodes (InternalIP, podCIDR) and kube-proxy mode, or why the cluster is not running."""
        label = self.config.name if self.managed else self.context
        if self.managed:
            detection, runtime = detect_kind()
            if not detection.available:
                return Status(label, self.name, False, detail=detection.reason)
            self._runtime = runtime
            try:
                if self.config.name not in self._kind_clusters():
                    return Status(label, self.name, False, detail=f"no kind cluster named {self.config.name!r}; "
                                                                  "run `k8snet up`")
            except K8snetError as e:
                return Status(label, self.name, False, detail=e.message)
        try:
            nodes = self._node_info()
            mode = self._proxy_mode()
        except K8snetError as e:
            return Status(label, self.name, False, detail=e.message)
        return Status(label, self.name, True, nodes=nodes, proxy_mode=mode or "none",
                      detail=f"context {self.context}")

    # -- objects ---------------------------------------------------------------------------------

    def apply(self, objects: list[dict], progress: Progress = no_progress) -> list[str]:
        """Server-side apply each object (create or update), then wait for the workloads to roll out."""
        from kubernetes.dynamic.exceptions import DynamicApiError, NotFoundError
        order = sorted(range(len(objects)), key=lambda i: 0 if (objects[i] or {}).get("kind") in
                       ("Namespace", "CustomResourceDefinition") else 1)
        lines, applied = [], []
        for i in order:
            obj = objects[i]
            body, res, name, ns = self._prepare(obj)
            ref = _ref(res)
            with self._api(f"applying {ref}/{name}"):
                try:
                    before = res.get(name=name, namespace=ns, _request_timeout=API_TIMEOUT).to_dict()
                except NotFoundError:
                    before = None
                try:
                    after = res.server_side_apply(body=body, name=name, namespace=ns, field_manager=FIELD_MANAGER,
                                                  force_conflicts=True, _request_timeout=API_TIMEOUT).to_dict()
                except DynamicApiError as e:
                    if e.status in (400, 409, 422):
                        raise ManifestError(f"{_origin(obj)}: {res.kind} {name!r}: the API server refused it: "
                                            f"{api_message(e)}") from None
                    raise
            if before is None:
                verb = "created"
            elif (before.get("metadata") or {}).get("resourceVersion") == (after.get("metadata") or {}).get("resourceVersion"):
                verb = "unchanged"
            else:
                verb = "configured"
            lines.append(f"{ref}/{name} {verb}")
            progress(lines[-1])
            applied.append((res.kind, res.group_version, name, ns, after))
        self._wait_workloads(applied, progress)
        return lines

    def _prepare(self, obj: dict) -> tuple[dict, Any, str, str | None]:
        """A manifest object as a plain body, its resource, name and namespace (default for namespaced kinds)."""
        if not isinstance(obj, dict):
            raise ManifestError(f"{_origin(obj)}: expected a Kubernetes object (a mapping), got {type(obj).__name__}")
        body = _plain(obj)
        api_version, kind = body.get("apiVersion"), body.get("kind")
        name = (body.get("metadata") or {}).get("name")
        if not api_version or not kind or not name:
            missing = [f for f, v in (("apiVersion", api_version), ("kind", kind), ("metadata.name", name)) if not v]
            raise ManifestError(f"{_origin(obj)}: {kind or 'object'} {name or ''}: missing {', '.join(missing)}".replace("  ", " "))
        try:
            res = self._resource(api_version, kind)
        except UsageError:
            raise ManifestError(f"{_origin(obj)}: {kind} {name!r}: this cluster has no {kind} in {api_version}") from None
        ns = None
        if res.namespaced:
            ns = body.setdefault("metadata", {}).get("namespace") or "default"
            body["metadata"]["namespace"] = ns
        else:
            body.setdefault("metadata", {}).pop("namespace", None)
        return body, res, name, ns

    def _wait_workloads(self, applied: list[tuple[str, str, str, str | None, dict]], progress: Progress,
                        timeout: float = ROLLOUT_TIMEOUT) -> None:
        """Wait (bounded) for applied Deployments, StatefulSets, DaemonSets and Pods; explain what is stuck."""
        watched = [(k, gv, n, ns) for k, gv, n, ns, _o in applied if k in ("Deployment", "StatefulSet", "DaemonSet", "Pod")]
        if not watched:
            return
        start = time.monotonic()
        last_note, pull_since = start, None
        while True:
            pending, pods = [], []
            for kind, gv, name, ns in watched:
                obj = self._get(gv, kind, name, ns)
                if obj is None:
                    continue
                done, how = rollout_state(kind, obj)
                if not done:
                    pending.append(f"{kind.lower()}/{name} ({how})")
                    if kind == "Pod":
                        pods.append(obj)
                    else:
                        sel = selector_string((obj.get("spec") or {}).get("selector"))
                        pods += self._list("v1", "Pod", ns, sel) if sel else []
                    if "progress deadline exceeded" in how:
                        raise EnvironmentProblem(f"{kind.lower()}/{name} did not roll out ({how}).",
                                                 hint=_pod_summary(pods))
            if not pending:
                return
            problems = pull_problems(pods)
            if problems:
                pull_since = pull_since or time.monotonic()
                hopeless = any(w.startswith(("InvalidImageName", "ErrImageNeverPull")) for _p, _i, w in problems)
                if hopeless or time.monotonic() - pull_since >= PULL_GRACE:
                    raise EnvironmentProblem(explain_pull_problems(problems, self.config.name))
            else:
                pull_since = None
            now = time.monotonic()
            if now - start > timeout:
                raise EnvironmentProblem(f"Still not rolled out after {timeout:g} s: {', '.join(pending)}.",
                                         hint=_pod_summary(pods))
            if now - last_note >= NOTE_EVERY:
                progress(f"waiting ({now - start:.0f} s) for " + ", ".join(pending))
                last_note = now
            time.sleep(2)

    def delete(self, objects: list[dict]) -> list[str]:
        """Delete objects in the order given (the Lab passes them reversed) and wait, bounded, until they are gone."""
        from kubernetes.dynamic.exceptions import NotFoundError
        lines, gone = [], []
        for obj in objects:
            body, res, name, ns = self._prepare(obj)
            ref = _ref(res)
            with self._api(f"deleting {ref}/{name}"):
                try:
                    res.delete(name=name, namespace=ns, propagation_policy="Background", _request_timeout=API_TIMEOUT)
                    lines.append(f'{ref} "{name}" deleted')
                    gone.append((res, name, ns))
                except NotFoundError:
                    lines.append(f'{ref} "{name}" not found')
        deadline = time.monotonic() + DELETE_TIMEOUT
        for res, name, ns in gone:
            while time.monotonic() < deadline:
                with self._api(f"waiting for {res.kind} {name} to go"):
                    try:
                        res.get(name=name, namespace=ns, _request_timeout=API_TIMEOUT)
                    except NotFoundError:
                        break
                time.sleep(1)
        return lines

    def list_objects(self, kind: str, namespace: str | None = None, selector: str | None = None) -> list[dict]:
        """List objects of a kind (`Pod`, `pods`, `svc`, `deploy`, …) as plain API dicts."""
        api_version, real_kind = self._kind_for(kind)
        return self._list(api_version, real_kind, namespace, selector)

    def _kind_for(self, kind: str) -> tuple[str, str]:
        """The apiVersion and Kind a user means by a kind, plural or short name."""
        key = kind.strip().lower()
        if key in _KINDS:
            return _KINDS[key]
        with self._api("discovering the API"):
            for res in self._dyn().resources.search():
                names = {str(getattr(res, a, "") or "").lower() for a in ("kind", "name", "singular_name")}
                names |= {str(n).lower() for n in getattr(res, "short_names", None) or []}
                if key in names and "/" not in str(getattr(res, "name", "") or "") and getattr(res, "preferred", True):
                    return res.group_version, res.kind
        raise UsageError(f"This cluster has no kind of object called {kind!r}.")

    # -- commands --------------------------------------------------------------------------------

    def kubectl(self, args: list[str]) -> CommandResult:
        """Run kubectl against this lab's context."""
        exe = shutil.which("kubectl")
        if not exe:
            raise EnvironmentProblem("kubectl is not installed (no `kubectl` on PATH): install it from "
                                     "https://kubernetes.io/docs/tasks/tools/ to run kubectl commands.")
        full = [exe] + ([] if any(a == "--context" or a.startswith("--context=") for a in args)
                        else ["--context", self.context]) + list(args)
        try:
            r = subprocess.run(full, capture_output=True, text=True, timeout=300)
        except subprocess.TimeoutExpired:
            return CommandResult(["kubectl", *args], 124, "", "kubectl did not finish within 300 s")
        return CommandResult(["kubectl", *args], r.returncode, r.stdout, r.stderr)

    def exec(self, pod: str | None, command: list[str], *, namespace: str = "default",
             container: str | None = None, node: str | None = None, timeout: float = 30) -> CommandResult:
        """Run a command in a pod's container (exec API) or on a kind node (its container, via docker/podman)."""
        if node:
            return self._node_exec(node, command, timeout)
        if not pod:
            raise UsageError("exec needs a pod name (or node=...).")
        from kubernetes.client.exceptions import ApiException
        from kubernetes.stream import stream
        try:
            resp = stream(self._core().connect_get_namespaced_pod_exec, pod, namespace, command=[str(c) for c in command],
                          container=container, stderr=True, stdin=False, stdout=True, tty=False,
                          _preload_content=False)
        except ApiException as e:
            raise self._exec_failure(pod, namespace, container, str(e.reason or e)) from None
        except Exception as e:  # websocket and connection errors
            raise LabNotRunning(f"Cannot open an exec session to pod {namespace}/{pod}: {e}") from None
        try:
            resp.run_forever(timeout=timeout)
            timed_out = resp.is_open()
        finally:
            resp.close()
        out, err = resp.read_channel(1, 0), resp.read_channel(2, 0)
        if timed_out:
            return CommandResult(list(command), 124, out, (err + f"\ntimed out after {timeout:g} s").lstrip("\n"))
        code, message = parse_exec_status(resp.read_channel(3, 0))
        if message:
            err = (err + ("\n" if err and not err.endswith("\n") else "") + message)
        return CommandResult(list(command), code, out, err)

    def _exec_failure(self, pod: str, namespace: str, container: str | None, why: str = "") -> K8snetError:
        """Explain why an exec could not start: no such pod, not running, or no such container."""
        obj = self._get("v1", "Pod", pod, namespace)
        if obj is None:
            return UsageError(f"There is no pod {pod!r} in namespace {namespace!r}.")
        phase = (obj.get("status") or {}).get("phase")
        names = [c.get("name") for c in (obj.get("spec") or {}).get("containers") or []] + \
                [c.get("name") for c in (obj.get("spec") or {}).get("ephemeralContainers") or []]
        if container and container not in names:
            return UsageError(f"Pod {namespace}/{pod} has no container {container!r} (it has {', '.join(names)}).")
        if phase != "Running":
            return UsageError(f"Pod {namespace}/{pod} is {phase}, not Running, so nothing can run in it yet.")
        return EnvironmentProblem(f"The kubelet refused to exec in pod {namespace}/{pod}"
                                  + (f" container {container}" if container else "") + (f" ({why})" if why else "") + ".")

    def _node_exec(self, node: str, command: list[str], timeout: float) -> CommandResult:
        """Run a command in a kind node's container."""
        engine = self._engine()
        try:
            r = subprocess.run([engine, "exec", node, *command], capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as e:
            out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
            return CommandResult(list(command), 124, out, f"timed out after {timeout:g} s")
        if r.returncode != 0 and re.search(r"No such container|no container with name", r.stderr, re.I):
            raise UsageError(f"There is no node container {node!r} ({engine} knows none by that name); "
                             "node commands work on kind nodes only.")
        return CommandResult(list(command), r.returncode, r.stdout, r.stderr)

    # -- probes ----------------------------------------------------------------------------------

    def debug_container(self, pod: str, namespace: str = "default", timeout: float = DEBUG_TIMEOUT) -> str:
        """Add (or reuse) the network tools container in a pod and return its name once it runs."""
        obj = self._get("v1", "Pod", pod, namespace)
        if obj is None:
            raise UsageError(f"There is no pod {pod!r} in namespace {namespace!r} to send probes from.")
        phase = (obj.get("status") or {}).get("phase")
        if phase != "Running":
            raise UsageError(f"Pod {namespace}/{pod} is {phase}, not Running: it cannot send probes yet.")
        name, state = debug_container_plan(obj)
        if state == "running":
            return name
        if state == "new":
            from kubernetes.client.exceptions import ApiException
            patch = {"spec": {"ephemeralContainers": [{
                "name": name, "image": TOOLS_IMAGE, "imagePullPolicy": "IfNotPresent",
                "command": ["sleep", "infinity"], "stdin": False, "tty": False,
                "terminationMessagePolicy": "File"}]}}
            with self._api(f"adding a tools container to pod {namespace}/{pod}"):
                try:
                    self._core().patch_namespaced_pod_ephemeralcontainers(
                        pod, namespace, patch, _content_type="application/strategic-merge-patch+json",
                        _request_timeout=API_TIMEOUT)
                except ApiException as e:
                    if e.status in (400, 403, 422):
                        raise EnvironmentProblem(
                            f"The API server would not add the probe tools container to pod {namespace}/{pod} "
                            f"({api_message(e)}). Probes need ephemeral containers (Kubernetes 1.25+) and the "
                            "right to patch pods/ephemeralcontainers.") from None
                    raise
        return self._wait_debug(pod, namespace, name, timeout)

    def _wait_debug(self, pod: str, namespace: str, name: str, timeout: float) -> str:
        """Wait until the tools container runs; explain an image it cannot pull."""
        start, pull_since = time.monotonic(), None
        while True:
            obj = self._get("v1", "Pod", pod, namespace) or {}
            state = next((cs.get("state") or {} for cs in (obj.get("status") or {}).get("ephemeralContainerStatuses") or []
                          if cs.get("name") == name), {})
            if "running" in state:
                return name
            if "terminated" in state:
                t = state["terminated"]
                raise EnvironmentProblem(f"The probe tools container in pod {namespace}/{pod} stopped "
                                         f"({t.get('reason', '')} {t.get('message', '')}).".replace(" )", ")"))
            waiting = state.get("waiting") or {}
            if waiting.get("reason") in IMAGE_PULL_REASONS:
                pull_since = pull_since or time.monotonic()
                if time.monotonic() - pull_since >= PULL_GRACE:
                    raise EnvironmentProblem(
                        f"The nodes cannot pull the probe tools image {TOOLS_IMAGE} ({waiting['reason']}). Check that "
                        "this machine reaches Docker Hub, or load the image into the cluster with "
                        f"`docker pull {TOOLS_IMAGE} && kind load docker-image {TOOLS_IMAGE} --name {self.config.name}`.")
            if time.monotonic() - start > timeout:
                raise EnvironmentProblem(f"The probe tools container in pod {namespace}/{pod} is not running after "
                                         f"{timeout:g} s ({waiting.get('reason', 'no status yet')}).")
            time.sleep(1)

    def probe(self, source: str, target: str, *, namespace: str = "default", port: int | None = None,
              protocol: str = "tcp", timeout: float = 2.0) -> ProbeResult:
        """Connect from the source pod's network namespace to a pod, Service, IP:port or URL; report what happened."""
        protocol = protocol.lower()
        if protocol not in ("tcp", "udp"):
            raise UsageError(f"protocol must be tcp or udp, not {protocol!r}")
        tgt = self._resolve_target(target, namespace, port, protocol)
        tools = self.debug_container(source, namespace)
        result = ProbeResult(source=source, target=target, address=tgt.address, port=tgt.port, protocol=protocol,
                             outcome="error")
        if protocol == "udp" and tgt.port == 53:
            return self._probe_dns(source, namespace, tools, tgt, timeout, result)
        if protocol == "tcp" and tgt.scheme:
            return self._probe_http(source, namespace, tools, tgt, timeout, result)
        flags = "-vzu" if protocol == "udp" else "-vz"
        r = self._run_tool(source, namespace, tools, ["nc", flags, "-w", f"{max(1, round(timeout))}", tgt.host,
                                                      str(tgt.port)], timeout)
        result.outcome, result.detail = nc_outcome(r.returncode, r.stderr + r.stdout, protocol)
        return result

    def _run_tool(self, pod: str, namespace: str, container: str, command: list[str], timeout: float) -> CommandResult:
        """Exec a tool in the tools container; if that container has stopped, add a fresh one and try once more."""
        try:
            r = self.exec(pod, command, namespace=namespace, container=container, timeout=timeout + 10)
            if not (r.returncode in (126, 255) and re.search(r"container not found|not running", r.stderr, re.I)):
                return r
        except EnvironmentProblem:
            if debug_container_plan(self._get("v1", "Pod", pod, namespace) or {})[1] == "running":
                raise
        container = self.debug_container(pod, namespace)
        return self.exec(pod, command, namespace=namespace, container=container, timeout=timeout + 10)

    def _probe_http(self, source: str, namespace: str, tools: str, tgt: _Target, timeout: float,
                    result: ProbeResult) -> ProbeResult:
        """An HTTP(S) probe with curl: outcome, who answered, the source address it saw, connect time."""
        agnhost = any(_is_agnhost(p) for p in tgt.backends) and tgt.path == "/"
        paths = ["/hostname", "/clientip"] if agnhost else [tgt.path]
        urls = [_url(tgt.scheme or "http", tgt.host, tgt.port, p) for p in paths]
        r = self._run_tool(source, namespace, tools, curl_command(urls, timeout), timeout)
        transfers = parse_curl_output(r.stdout)
        first = transfers[0] if transfers else Transfer("", 0, 0.0, "", "")
        connected = first.time_connect > 0 or first.http_code > 0
        result.outcome, result.detail = curl_outcome(r.returncode, r.stderr, connected)
        if r.returncode not in (0, 6, 7, 28) and not transfers and r.stderr:
            result.detail = _meaningful_line(r.stderr)
        if first.remote_ip:
            result.address = first.remote_ip
        if connected:
            result.latency_ms = round(first.time_connect * 1000, 3) if first.time_connect else None
            if first.http_code:
                result.detail = f"HTTP {first.http_code}" + (f"; {result.detail}" if result.detail else "")
            if agnhost and len(transfers) >= 2:
                result.responder = first.body.strip() or None
                result.seen_source = split_host_port(transfers[1].body.strip())[0] or None
            else:
                pod, client = parse_responder(first.body)
                result.responder = pod or _named_in(first.body, tgt.backends)
                result.seen_source = client
        return result

    def _probe_dns(self, source: str, namespace: str, tools: str, tgt: _Target, timeout: float,
                   result: ProbeResult) -> ProbeResult:
        """A DNS query over UDP to the target (port 53)."""
        cmd = ["dig", f"@{tgt.host}", "-p", str(tgt.port), f"+time={max(1, round(timeout))}", "+tries=1",
               f"kubernetes.default.svc.{_cluster_domain()}", "A"]
        r = self._run_tool(source, namespace, tools, cmd, timeout)
        result.outcome, result.detail = dig_outcome(r.returncode, r.stdout + r.stderr)
        m = re.search(r";; Query time: (\d+) msec", r.stdout)
        if result.ok and m:
            result.latency_ms = float(m.group(1))
        return result

    def _resolve_target(self, target: str, namespace: str, port: int | None, protocol: str) -> _Target:
        """Work out what a target names (pod, Service, IP, URL) and which pods may answer."""
        scheme, path = None, "/"
        if "://" in target:
            u = urlsplit(target)
            if not u.hostname:
                raise UsageError(f"Cannot read a host in the URL {target!r}.")
            host, scheme, path = u.hostname, u.scheme.lower(), (u.path or "/") + (f"?{u.query}" if u.query else "")
            port = port or u.port or (443 if scheme == "https" else 80)
        else:
            host, given = split_host_port(target)
            port = port or given
        tgt = _Target(host=host, port=port or 0, scheme=scheme, path=path)
        if is_ip(host):
            tgt.address = host
            self._backends_for_ip(tgt)
        else:
            self._backends_for_name(tgt, namespace)
        if not tgt.port:
            tgt.port = 53 if protocol == "udp" and tgt.service_port is None else 80
        if tgt.scheme is None and protocol == "tcp":
            tgt.scheme = _http_scheme(tgt.port, tgt.service_port)
        return tgt

    def _backends_for_name(self, tgt: _Target, namespace: str) -> None:
        """Resolve a pod name or a Service name (`svc`, `svc.ns`, `svc.ns.svc…`) through the API."""
        parts = tgt.host.split(".")
        if len(parts) == 1:
            pod = self._get("v1", "Pod", tgt.host, namespace)
            if pod is not None:
                ip = (pod.get("status") or {}).get("podIP")
                if not ip:
                    raise UsageError(f"Pod {namespace}/{tgt.host} has no IP yet (it is "
                                     f"{(pod.get('status') or {}).get('phase', 'Pending')}).")
                tgt.host = tgt.address = ip
                tgt.backends = [pod]
                declared = [p for c in (pod.get("spec") or {}).get("containers") or [] for p in c.get("ports") or []]
                if not tgt.port and declared:
                    tgt.port = declared[0].get("containerPort") or 0
                match = next((p for p in declared if p.get("containerPort") == tgt.port), None)
                if match:
                    tgt.service_port = {"name": match.get("name", ""), "port": tgt.port}
                return
            svc_name, svc_ns = tgt.host, namespace
        elif len(parts) == 2 or (len(parts) >= 3 and parts[2] == "svc"):
            svc_name, svc_ns = parts[0], parts[1]
        else:
            return
        svc = self._get("v1", "Service", svc_name, svc_ns)
        if svc is None:
            return
        spec = svc.get("spec") or {}
        cluster_ip = spec.get("clusterIP")
        tgt.address = cluster_ip if cluster_ip and cluster_ip != "None" else None
        ports = spec.get("ports") or []
        if not tgt.port and ports:
            tgt.port = ports[0].get("port") or 0
        tgt.service_port = next((p for p in ports if p.get("port") == tgt.port), None)
        if spec.get("selector"):
            sel = ",".join(f"{k}={v}" for k, v in sorted(spec["selector"].items()))
            tgt.backends = self._list("v1", "Pod", svc_ns, sel)

    def _backends_for_ip(self, tgt: _Target) -> None:
        """For an IP target: the pod that has it, or the Service whose ClusterIP or NodePort it is."""
        for svc in self._list("v1", "Service"):
            spec = svc.get("spec") or {}
            ips = set(spec.get("clusterIPs") or [spec.get("clusterIP")]) | set(spec.get("externalIPs") or [])
            ips |= {i.get("ip") for i in ((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []}
            for p in spec.get("ports") or []:
                if (tgt.host in ips and p.get("port") == tgt.port) or (p.get("nodePort") == tgt.port and tgt.port):
                    tgt.service_port = p
                    if spec.get("selector"):
                        sel = ",".join(f"{k}={v}" for k, v in sorted(spec["selector"].items()))
                        tgt.backends = self._list("v1", "Pod", (svc.get("metadata") or {}).get("namespace"), sel)
                    return
        pods = self._list("v1", "Pod", None, None, field_selector=f"status.podIP={tgt.host}")
        tgt.backends = [p for p in pods if not (p.get("spec") or {}).get("hostNetwork")]


# ----------------------------------------------------------------------------------------------
# Small module helpers used by the backend
# ----------------------------------------------------------------------------------------------

_KINDS: dict[str, tuple[str, str]] = {}
for _api_version, _kind, _aliases in (
        ("v1", "Pod", ("pod", "pods", "po")),
        ("v1", "Service", ("service", "services", "svc")),
        ("v1", "Endpoints", ("endpoints", "ep")),
        ("v1", "Node", ("node", "nodes", "no")),
        ("v1", "Namespace", ("namespace", "namespaces", "ns")),
        ("v1", "ConfigMap", ("configmap", "configmaps", "cm")),
        ("v1", "Secret", ("secret", "secrets")),
        ("v1", "ServiceAccount", ("serviceaccount", "serviceaccounts", "sa")),
        ("v1", "Event", ("event", "events", "ev")),
        ("apps/v1", "Deployment", ("deployment", "deployments", "deploy")),
        ("apps/v1", "ReplicaSet", ("replicaset", "replicasets", "rs")),
        ("apps/v1", "DaemonSet", ("daemonset", "daemonsets", "ds")),
        ("apps/v1", "StatefulSet", ("statefulset", "statefulsets", "sts")),
        ("batch/v1", "Job", ("job", "jobs")),
        ("discovery.k8s.io/v1", "EndpointSlice", ("endpointslice", "endpointslices")),
        ("networking.k8s.io/v1", "NetworkPolicy", ("networkpolicy", "networkpolicies", "netpol")),
        ("networking.k8s.io/v1", "Ingress", ("ingress", "ingresses", "ing")),
        ("networking.k8s.io/v1", "IngressClass", ("ingressclass", "ingressclasses"))):
    for _alias in _aliases:
        _KINDS[_alias] = (_api_version, _kind)


def _bound_requests(api_client: Any, seconds: float = API_TIMEOUT) -> None:
    """Give every REST request of a client a timeout (discovery requests carry none of their own)."""
    rest = api_client.rest_client
    unbounded = rest.request

    def request(method, url, headers=None, body=None, post_params=None, _request_timeout=None):
        return unbounded(method, url, headers=headers, body=body, post_params=post_params,
                         _request_timeout=_request_timeout or seconds)

    rest.request = request


def _count(n: int, noun: str) -> str:
    """`1 node`, `3 nodes`."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _ref(res: Any) -> str:
    """kubectl's name for a resource type: `deployment.apps`, `service`, `networkpolicy.networking.k8s.io`."""
    return res.kind.lower() + (f".{res.group}" if getattr(res, "group", "") else "")


def _url(scheme: str, host: str, port: int, path: str) -> str:
    """A URL, with brackets around an IPv6 host."""
    h = f"[{host}]" if ":" in host else host
    return f"{scheme}://{h}:{port}{path if path.startswith('/') else '/' + path}"


def _http_scheme(port: int, service_port: dict | None) -> str | None:
    """http / https when the port (or the Service port behind it) looks like a web port, else None."""
    if port in HTTP_PORTS:
        return HTTP_PORTS[port]
    if service_port:
        name = str(service_port.get("name") or "") + " " + str(service_port.get("appProtocol") or "")
        if "https" in name:
            return "https"
        if "http" in name:
            return "http"
        for p in (service_port.get("port"), service_port.get("targetPort")):
            if isinstance(p, int) and p in HTTP_PORTS:
                return HTTP_PORTS[p]
            if isinstance(p, str) and p.startswith("http"):
                return "https" if p.startswith("https") else "http"
    return None


def _is_agnhost(pod: dict) -> bool:
    """True when a pod runs agnhost's netexec (which answers /hostname and /clientip)."""
    for c in (pod.get("spec") or {}).get("containers") or []:
        if "agnhost" in str(c.get("image", "")) and "netexec" in " ".join(map(str, (c.get("args") or []) + (c.get("command") or []))):
            return True
    return False


def _named_in(body: str, pods: list[dict]) -> str | None:
    """The one candidate pod whose name appears in a response body."""
    names = [(p.get("metadata") or {}).get("name") for p in pods]
    hits = [n for n in names if n and re.search(r"(?<![\w-])" + re.escape(n) + r"(?![\w-])", body or "")]
    return hits[0] if len(hits) == 1 else None


def _cluster_domain() -> str:
    """The cluster DNS domain (kind keeps the default)."""
    return os.environ.get("K8SNET_CLUSTER_DOMAIN", "cluster.local")


def _pod_summary(pods: list[dict]) -> str:
    """One line per pod: name, phase, node and what is wrong."""
    lines = []
    for p in pods:
        md, st = p.get("metadata") or {}, p.get("status") or {}
        trouble = pod_trouble(p)
        lines.append(f"  {md.get('namespace')}/{md.get('name')}: {st.get('phase', '?')}"
                     + (f" on {(p.get('spec') or {}).get('nodeName')}" if (p.get('spec') or {}).get('nodeName') else "")
                     + (f" — {trouble}" if trouble else ""))
    return "Pods:\n" + "\n".join(lines) if lines else "No pods were found for it."


def _stream_lines(proc: subprocess.Popen, progress: Progress, timeout: float, what: str) -> list[str]:
    """Pass a child's output lines to progress as they come; kill the child past the deadline."""
    lines: list[str] = []
    q: queue.Queue[str | None] = queue.Queue()

    def reader() -> None:
        assert proc.stdout is not None
        for raw in proc.stdout:
            q.put(raw)
        q.put(None)

    threading.Thread(target=reader, daemon=True).start()
    start = last = time.monotonic()
    while True:
        try:
            raw = q.get(timeout=NOTE_EVERY)
        except queue.Empty:
            raw = ""
            now = time.monotonic()
            if now - start > timeout:
                proc.kill()
                proc.wait()
                raise EnvironmentProblem(f"`{what}` did not finish within {timeout:g} s and was stopped: is the "
                                         "engine overloaded, or the image download very slow?",
                                         hint="Last output:\n" + "\n".join(lines[-10:]))
            if now - last >= 2 * NOTE_EVERY:
                progress(f"… still running `{what}` ({now - start:.0f} s)")
                last = now
            continue
        if raw is None:
            break
        line = _ANSI.sub("", raw).rstrip()
        if line:
            lines.append(line)
            progress(line)
            last = time.monotonic()
    proc.wait()
    return lines


__all__ = ["KindBackend", "TOOLS_IMAGE", "DEBUG_CONTAINER", "curl_outcome", "nc_outcome", "dig_outcome",
           "parse_name_lines", "parse_proxy_mode", "explain_kind_failure", "detect_kind", "shape_differences",
           "parse_curl_output", "parse_responder", "split_host_port", "selector_string", "pull_problems",
           "rollout_state", "debug_container_plan", "parse_exec_status"]

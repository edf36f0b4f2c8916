"""Pure logic of the kind backend: detection, outcome mapping, parsing and error messages (no cluster needed)."""
from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from k8snet_tutorial.backends import kind as kb
from k8snet_tutorial.backends.kind import KindBackend
from k8snet_tutorial.config import load_config, parse_config
from k8snet_tutorial.errors import EnvironmentProblem, UsageError

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def config():
    """The repository's kind-config.yaml."""
    return load_config(REPO / "kind-config.yaml")


def _fake_tool(folder: Path, name: str, script: str) -> None:
    """Write an executable shell script standing in for a tool."""
    path = folder / name
    path.write_text("#!/bin/sh\n" + script + "\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


@pytest.fixture
def bare_path(tmp_path, monkeypatch):
    """A PATH holding only what a test puts there."""
    folder = tmp_path / "bin"
    folder.mkdir()
    monkeypatch.setenv("PATH", str(folder))
    monkeypatch.delenv("KIND_EXPERIMENTAL_PROVIDER", raising=False)
    return folder


# -- detection ------------------------------------------------------------------------------------

def test_detect_without_kind_on_path(bare_path):
    detection = KindBackend.detect()
    assert detection.available is False
    assert "kind is not installed" in detection.reason
    assert "sandbox" in detection.reason


def test_detect_without_kind_when_which_finds_nothing(monkeypatch):
    monkeypatch.setattr(kb.shutil, "which", lambda name, *a, **k: None)
    detection = KindBackend.detect()
    assert not detection.available
    assert "`kind`" in detection.reason


def test_detect_kind_present_but_docker_daemon_down(bare_path):
    _fake_tool(bare_path, "kind", "exit 0")
    _fake_tool(bare_path, "docker", 'echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. '
                                    'Is the docker daemon running?" >&2; exit 1')
    detection = KindBackend.detect()
    assert not detection.available
    assert "Cannot connect to the Docker daemon" in detection.reason
    assert "`podman` is not installed" in detection.reason
    assert detection.reason.count(".") >= 1 and "\n" not in detection.reason


def test_detect_kind_and_working_docker(bare_path):
    _fake_tool(bare_path, "kind", "exit 0")
    _fake_tool(bare_path, "docker", "echo Server Version: 28.0; exit 0")
    detection, runtime = kb.detect_kind()
    assert detection.available and runtime == "docker"


def test_detect_falls_back_to_podman(bare_path):
    _fake_tool(bare_path, "kind", "exit 0")
    _fake_tool(bare_path, "docker", "exit 1")
    _fake_tool(bare_path, "podman", "exit 0")
    detection, runtime = kb.detect_kind()
    assert detection.available and runtime == "podman"


def test_detect_honours_kind_experimental_provider(bare_path, monkeypatch):
    _fake_tool(bare_path, "kind", "exit 0")
    _fake_tool(bare_path, "docker", "exit 0")
    _fake_tool(bare_path, "podman", 'echo "Cannot connect to Podman" >&2; exit 125')
    monkeypatch.setenv("KIND_EXPERIMENTAL_PROVIDER", "podman")
    detection, runtime = kb.detect_kind()
    assert not detection.available and runtime is None
    assert "podman info" in detection.reason


def test_detect_times_out_on_a_hanging_engine(bare_path, monkeypatch):
    _fake_tool(bare_path, "kind", "exit 0")
    sleep = next(p for p in ("/bin/sleep", "/usr/bin/sleep") if os.path.exists(p))
    _fake_tool(bare_path, "docker", f"exec {sleep} 5")
    monkeypatch.setattr(kb, "INFO_TIMEOUT", 0.3)
    detection = KindBackend.detect()
    assert not detection.available
    assert "did not answer" in detection.reason


# -- construction, contexts, kubectl ----------------------------------------------------------------

def test_default_context_is_kind_name(config, monkeypatch):
    monkeypatch.delenv("K8SNET_CONTEXT", raising=False)
    backend = KindBackend(config)
    assert backend.context == "kind-k8snet" and backend.managed


def test_given_context_is_never_deleted(config, monkeypatch):
    monkeypatch.setenv("K8SNET_CONTEXT", "prod-cluster")
    backend = KindBackend(config)
    assert backend.context == "prod-cluster" and not backend.managed
    with pytest.raises(UsageError, match="prod-cluster"):
        backend.down()


def test_explicit_context_wins_over_env(config, monkeypatch):
    monkeypatch.setenv("K8SNET_CONTEXT", "from-env")
    assert KindBackend(config, context="explicit").context == "explicit"


def test_kubectl_missing_names_it(config, monkeypatch):
    monkeypatch.setattr(kb.shutil, "which", lambda name, *a, **k: None)
    with pytest.raises(EnvironmentProblem, match="kubectl"):
        KindBackend(config).kubectl(["get", "pods"])


def test_kubectl_gets_the_context(config, bare_path):
    _fake_tool(bare_path, "kubectl", 'echo "$@"')
    r = KindBackend(config).kubectl(["get", "pods"])
    assert r.ok and r.stdout.strip() == "--context kind-k8snet get pods"
    assert r.command == ["kubectl", "get", "pods"]


def test_capabilities():
    caps = KindBackend.capabilities
    assert caps.service_types == {"ClusterIP", "NodePort", "LoadBalancer", "ExternalName", "headless"}
    assert caps.proxy_modes == {"iptables", "nftables", "ipvs"}
    assert caps.network_policy and caps.ingress and caps.load_balancer and not caps.multi_cluster
    assert "cloud-provider-kind" in caps.notes["load_balancer"]


# -- probe outcome mapping --------------------------------------------------------------------------

@pytest.mark.parametrize("code, stderr, connected, outcome", [
    (0, "", True, "connected"),
    (6, "curl: (6) Could not resolve host: nope", False, "unresolved"),
    (7, "curl: (7) Failed to connect to 10.244.1.5 port 80: Connection refused", False, "refused"),
    (7, "curl: (7) Failed to connect to 10.9.9.9 port 80: No route to host", False, "unreachable"),
    (28, "curl: (28) Connection timed out after 2001 milliseconds", False, "timeout"),
    (28, "curl: (28) Operation timed out after 2001 milliseconds with 0 bytes received", True, "connected"),
    (52, "curl: (52) Empty reply from server", True, "connected"),
    (35, "curl: (35) TLS connect error", True, "connected"),
    (3, "curl: (3) URL rejected: Bad hostname", False, "error"),
])
def test_curl_outcome(code, stderr, connected, outcome):
    got, detail = kb.curl_outcome(code, stderr, connected)
    assert got == outcome
    if outcome not in ("connected",):
        assert detail


@pytest.mark.parametrize("code, stderr, protocol, outcome", [
    (0, "Connection to 10.244.1.5 80 port [tcp/http] succeeded!", "tcp", "connected"),
    (1, "nc: connect to 10.244.1.5 port 5432 (tcp) failed: Connection refused", "tcp", "refused"),
    (1, "nc: connect to 10.244.1.5 port 5432 (tcp) timed out: Operation now in progress", "tcp", "timeout"),
    (1, 'nc: getaddrinfo for host "nope" port 80: Name does not resolve', "tcp", "unresolved"),
    (1, "nc: connect to 10.9.9.9 port 80 (tcp) failed: No route to host", "tcp", "unreachable"),
    (1, "", "tcp", "timeout"),
    (0, "", "udp", "connected"),
    (2, "nc: invalid option -- 'x'", "tcp", "error"),
])
def test_nc_outcome(code, stderr, protocol, outcome):
    got, detail = kb.nc_outcome(code, stderr, protocol)
    assert got == outcome
    if protocol == "udp":
        assert "UDP" in detail


def test_dig_outcome():
    assert kb.dig_outcome(0, ";; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 1")[0] == "connected"
    assert kb.dig_outcome(9, ";; communications error to 10.96.0.10#53: timed out")[0] == "timeout"
    assert kb.dig_outcome(9, ";; communications error to 10.96.0.11#53: connection refused")[0] == "refused"


def test_curl_command_and_output_parsing():
    cmd = kb.curl_command(["http://10.244.1.5:80/"], 2)
    assert cmd[0] == "curl" and "-m" in cmd and cmd[cmd.index("-m") + 1] == "2"
    assert cmd[-1] == "http://10.244.1.5:80/"
    out = ("pod=echo-7d4b9c-abcde client=10.244.2.7:51234\n"
           "\n@@k8snet 200 0.000412 10.244.1.5 10.244.2.7\n")
    (t,) = kb.parse_curl_output(out)
    assert t.http_code == 200 and t.remote_ip == "10.244.1.5" and t.local_ip == "10.244.2.7"
    assert abs(t.time_connect - 0.000412) < 1e-9
    assert kb.parse_responder(t.body) == ("echo-7d4b9c-abcde", "10.244.2.7")


def test_curl_output_two_transfers_agnhost():
    out = "echo\n@@k8snet 200 0.0005 10.244.1.9 10.244.2.3\n10.244.2.3:40000\n@@k8snet 200 0.000000 10.244.1.9 10.244.2.3\n"
    first, second = kb.parse_curl_output(out)
    assert first.body == "echo" and second.body == "10.244.2.3:40000"
    assert kb.split_host_port(second.body) == ("10.244.2.3", 40000)


def test_curl_output_on_failure():
    (t,) = kb.parse_curl_output("\n@@k8snet 000 0.000000  \n")
    assert t.http_code == 0 and t.time_connect == 0 and t.remote_ip == ""


@pytest.mark.parametrize("text, expected", [
    ("web", ("web", None)),
    ("10.96.0.10:53", ("10.96.0.10", 53)),
    ("web.zero-trust:80", ("web.zero-trust", 80)),
    ("[fd00::5]:8080", ("fd00::5", 8080)),
    ("fd00::5", ("fd00::5", None)),
])
def test_split_host_port(text, expected):
    assert kb.split_host_port(text) == expected


def test_http_scheme_guess():
    assert kb._http_scheme(80, None) == "http"
    assert kb._http_scheme(443, None) == "https"
    assert kb._http_scheme(5432, None) is None
    assert kb._http_scheme(30080, {"name": "http", "port": 80, "nodePort": 30080}) == "http"
    assert kb._http_scheme(9000, {"port": 9000, "targetPort": 8080}) == "http"


# -- kind output and kube-proxy config --------------------------------------------------------------

def test_parse_kind_get_nodes():
    out = "k8snet-control-plane\nk8snet-worker\nk8snet-worker2\n"
    assert kb.parse_name_lines(out) == ["k8snet-control-plane", "k8snet-worker", "k8snet-worker2"]
    assert kb.parse_name_lines('No kind nodes found for cluster "k8snet".\n') == []
    assert kb.parse_name_lines("enabling experimental podman provider\nk8snet\n") == ["k8snet"]


@pytest.mark.parametrize("name, role", [
    ("k8snet-control-plane", "control-plane"), ("k8snet-control-plane3", "control-plane"),
    ("k8snet-worker", "worker"), ("k8snet-worker2", "worker"),
    ("k8snet-external-load-balancer", "external-load-balancer"), ("other", "unknown"),
])
def test_node_role(name, role):
    assert kb.node_role(name, "k8snet") == role


KUBE_PROXY_CONF = """apiVersion: kubeproxy.config.k8s.io/v1alpha1
bindAddress: 0.0.0.0
clientConnection:
  kubeconfig: /var/lib/kube-proxy/kubeconfig.conf
clusterCIDR: 10.244.0.0/16
conntrack:
  maxPerCore: 0
iptables:
  masqueradeAll: false
  syncPeriod: 0s
kind: KubeProxyConfiguration
mode: {mode}
nftables:
  syncPeriod: 0s
"""


@pytest.mark.parametrize("mode, expected", [
    ("iptables", "iptables"), ("nftables", "nftables"), ("ipvs", "ipvs"), ('""', "iptables"), ("", "iptables"),
])
def test_parse_proxy_mode(mode, expected):
    assert kb.parse_proxy_mode(KUBE_PROXY_CONF.format(mode=mode)) == expected


def test_parse_proxy_mode_missing_or_broken():
    assert kb.parse_proxy_mode(None) == "iptables"
    assert kb.parse_proxy_mode("kind: KubeProxyConfiguration\n") == "iptables"
    assert kb.parse_proxy_mode("mode: nftables\n  bad: [indent\n") == "nftables"


def test_shape_differences(config):
    same = ["k8snet-control-plane", "k8snet-worker", "k8snet-worker2"]
    assert kb.shape_differences(config, same, "iptables") == []
    assert kb.shape_differences(config, same, None) == []
    (nodes_problem,) = kb.shape_differences(config, ["k8snet-control-plane"], None)
    assert "k8snet-worker2 (worker)" in nodes_problem
    (mode_problem,) = kb.shape_differences(config, same, "nftables")
    assert "nftables" in mode_problem and "iptables" in mode_problem


# -- error messages ----------------------------------------------------------------------------------

PORT_IN_USE = """Creating cluster "k8snet" ...
 ✓ Ensuring node image (kindest/node:v1.37.0) 🖼
 ✗ Preparing nodes 📦 📦 📦
Deleted nodes: ["k8snet-worker" "k8snet-worker2" "k8snet-control-plane"]
ERROR: failed to create cluster: command "docker run --name k8snet-control-plane --hostname k8snet-control-plane --label io.x-k8s.kind.role=control-plane --publish=0.0.0.0:80:80/TCP --publish=0.0.0.0:443:443/TCP --publish=0.0.0.0:30080:30080/TCP kindest/node:v1.37.0" failed with error: exit status 125
Command Output: 1f6f9c0c1c0e
docker: Error response from daemon: driver failed programming external connectivity on endpoint k8snet-control-plane (3c1a): failed to bind port 0.0.0.0:80/tcp: Error starting userland proxy: listen tcp4 0.0.0.0:80: bind: address already in use.
"""

DAEMON_DOWN = """ERROR: failed to create cluster: failed to list nodes: command "docker ps -a --filter label=io.x-k8s.kind.cluster=k8snet --format '{{.Names}}'" failed with error: exit status 1
Command Output: Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?
"""


def test_address_already_in_use_names_the_port(config):
    err = kb.explain_kind_failure(PORT_IN_USE, config)
    assert isinstance(err, EnvironmentProblem)
    assert "Host port 80 is already in use" in err.message
    assert "k8snet-control-plane maps it to container port 80" in err.message
    assert "kind-config.yaml" in err.message and "sport = :80" in err.message
    assert "\n" not in err.message  # one paragraph


def test_port_already_allocated_by_another_container(config):
    out = ("docker: Error response from daemon: driver failed programming external connectivity on endpoint "
           "k8snet-control-plane (abc): Bind for 0.0.0.0:30080 failed: port is already allocated.")
    err = kb.explain_kind_failure(out, config)
    assert "Host port 30080 is already in use" in err.message


def test_port_in_use_without_a_port_number_lists_the_config_ports(config):
    err = kb.explain_kind_failure("bind: address already in use", config)
    assert "(80, 443, 30080)" in err.message


def test_docker_daemon_not_running():
    err = kb.explain_kind_failure(DAEMON_DOWN, None, "list clusters")
    assert isinstance(err, EnvironmentProblem)
    assert err.message.startswith("Docker is not running")
    assert "docker info" in err.message and "list clusters" in err.message


def test_docker_permission_denied():
    out = ("permission denied while trying to connect to the Docker daemon socket at "
           "unix:///var/run/docker.sock: Get \"http://%2Fvar%2Frun%2Fdocker.sock/v1.47/containers/json\"")
    err = kb.explain_kind_failure(out)
    assert "docker group" in err.message


def test_node_image_pull_failure():
    out = ('Creating cluster "k8snet" ...\n ✗ Ensuring node image (kindest/node:v1.37.0) 🖼\n'
           'ERROR: failed to create cluster: failed to pull image "kindest/node:v1.37.0@sha256:a1ed": '
           'command "docker pull kindest/node:v1.37.0@sha256:a1ed" failed with error: exit status 1\n'
           'Command Output: Error response from daemon: toomanyrequests: You have reached your pull rate limit.\n')
    err = kb.explain_kind_failure(out)
    assert "could not pull kindest/node:v1.37.0@sha256:a1ed" in err.message


def test_unknown_failure_keeps_the_output():
    err = kb.explain_kind_failure("ERROR: failed to create cluster: something odd\nmore\n")
    assert "something odd" in err.message and "more" in (err.hint or "")


def _pod(name, *, waiting=None, image="nginx:1.27-alpine", phase="Pending", ready=False, ns="default"):
    status = {"phase": phase, "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}
    if waiting:
        status["containerStatuses"] = [{"name": "web", "image": image, "state": {"waiting": waiting}}]
    return {"metadata": {"name": name, "namespace": ns}, "status": status}


def test_image_pull_failures_are_explained():
    pods = [_pod("web-1", waiting={"reason": "ImagePullBackOff", "message": 'Back-off pulling image "nginx:nope"'},
                 image="nginx:nope"),
            _pod("web-2", waiting={"reason": "ContainerCreating"})]
    problems = kb.pull_problems(pods)
    assert problems == [("default/web-1", "nginx:nope", 'ImagePullBackOff: Back-off pulling image "nginx:nope"')]
    text = kb.explain_pull_problems(problems, "k8snet")
    assert "nginx:nope" in text and "kind load docker-image nginx:nope --name k8snet" in text


# -- small API-shaped helpers ----------------------------------------------------------------------

def test_selector_string():
    sel = {"matchLabels": {"app": "web", "tier": "front"},
           "matchExpressions": [{"key": "env", "operator": "In", "values": ["a", "b"]},
                                {"key": "canary", "operator": "DoesNotExist"}]}
    assert kb.selector_string(sel) == "app=web,tier=front,env in (a,b),!canary"
    assert kb.selector_string(None) == ""


def test_rollout_state():
    dep = {"metadata": {"generation": 2}, "spec": {"replicas": 3},
           "status": {"observedGeneration": 2, "replicas": 3, "updatedReplicas": 3, "availableReplicas": 2}}
    assert kb.rollout_state("Deployment", dep) == (False, "2/3 available")
    dep["status"]["availableReplicas"] = 3
    assert kb.rollout_state("Deployment", dep)[0]
    assert kb.rollout_state("Pod", _pod("p", phase="Running", ready=True))[0]
    assert not kb.rollout_state("Pod", _pod("p", phase="Running", ready=False))[0]


def test_debug_container_plan():
    pod = {"spec": {}, "status": {}}
    assert kb.debug_container_plan(pod) == ("k8snet-probe", "new")
    pod = {"spec": {"ephemeralContainers": [{"name": "k8snet-probe"}]},
           "status": {"ephemeralContainerStatuses": [{"name": "k8snet-probe", "state": {"running": {}}}]}}
    assert kb.debug_container_plan(pod) == ("k8snet-probe", "running")
    pod["status"]["ephemeralContainerStatuses"][0]["state"] = {"terminated": {"exitCode": 137}}
    assert kb.debug_container_plan(pod) == ("k8snet-probe-2", "new")


@pytest.mark.parametrize("raw, code", [
    ("{\"metadata\":{},\"status\":\"Success\"}", 0),
    ('{"metadata":{},"status":"Failure","message":"command terminated with non-zero exit code: error executing '
     'command [sh -c exit 7], exit code 7","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode",'
     '"message":"7"}]}}', 7),
    ('{"metadata":{},"status":"Failure","message":"exec: \\"curl\\": executable file not found in $PATH"}', 127),
    ("", 255),
])
def test_parse_exec_status(raw, code):
    assert kb.parse_exec_status(raw)[0] == code


def test_config_without_extra_ports_still_explains():
    cfg = parse_config({"kind": "Cluster", "apiVersion": "kind.x-k8s.io/v1alpha4"})
    err = kb.explain_kind_failure("Ports are not available: exposing port TCP 0.0.0.0:8080 -> 0.0.0.0:0", cfg)
    assert "Host port 8080" in err.message


def test_environment_is_left_alone(config, monkeypatch):
    monkeypatch.delenv("KIND_EXPERIMENTAL_PROVIDER", raising=False)
    backend = KindBackend(config)
    backend._runtime = "podman"
    assert backend._kind_env()["KIND_EXPERIMENTAL_PROVIDER"] == "podman"
    assert "KIND_EXPERIMENTAL_PROVIDER" not in os.environ


# -- probes against a scripted cluster (API reads and exec replaced) -----------------------------------

class ScriptedKind(KindBackend):
    """A KindBackend whose API reads come from a dict and whose exec answers from a script."""

    def __init__(self, config, objects, answers):
        super().__init__(config, context="scripted")
        self.objects, self.answers, self.commands = objects, answers, []

    def _get(self, api_version, kind, name, namespace=None):
        return next((o for o in self.objects if o["kind"] == kind and o["metadata"]["name"] == name
                     and o["metadata"].get("namespace", namespace) == namespace), None)

    def _list(self, api_version, kind, namespace=None, selector=None, field_selector=None):
        out = [o for o in self.objects if o["kind"] == kind and namespace in (None, o["metadata"].get("namespace"))]
        if selector:
            wanted = dict(part.split("=") for part in selector.split(","))
            out = [o for o in out if all(o["metadata"].get("labels", {}).get(k) == v for k, v in wanted.items())]
        if field_selector:
            ip = field_selector.split("=", 1)[1]
            out = [o for o in out if o.get("status", {}).get("podIP") == ip]
        return out

    def debug_container(self, pod, namespace="default", timeout=0):
        return "k8snet-probe"

    def exec(self, pod, command, *, namespace="default", container=None, node=None, timeout=30):
        from k8snet_tutorial.results import CommandResult
        self.commands.append((pod, container, list(command)))
        code, out, err = self.answers.pop(0)
        return CommandResult(list(command), code, out, err)


def _k_pod(name, ip, ns="default", labels=None, image="nginx:1.27-alpine", args=None, ports=(80,)):
    return {"kind": "Pod", "metadata": {"name": name, "namespace": ns, "labels": labels or {}},
            "spec": {"containers": [{"name": "c", "image": image, "args": args or [],
                                     "ports": [{"name": "http" if p in (80, 8080) else "tcp", "containerPort": p} for p in ports]}]},
            "status": {"phase": "Running", "podIP": ip}}


def _k_svc(name, ip, ns="default", selector=None, ports=None):
    return {"kind": "Service", "metadata": {"name": name, "namespace": ns},
            "spec": {"clusterIP": ip, "clusterIPs": [ip], "selector": selector or {}, "ports": ports or []}}


CLUSTER = [
    _k_pod("client", "10.244.1.4", labels={"app": "client"}),
    _k_pod("echo", "10.244.2.9", labels={"app": "echo"}, image="registry.k8s.io/e2e-test-images/agnhost:2.53",
           args=["netexec", "--http-port=8080"], ports=(8080,)),
    _k_pod("web-5d9c-abcde", "10.244.2.5", ns="zt", labels={"app": "web"}),
    _k_pod("db", "10.244.1.7", labels={"app": "db"}, ports=(5432,)),
    _k_svc("web", "10.96.33.1", ns="zt", selector={"app": "web"}, ports=[{"name": "http", "port": 80, "targetPort": "http"}]),
    _k_svc("my-nodeport-service", "10.96.40.2", ns="zt", selector={"app": "web"},
           ports=[{"name": "http", "port": 80, "targetPort": 80, "nodePort": 30080}]),
]


def test_probe_pod_by_name_with_agnhost(config):
    b = ScriptedKind(config, CLUSTER, [(0, "echo\n@@k8snet 200 0.000300 10.244.2.9 10.244.1.4\n"
                                          "10.244.1.4:41234\n@@k8snet 200 0.000000 10.244.2.9 10.244.1.4\n", "")])
    r = b.probe("client", "echo", port=8080)
    (_pod, container, cmd), = b.commands
    assert container == "k8snet-probe" and cmd[0] == "curl"
    assert cmd[-2:] == ["http://10.244.2.9:8080/hostname", "http://10.244.2.9:8080/clientip"]
    assert (r.outcome, r.address, r.port, r.responder, r.seen_source) == ("connected", "10.244.2.9", 8080, "echo", "10.244.1.4")
    assert r.latency_ms == pytest.approx(0.3)
    assert "HTTP 200" in r.detail


def test_probe_service_keeps_the_dns_name(config):
    b = ScriptedKind(config, CLUSTER, [(0, "pod=web-5d9c-abcde client=10.244.1.4:5000\n"
                                          "@@k8snet 200 0.000500 10.96.33.1 10.244.1.4\n", "")])
    r = b.probe("client", "web.zt")
    assert b.commands[0][2][-1] == "http://web.zt:80/"
    assert (r.outcome, r.address, r.responder, r.seen_source) == ("connected", "10.96.33.1", "web-5d9c-abcde", "10.244.1.4")


def test_probe_timeout_keeps_the_resolved_address(config):
    b = ScriptedKind(config, CLUSTER, [(28, "\n@@k8snet 000 0.000000  \n",
                                        "curl: (28) Connection timed out after 2002 milliseconds")])
    r = b.probe("client", "10.244.2.5:80", namespace="zt")
    assert (r.outcome, r.address, r.responder, r.latency_ms) == ("timeout", "10.244.2.5", None, None)


def test_probe_nodeport_on_a_node_ip_speaks_http(config):
    b = ScriptedKind(config, CLUSTER, [(0, "<html>web-5d9c-abcde</html>\n@@k8snet 200 0.0004 172.18.0.3 10.244.1.4\n", "")])
    r = b.probe("client", "172.18.0.3:30080")
    assert b.commands[0][2][-1] == "http://172.18.0.3:30080/"
    assert r.ok and r.responder == "web-5d9c-abcde"


def test_probe_non_http_port_uses_nc(config):
    b = ScriptedKind(config, CLUSTER, [(1, "", "nc: connect to 10.244.1.7 port 5432 (tcp) failed: Connection refused")])
    r = b.probe("client", "db", port=5432)
    assert b.commands[0][2][:2] == ["nc", "-vz"] and b.commands[0][2][-2:] == ["10.244.1.7", "5432"]
    assert r.outcome == "refused"


def test_probe_dns_over_udp_uses_dig(config):
    b = ScriptedKind(config, CLUSTER, [(0, ";; ->>HEADER<<- opcode: QUERY, status: NOERROR\n;; Query time: 3 msec\n", "")])
    r = b.probe("client", "10.96.0.10", protocol="udp", port=53)
    assert b.commands[0][2][:2] == ["dig", "@10.96.0.10"]
    assert r.ok and r.latency_ms == 3.0


def test_probe_rejects_other_protocols(config):
    with pytest.raises(UsageError):
        ScriptedKind(config, CLUSTER, []).probe("client", "web", protocol="sctp")


def _fake_ws(channels, still_open=False):
    """A WSClient from the official client, pre-filled as if an exec session had run."""
    from kubernetes.stream.ws_client import WSClient

    class Sock:
        connected = True

        def close(self, **kwargs):
            pass

    ws = WSClient.__new__(WSClient)
    ws._connected, ws._channels, ws._closed_channels = still_open, dict(channels), set()
    ws.binary, ws.newline, ws.sock, ws._returncode, ws.subprotocol = False, "\n", Sock(), None, None
    ws.update = lambda timeout=0: None  # nothing more arrives
    return ws


@pytest.mark.parametrize("channels, code, out, err_part", [
    ({1: "inet 10.244.1.4/24\n", 3: '{"metadata":{},"status":"Success"}'}, 0, "inet 10.244.1.4/24\n", ""),
    ({2: "boom\n", 3: '{"status":"Failure","reason":"NonZeroExitCode","details":{"causes":'
                      '[{"reason":"ExitCode","message":"7"}]}}'}, 7, "", "boom"),
    ({3: '{"status":"Failure","message":"exec: \\"ip\\": executable file not found in $PATH"}'}, 127, "", "not found"),
])
def test_exec_reads_the_channels(config, monkeypatch, channels, code, out, err_part):
    import kubernetes.stream
    b = KindBackend(config, context="scripted")
    monkeypatch.setattr(b, "_core", lambda: type("Core", (), {"connect_get_namespaced_pod_exec": None})())
    monkeypatch.setattr(kubernetes.stream, "stream", lambda *a, **k: _fake_ws(channels))
    r = b.exec("pod-a", ["ip", "addr"])
    assert (r.returncode, r.stdout) == (code, out) and err_part in r.stderr


def test_exec_times_out(config, monkeypatch):
    import kubernetes.stream
    b = KindBackend(config, context="scripted")
    monkeypatch.setattr(b, "_core", lambda: type("Core", (), {"connect_get_namespaced_pod_exec": None})())
    monkeypatch.setattr(kubernetes.stream, "stream", lambda *a, **k: _fake_ws({1: "partial"}, still_open=True))
    r = b.exec("pod-a", ["sleep", "100"], timeout=0.2)
    assert r.returncode == 124 and r.stdout == "partial" and "timed out" in r.stderr

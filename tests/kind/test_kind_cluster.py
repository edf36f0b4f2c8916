"""The kind backend against a real cluster: shape, manifests, exec, probes, NodePort and NetworkPolicy."""
from __future__ import annotations

import ipaddress
import socket

import pytest

from k8snet_tutorial.manifests import load_paths

pytestmark = pytest.mark.kind

POD_SUBNET = ipaddress.ip_network("10.244.0.0/16")
AGNHOST = "registry.k8s.io/e2e-test-images/agnhost:2.53"
TEST_NS = "k8snet-kind-test"


def _pods_of(backend, objects):
    """The pods that the applied objects own: bare Pods by name, workloads' pods by their selectors."""
    from k8snet_tutorial.backends.kind import selector_string
    pods = {}
    for obj in objects:
        ns = (obj.get("metadata") or {}).get("namespace") or "default"
        if obj["kind"] == "Pod":
            for p in backend.list_objects("Pod", ns):
                if p["metadata"]["name"] == obj["metadata"]["name"]:
                    pods[(ns, p["metadata"]["name"])] = p
        elif obj["kind"] in ("Deployment", "StatefulSet", "DaemonSet"):
            if (obj.get("spec") or {}).get("replicas", 1) == 0:
                continue
            for p in backend.list_objects("Pod", ns, selector_string(obj["spec"]["selector"])):
                if not (p.get("metadata") or {}).get("deletionTimestamp"):
                    pods[(ns, p["metadata"]["name"])] = p
    return pods


def _ready(pod):
    return any(c["type"] == "Ready" and c["status"] == "True" for c in pod["status"].get("conditions") or [])


@pytest.fixture(scope="module")
def echo(backend):
    """An agnhost netexec server (answers /hostname and /clientip) and a client pod, in their own namespace."""
    objects = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": TEST_NS}},
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "echo", "namespace": TEST_NS, "labels": {"app": "echo"}},
         "spec": {"containers": [{"name": "echo", "image": AGNHOST, "args": ["netexec", "--http-port=8080"],
                                  "ports": [{"name": "http", "containerPort": 8080}]}]}},
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "client", "namespace": TEST_NS, "labels": {"app": "client"}},
         "spec": {"containers": [{"name": "client", "image": AGNHOST, "args": ["pause"]}]}},
    ]
    backend.apply(objects)
    yield {p["metadata"]["name"]: p for p in backend.list_objects("Pod", TEST_NS)}
    backend.delete(list(reversed(objects)))


def test_up_builds_three_nodes_with_pod_cidrs(backend, kind_config):
    status = backend.status()
    assert status.running, status.detail
    names = sorted(n["name"] for n in status.nodes)
    assert names == ["k8snet-control-plane", "k8snet-worker", "k8snet-worker2"]
    cidrs = [ipaddress.ip_network(n["podCIDR"]) for n in status.nodes]
    assert all(c.subnet_of(POD_SUBNET) and c.prefixlen == 24 for c in cidrs), cidrs
    assert len(set(cidrs)) == 3
    assert all(n["ready"] and ipaddress.ip_address(n["ip"]) for n in status.nodes)
    assert status.proxy_mode == kind_config.proxy_mode


def test_up_again_reuses_the_cluster(backend, kind_config):
    assert backend.up().startswith(f"kind cluster {kind_config.name!r} reused")


def test_chapter02_pods_run_on_workers(backend, chapter02):
    objects, lines = chapter02
    assert any(line.startswith("deployment.apps/") for line in lines)
    assert all(line.rsplit(" ", 1)[1] in ("created", "configured", "unchanged") for line in lines)
    pods = _pods_of(backend, objects)
    assert len(pods) >= 10
    for (ns, name), pod in pods.items():
        assert pod["status"]["phase"] == "Running", f"{ns}/{name} is {pod['status']['phase']}"
        assert pod["spec"]["nodeName"] in ("k8snet-worker", "k8snet-worker2"), f"{name} on {pod['spec']['nodeName']}"
        assert ipaddress.ip_address(pod["status"]["podIP"]) in POD_SUBNET
    assert {p["spec"]["nodeName"] for p in pods.values()} == {"k8snet-worker", "k8snet-worker2"}


def test_apply_twice_is_unchanged(backend, chapter02):
    objects, _ = chapter02
    nginx = [o for o in objects if o["kind"] == "Pod" and o["metadata"]["name"] == "nginx-pod"]
    assert backend.apply(nginx) == ["pod/nginx-pod unchanged"]


def test_exec_ip_addr_in_a_pod(backend, chapter02):
    pod = next(p for p in backend.list_objects("Pod", "default") if p["metadata"]["name"] == "pod-a")
    r = backend.exec("pod-a", ["ip", "addr"], container="tools")
    assert r.ok, r.stderr
    assert "eth0" in r.stdout and pod["status"]["podIP"] in r.stdout
    fail = backend.exec("pod-a", ["sh", "-c", "exit 7"], container="tools")
    assert fail.returncode == 7


def test_exec_on_a_node(backend):
    r = backend.exec(None, ["ip", "route"], node="k8snet-worker")
    assert r.ok and "10.244." in r.stdout


def test_probe_pod_to_pod_keeps_the_source_ip(backend, echo):
    client_ip = echo["client"]["status"]["podIP"]
    result = backend.probe("client", "echo", namespace=TEST_NS, port=8080, timeout=3)
    assert result.outcome == "connected", result.summary()
    assert result.address == echo["echo"]["status"]["podIP"]
    assert result.responder == "echo"
    assert result.seen_source == client_ip  # no NAT between pods
    assert result.latency_ms is not None and result.latency_ms >= 0
    again = backend.probe("client", "echo", namespace=TEST_NS, port=8080)
    assert again.ok
    pod = next(p for p in backend.list_objects("Pod", TEST_NS) if p["metadata"]["name"] == "client")
    assert [c["name"] for c in pod["spec"]["ephemeralContainers"]] == ["k8snet-probe"]  # reused, not re-added


def test_probe_refused_and_unresolved(backend, echo):
    assert backend.probe("client", "echo", namespace=TEST_NS, port=9, timeout=2).outcome == "refused"
    assert backend.probe("client", "no-such-service.nowhere", namespace=TEST_NS, port=80).outcome == "unresolved"


def test_nodeport_30080_reachable_on_node_ips(backend, chapter02):
    nodes = backend.status().nodes
    for node in nodes:
        result = backend.probe("pod-a", f"{node['ip']}:30080", timeout=3)
        assert result.outcome == "connected", result.summary()
        assert "HTTP 200" in result.detail
    with socket.create_connection(("127.0.0.1", 30080), timeout=5):  # kind-config maps it to the host
        pass


def test_default_deny_makes_a_probe_time_out(backend, manifests_dir):
    folder = manifests_dir / "07-network-policies"
    namespaces = [o for o in load_paths([folder / "00-namespaces.yaml"]) if o["metadata"]["name"] == "zero-trust"]
    apps = load_paths([folder / "40-zero-trust-apps.yaml"])
    deny = load_paths([folder / "41-default-deny.yaml"])
    allow = load_paths([folder / "42-allow-dns.yaml", folder / "43-allow-client-to-web.yaml"])
    backend.apply(namespaces + apps)
    try:
        web_ip = next(p["status"]["podIP"] for p in backend.list_objects("Pod", "zero-trust", "app=web") if _ready(p))
        assert backend.probe("client", web_ip, namespace="zero-trust", port=80).ok
        backend.apply(deny)
        outcomes = []
        for _ in range(10):  # the policy agent needs a moment to program the rules
            outcomes.append(backend.probe("client", web_ip, namespace="zero-trust", port=80, timeout=2).outcome)
            if outcomes[-1] == "timeout":
                break
        assert outcomes[-1] == "timeout", outcomes
        backend.apply(allow)
        for _ in range(10):
            result = backend.probe("client", "web", namespace="zero-trust", port=80, timeout=2)
            if result.ok:
                break
        assert result.ok, result.summary()
    finally:
        backend.delete(namespaces)

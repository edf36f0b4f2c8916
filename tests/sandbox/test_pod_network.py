"""Pods get addresses on their nodes and reach each other without NAT, on one node and across nodes."""
from __future__ import annotations

import ipaddress
import os
import time

import pytest

from k8snet_tutorial.errors import ManifestError, NotModelledError


@pytest.fixture(scope="module")
def pods(lab):
    lab.apply(str(__import__("pathlib").Path(__file__).parent / "data" / "pods.yaml"))
    return {p["metadata"]["name"]: p for p in lab.pods()}


def test_nodes_have_kind_names_addresses_and_pod_ranges(lab):
    nodes = {n["metadata"]["name"]: n for n in lab.objects("Node")}
    names = [f"{lab.name}-control-plane", f"{lab.name}-worker", f"{lab.name}-worker2"]
    assert sorted(nodes) == names
    assert [nodes[n]["spec"]["podCIDR"] for n in names] == ["10.244.0.0/24", "10.244.1.0/24", "10.244.2.0/24"]
    assert nodes[names[0]]["spec"]["taints"][0]["effect"] == "NoSchedule"


def test_pods_get_addresses_from_their_node_range(lab, pods):
    assert pods["server-a"]["spec"]["nodeName"] == f"{lab.name}-worker"
    assert pods["server-b"]["spec"]["nodeName"] == f"{lab.name}-worker2"
    assert pods["client"]["spec"]["nodeName"] == f"{lab.name}-worker"
    assert pods["server-a"]["status"]["podIP"] == "10.244.1.2"
    assert pods["server-b"]["status"]["podIP"] == "10.244.2.2"
    assert pods["client"]["status"]["podIP"] == "10.244.1.3"


def test_pod_sees_its_own_eth0_and_routes(lab, pods):
    addr = lab.exec("client", "ip -4 -o addr show dev eth0")
    assert addr.ok and "inet 10.244.1.3/24" in addr.stdout
    routes = lab.exec("client", "ip route").stdout
    assert "default via 10.244.1.1 dev eth0" in routes
    assert "10.244.1.0/24 via 10.244.1.1 dev eth0 src 10.244.1.3" in routes


def test_node_routes_to_other_nodes_pod_ranges(lab, pods):
    routes = lab.node_exec(f"{lab.name}-worker", "ip route").stdout
    assert "10.244.2.0/24 via 172.18.0.4 dev eth0" in routes
    assert "10.244.0.0/24 via 172.18.0.2 dev eth0" in routes
    assert "10.244.1.2 dev veth" in routes  # the ptp host route to a local pod
    links = lab.node_exec(f"{lab.name}-worker", "ip -o link show type veth").stdout
    assert links.count("veth") >= 2


@pytest.mark.parametrize("target,ip", [("server-a", "10.244.1.2"), ("server-b", "10.244.2.2")])
def test_http_keeps_the_senders_pod_ip(lab, pods, target, ip):
    out = lab.exec("client", f"curl -sS -m 3 http://{ip}/")
    assert out.ok, out
    assert f"pod={target} ip={ip} client=10.244.1.3:" in out.stdout


def test_ping_on_one_node_and_across_nodes(lab, pods):
    for ip in ("10.244.1.2", "10.244.2.2"):
        r = lab.exec("client", f"ping -c 1 -W 2 {ip}")
        assert r.ok and "1 received" in r.stdout, r


def test_probe_reports_responder_and_source(lab, pods):
    r = lab.probe("client", "server-b")
    assert r.outcome == "connected" and r.responder == "server-b" and r.seen_source == "10.244.1.3"
    refused = lab.probe("client", "server-b", port=81)
    assert refused.outcome == "refused"


def test_resolv_conf_and_hosts_are_the_pods(lab, pods):
    resolv = lab.exec("client", "cat /etc/resolv.conf").stdout
    assert resolv.splitlines() == ["search default.svc.cluster.local svc.cluster.local cluster.local",
                                   "nameserver 10.96.0.10", "options ndots:5"]
    hosts = lab.exec("client", "cat /etc/hosts").stdout
    assert hosts.startswith("# Kubernetes-managed hosts file.") and "10.244.1.3\tclient" in hosts
    assert lab.exec("client", "hostname").stdout.strip() == "client"


def test_missing_tool_is_named(lab, pods):
    r = lab.exec("client", "no-such-tool-k8snet --version")
    assert r.returncode == 127 and "no-such-tool-k8snet" in r.stderr


def test_exec_in_unknown_pod_is_a_usage_error(lab):
    from k8snet_tutorial.errors import UsageError
    with pytest.raises(UsageError, match='pods "ghost" not found'):
        lab.exec("ghost", "true")


def test_unmodelled_field_is_refused_with_its_name(lab, tmp_path):
    f = tmp_path / "host.yaml"
    f.write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: hostnet}\nspec:\n  hostNetwork: true\n"
                 "  containers: [{name: c, image: 'nginx:1.27'}]\n")
    with pytest.raises(NotModelledError, match=r"(?s)host\.yaml.*pod/hostnet.*spec\.hostNetwork.*kind backend"):
        lab.apply(str(f))
    assert "hostnet" not in {p["metadata"]["name"] for p in lab.pods()}


def test_schema_error_names_file_object_and_field(lab, tmp_path):
    f = tmp_path / "typo.yaml"
    f.write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: typo}\nspec:\n  containers: [{name: c, imagee: x}]\n")
    with pytest.raises(ManifestError) as e:
        lab.apply(str(f))
    assert "typo.yaml" in str(e.value) and "pod/typo" in str(e.value) and "imagee" in str(e.value)


def test_node_name_and_node_selector_are_honoured(lab, tmp_path):
    f = tmp_path / "placed.yaml"
    f.write_text(f"""apiVersion: v1
kind: Pod
metadata: {{name: on-cp}}
spec:
  nodeName: {lab.name}-control-plane
  containers: [{{name: c, image: 'nginx:1.27'}}]
---
apiVersion: v1
kind: Pod
metadata: {{name: by-label}}
spec:
  nodeSelector: {{kubernetes.io/hostname: {lab.name}-worker2}}
  containers: [{{name: c, image: 'nginx:1.27'}}]
""")
    lab.apply(str(f))
    placed = {p["metadata"]["name"]: p["spec"]["nodeName"] for p in lab.pods()}
    assert placed["on-cp"] == f"{lab.name}-control-plane"
    assert placed["by-label"] == f"{lab.name}-worker2"
    assert lab.pod_ip("on-cp").startswith("10.244.0.")


def test_tcpdump_captures_the_pods_real_packets(lab, pods):
    # tcpdump drops privileges to its own user: the lab's user namespace must map more than one ID (as root).
    r = lab.exec("client", "sh -c 'timeout 5 tcpdump -c 2 -nn -l -i eth0 tcp port 80 2>/dev/null & sleep 1; "
                           "curl -s -m 2 http://10.244.2.2/ >/dev/null; wait'")
    if os.getuid() != 0 and "Couldn't change" in r.stdout + r.stderr:
        pytest.skip("this user has no subordinate IDs, so tcpdump cannot drop privileges in the lab")
    assert "10.244.1.3." in r.stdout and "> 10.244.2.2.80: Flags [S]" in r.stdout, r

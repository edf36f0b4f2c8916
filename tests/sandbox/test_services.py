"""Services, kube-proxy's rules and the cluster DNS, answered by real packets in the sandbox."""
from __future__ import annotations

import collections
import re
import time

import pytest

from k8snet_tutorial import Lab
from k8snet_tutorial.sandbox import kubeproxy
from labtools import DATA, REPO, unique_name


@pytest.fixture(scope="module")
def svc_lab(lab):
    lab.apply(str(DATA / "services.yaml"))
    return lab


def dig(lab, *args: str) -> str:
    r = lab.exec("client", ["dig", "+noall", "+answer", "+authority", "+comments", "+time=2", "+tries=1", *args])
    return r.stdout


def echo_pods(lab) -> dict[str, dict]:
    return {p["metadata"]["name"]: p for p in lab.pods(selector="app=echo")}


def test_clusterip_answers_from_an_endpoint_without_nat(svc_lab):
    r = svc_lab.probe("client", "echo")
    assert r.outcome == "connected" and r.address.startswith("10.96.")
    assert r.responder in echo_pods(svc_lab)
    assert r.seen_source == svc_lab.pod_ip("client")


def test_clusterip_spreads_over_all_endpoints(svc_lab):
    seen = collections.Counter(svc_lab.probe("client", "echo").responder for _ in range(40))
    assert set(seen) == set(echo_pods(svc_lab))


def test_session_affinity_pins_a_client(svc_lab):
    assert len({svc_lab.probe("client", "sticky").responder for _ in range(10)}) == 1


def test_nodeport_on_every_node(svc_lab):
    nodes = [n["status"]["addresses"][0]["address"] for n in svc_lab.objects("Node")]
    for ip in nodes:
        r = svc_lab.probe("@host", f"{ip}:30080")
        assert r.outcome == "connected" and r.responder in echo_pods(svc_lab), (ip, r)


def test_external_traffic_policy_local_keeps_the_source_and_uses_local_endpoints(svc_lab):
    pods = echo_pods(svc_lab)
    by_node = collections.defaultdict(set)
    for name, p in pods.items():
        by_node[p["status"]["hostIP"]].add(name)
    for n in svc_lab.objects("Node"):
        ip = n["status"]["addresses"][0]["address"]
        r = svc_lab.probe("@host", f"{ip}:30081", timeout=1)
        if by_node.get(ip):
            assert r.outcome == "connected" and r.responder in by_node[ip] and r.seen_source == "172.18.0.1"
        else:
            assert r.outcome != "connected"


def test_loadbalancer_gets_an_external_ip_reachable_from_outside(svc_lab):
    out = svc_lab.kubectl("get svc echo-lb").stdout
    ip = out.splitlines()[1].split()[3]
    assert ip.startswith("172.18.255.")
    r = svc_lab.probe("@host", f"{ip}:80")
    assert r.outcome == "connected" and r.responder in echo_pods(svc_lab)


def test_dns_a_record_of_a_clusterip_service_with_ttl_30(svc_lab):
    ip = svc_lab.objects("Service", "default")
    cluster_ip = next(s["spec"]["clusterIP"] for s in ip if s["metadata"]["name"] == "echo")
    out = dig(svc_lab, "echo.default.svc.cluster.local")
    assert re.search(rf"echo\.default\.svc\.cluster\.local\.\s+30\s+IN\s+A\s+{re.escape(cluster_ip)}", out), out


def test_dns_headless_service_lists_ready_endpoints(svc_lab):
    out = dig(svc_lab, "echo-headless.default.svc.cluster.local")
    ips = set(re.findall(r"IN\s+A\s+(\S+)", out))
    assert ips == {p["status"]["podIP"] for p in echo_pods(svc_lab).values()}


def test_dns_hostname_subdomain_srv_ptr_pod_and_cname(svc_lab):
    db_ip = svc_lab.pod_ip("db-0")
    assert db_ip in dig(svc_lab, "db-0.db.default.svc.cluster.local")
    srv = dig(svc_lab, "SRV", "_http._tcp.echo.default.svc.cluster.local")
    assert re.search(r"IN\s+SRV\s+0 \d+ 80 echo\.default\.svc\.cluster\.local\.", srv), srv
    ptr = dig(svc_lab, "-x", "10.96.0.10")
    assert "kube-dns.kube-system.svc.cluster.local." in ptr
    dashed = db_ip.replace(".", "-")
    assert re.search(rf"IN\s+A\s+{re.escape(db_ip)}", dig(svc_lab, f"{dashed}.default.pod.cluster.local"))
    cname = dig(svc_lab, "legacy-db.default.svc.cluster.local")
    assert re.search(r"IN\s+CNAME\s+db\.legacy\.example\.com\.", cname), cname


def test_dns_nxdomain_for_what_does_not_exist(svc_lab):
    out = dig(svc_lab, "nope.default.svc.cluster.local")
    assert "status: NXDOMAIN" in out and "SOA" in out


def test_short_names_go_through_the_search_path(svc_lab):
    r = svc_lab.exec("client", "nslookup echo")
    assert r.ok and "echo.default.svc.cluster.local" in r.stdout
    moved = svc_lab.probe("client", "payment-service.finance")
    assert moved.outcome == "connected" and moved.responder == "payment"


def test_an_outside_name_fails_fast(svc_lab):
    start = time.monotonic()
    r = svc_lab.exec("client", "dig +time=2 +tries=1 example.com")
    assert "SERVFAIL" in r.stdout
    assert time.monotonic() - start < 5
    assert svc_lab.probe("client", "http://www.example.com/").outcome == "unresolved"


def test_endpoints_follow_selector_patches(svc_lab):
    assert svc_lab.kubectl(["patch", "svc", "echo", "-p", '{"spec":{"selector":{"app":"nothing"}}}']).ok
    ep = svc_lab.kubectl("get endpoints echo").stdout
    assert "<none>" in ep
    assert svc_lab.probe("client", "echo", timeout=1).outcome != "connected"
    assert svc_lab.kubectl(["patch", "svc", "echo", "-p", '{"spec":{"selector":{"app":"echo"}}}']).ok
    ep = svc_lab.kubectl("get endpoints echo").stdout
    assert ep.count(":80") == 3
    assert svc_lab.probe("client", "echo").ok


def test_iptables_rules_carry_upstream_names_and_probabilities(svc_lab):
    svc = next(s for s in svc_lab.objects("Service", "default") if s["metadata"]["name"] == "echo")
    sp = kubeproxy.ServicePort(namespace="default", name="echo", port_name="http", protocol="TCP",
                               cluster_ip=svc["spec"]["clusterIP"], port=80)
    chain = kubeproxy.service_chain("KUBE-SVC-", sp)
    rules = svc_lab.node_exec(f"{svc_lab.name}-worker", "iptables-save -t nat").stdout
    assert f'-A KUBE-SERVICES -d {svc["spec"]["clusterIP"]}/32 -p tcp -m comment --comment "default/echo:http cluster IP"' in rules
    mine = [line for line in rules.splitlines() if line.startswith(f"-A {chain} ")]
    probs = re.findall(r"--probability (\S+)", "\n".join(mine))
    assert probs == ["0.33333333349", "0.50000000000"]
    assert len([m for m in mine if "KUBE-SEP-" in m]) == 3


def test_nftables_mode_serves_the_same_probes():
    lab = Lab.up(unique_name("nft"), backend="sandbox", config=str(REPO / "kind-config-nftables.yaml"))
    try:
        lab.apply(str(DATA / "services.yaml"))
        table = lab.node_exec(f"{lab.name}-worker", "nft list table ip kube-proxy").stdout
        assert "map service-ips" in table and "numgen random mod 3" in table
        assert lab.probe("client", "echo").responder in echo_pods(lab)
        assert lab.probe("@host", "172.18.0.3:30080").ok
        assert "echo.default.svc.cluster.local" in lab.exec("client", "nslookup echo").stdout
    finally:
        lab.down()


def test_ipvs_mode_is_refused_with_a_pointer_to_kind(tmp_path):
    cfg = tmp_path / "ipvs.yaml"
    cfg.write_text((REPO / "kind-config.yaml").read_text().replace("kubeProxyMode: iptables", "kubeProxyMode: ipvs"))
    from k8snet_tutorial.errors import K8snetError
    with pytest.raises(K8snetError, match="(?s)IPVS.*kind"):
        Lab.up(unique_name("ipvs"), backend="sandbox", config=str(cfg))

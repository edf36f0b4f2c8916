"""NetworkPolicies enforced by the kernel in the sandbox: the tutorial's PCI scenario, the matrix, the explainer."""
from __future__ import annotations

import pytest

from k8snet_tutorial.errors import UsageError
from labtools import REPO


@pytest.fixture(scope="module")
def pci(lab):
    lab.apply(str(REPO / "manifests/07-network-policies/"))
    return lab


def processor(lab) -> str:
    return "payment-processing/" + sorted(p["metadata"]["name"] for p in lab.pods("payment-processing"))[0]


def test_checkout_reaches_the_payment_processor_and_test_pod_does_not(pci):
    ok = pci.probe("production/checkout", "payment-processor.payment-processing", port=8080)
    assert ok.outcome == "connected" and ok.responder.startswith("payment-processor-")
    assert ok.seen_source == pci.pod_ip("checkout", "production")
    denied = pci.probe("default/test-pod", "payment-processor.payment-processing", port=8080, timeout=1)
    assert denied.outcome == "timeout"  # dropped, as kind's default CNI does


def test_zero_trust_default_deny_with_dns_and_one_allowed_flow(pci):
    assert pci.probe("zero-trust/client", "web", namespace="zero-trust").ok  # the name resolves: DNS egress allowed
    r = pci.exec("client", "nslookup web", namespace="zero-trust")
    assert r.ok and "web.zero-trust.svc.cluster.local" in r.stdout
    web = sorted(p["metadata"]["name"] for p in pci.pods("zero-trust") if p["metadata"]["name"].startswith("web-"))
    back = pci.probe(f"zero-trust/{web[0]}", f"{pci.pod_ip('client', 'zero-trust')}:80", timeout=0.5)
    assert back.outcome == "timeout"


def test_matrix_observed_equals_expected(pci):
    m = pci.matrix(["zero-trust", "production", "default"], ports=[80, 8080], timeout=0.5)
    assert m.cells and not m.differences, str(m)
    loop = [c for c in m.cells if c.loopback]
    assert loop and all(c.observed == "allowed" for c in loop)
    data = m.to_dict()
    assert set(data) == {"pods", "results"} and {"from", "to", "port", "protocol", "observed", "expected"} <= set(
        data["results"][0])
    denied = [c for c in m.cells if c.source == "zero-trust/client" and c.target == "production/checkout"]
    assert denied and all(c.observed == c.expected == "denied" for c in denied)


def test_explain_names_the_rule_and_the_kernel_counter(pci):
    e = pci.explain("production/checkout", processor(pci), port=8080)
    assert e.verdict.allowed and e.agrees
    assert "pci-payment-policy ingress[0]" in e.verdict.reason
    assert any("pci-payment-policy ingress[0]" in h.comment and h.verdict == "return" for h in e.hits), str(e)
    d = pci.explain("default/test-pod", processor(pci), port=8080)
    assert not d.verdict.allowed and d.agrees
    assert any(h.verdict == "drop" for h in d.hits), str(d)


def test_policy_changes_take_effect_on_the_next_packet(pci):
    assert pci.kubectl("label pod test-pod pci=true").ok  # not enough: the policy wants production's namespace
    assert not pci.probe("default/test-pod", "payment-processor.payment-processing", port=8080, timeout=0.5).ok
    assert pci.kubectl("delete networkpolicy pci-payment-policy -n payment-processing").ok
    assert pci.probe("default/test-pod", "payment-processor.payment-processing", port=8080).ok
    pci.apply(str(REPO / "manifests/07-network-policies/20-pci-payment-policy.yaml"))
    assert not pci.probe("default/test-pod", "payment-processor.payment-processing", port=8080, timeout=0.5).ok


@pytest.mark.parametrize("spec,field", [
    ("ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/33}}]}]", "cidr"),
    ("ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/16, except: [192.168.0.0/24]}}]}]", "except"),
    ("ingress: [{ports: [{protocol: ICMP, port: 80}]}]", "protocol"),
])
def test_bad_policies_are_rejected_naming_the_field(lab, tmp_path, spec, field):
    f = tmp_path / "bad.yaml"
    f.write_text("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: bad}\n"
                 f"spec:\n  podSelector: {{}}\n  {spec}\n")
    with pytest.raises(UsageError, match=field):
        lab.apply(str(f))


def test_a_crashed_container_leaves_its_service(lab):
    lab.apply(str(REPO / "tests/sandbox/data/services.yaml"))
    pods = sorted(p["metadata"]["name"] for p in lab.pods(selector="app=echo"))
    assert "crashed" in lab.kill(pods[0])
    ep = lab.kubectl("get endpoints echo").stdout
    assert ep.count(":80") == 2
    assert lab.kubectl(f"get pod {pods[0]}").stdout.split("\n")[1].split()[2] == "CrashLoopBackOff"
    spread = lab.spread("client", "echo", 20)
    assert set(spread.counts) == set(pods[1:])

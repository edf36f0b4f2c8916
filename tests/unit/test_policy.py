"""The NetworkPolicy evaluator against Kubernetes' own e2e truth tables, our own cases, and API validation."""
from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from k8snet_tutorial.errors import UsageError
from k8snet_tutorial.policy import (PodInfo, RuleRef, evaluate, evaluate_from_ip, evaluate_to_ip, policy_errors,
                                    policy_types, rule_comment, validate_policy)

CASES_FILE = Path(__file__).resolve().parents[1] / "data" / "netpol_cases.yaml"
DATA = yaml.safe_load(CASES_FILE.read_text())
MODEL = DATA["model"]
CASES = DATA["cases"]
PLACEHOLDER = re.compile(r"\{ip ([^}\s]+)\}")


# --------------------------------------------------------------------------------------------
# Turning a case into pods, namespaces and policies
# --------------------------------------------------------------------------------------------


def model_ip(ns_index: int, pod_index: int) -> str:
    """A stable pod IP for the unit tests: one /24 per namespace inside kind's pod subnet."""
    return f"10.244.{ns_index + 1}.{pod_index + 10}"


def build_scene(case: dict) -> tuple[list[PodInfo], list[PodInfo], dict[str, dict[str, str]]]:
    """The case's model pods (the 9), its extra pods, and the namespaces' labels."""
    namespaces: dict[str, dict[str, str]] = {}
    for ns in MODEL["namespaces"]:
        namespaces[ns] = {"kubernetes.io/metadata.name": ns, **(case.get("namespace_labels") or {}).get(ns, {})}
    for ns, labels in (case.get("extra_namespaces") or {}).items():
        namespaces[ns] = {"kubernetes.io/metadata.name": ns, **(labels or {})}
    ports = tuple((f"serve-{p}-{proto.lower()}", p, proto) for p in MODEL["ports"] for proto in MODEL["protocols"])
    pods = []
    for n_i, ns in enumerate(MODEL["namespaces"]):
        for p_i, name in enumerate(MODEL["pods"]):
            labels = {"pod": name, **(case.get("pod_labels") or {}).get(f"{ns}/{name}", {})}
            pods.append(PodInfo(ns, name, labels, model_ip(n_i, p_i), ports))
    extras = []
    for e_i, extra in enumerate(case.get("extra_pods") or []):
        ns, name = extra["pod"].split("/")
        extras.append(PodInfo(ns, name, dict(extra.get("labels") or {}), f"10.244.9.{e_i + 10}",
                              tuple((n, int(p), proto) for n, p, proto in extra.get("ports") or [])))
    return pods, extras, namespaces


def fill_placeholders(value: Any, ips: dict[str, str]) -> Any:
    """Replace `{ip ns/pod}` in every string of a policy with that pod's address."""
    if isinstance(value, str):
        return PLACEHOLDER.sub(lambda m: ips[m.group(1)], value)
    if isinstance(value, list):
        return [fill_placeholders(v, ips) for v in value]
    if isinstance(value, dict):
        return {k: fill_placeholders(v, ips) for k, v in value.items()}
    return value


def peer_matches(peer: str, pod: PodInfo) -> bool:
    """Upstream's Peer: "*" every pod, "x/*" every pod of x, "x/a" one pod."""
    if peer == "*":
        return True
    ns, _, name = peer.partition("/")
    return pod.namespace == ns and name in ("*", pod.name)


def expected_table(probe: dict, pods: list[PodInfo]) -> dict[tuple[str, str], bool]:
    """The truth table upstream's Reachability builds: a default, then the edits in order."""
    table = {(s.key, d.key): bool(probe["default"]) for s in pods for d in pods}
    for edit in probe.get("expect") or []:
        for s in pods:
            for d in pods:
                if peer_matches(edit["from"], s) and peer_matches(edit["to"], d):
                    table[(s.key, d.key)] = bool(edit["allowed"])
    return table


def pretty(table: dict[tuple[str, str], bool], pods: list[PodInfo]) -> str:
    """The table as upstream prints it ('.' allowed, 'X' denied), for failure messages."""
    keys = [p.key for p in pods]
    lines = ["-\t" + "\t".join(keys)]
    for s in keys:
        lines.append(s + "\t" + "\t".join("." if table[(s, d)] else "X" for d in keys))
    return "\n".join(lines)


def case_id(case: dict) -> str:
    """Pytest id of a case."""
    return case["name"]


# --------------------------------------------------------------------------------------------
# The data file itself
# --------------------------------------------------------------------------------------------


def test_data_file_has_at_least_30_upstream_cases() -> None:
    """At least 30 upstream tests are translated, every case has a unique name and a probe or a check."""
    upstream = {c["upstream"] for c in CASES if c.get("upstream")}
    assert len(upstream) >= 30
    names = [c["name"] for c in CASES]
    assert len(names) == len(set(names))
    for case in CASES:
        assert case.get("probes") or case.get("checks"), case["name"]
        for probe in case.get("probes") or []:
            assert probe["protocol"] in MODEL["protocols"] and probe["port"] in MODEL["ports"]


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_case_policies_are_valid(case: dict) -> None:
    """Every policy of the data file passes the API server's validation once its addresses are filled in."""
    pods, extras, _ = build_scene(case)
    ips = {p.key: p.ip for p in pods + extras}
    for policy in case["policies"]:
        validate_policy(fill_placeholders(policy, ips))


# --------------------------------------------------------------------------------------------
# The evaluator against the tables
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_evaluator_matches_truth_table(case: dict) -> None:
    """All 9x9 pairs (loopback ignored, as upstream does) get the table's verdict for the case's port and protocol."""
    pods, extras, namespaces = build_scene(case)
    everyone = pods + extras
    policies = [fill_placeholders(copy.deepcopy(p), {q.key: q.ip for q in everyone}) for p in case["policies"]]
    for probe in case.get("probes") or []:
        want = expected_table(probe, pods)
        got = {(s.key, d.key): evaluate(s, d, probe["port"], probe["protocol"], policies, namespaces).allowed
               for s in pods for d in pods}
        wrong = [k for k in want if k[0] != k[1] and want[k] != got[k]]
        assert not wrong, (f"{case['name']} {probe['protocol']}/{probe['port']}: {wrong}\n"
                           f"expected:\n{pretty(want, pods)}\nevaluated:\n{pretty(got, pods)}")
    by_key = {p.key: p for p in everyone}
    for check in case.get("checks") or []:
        verdict = evaluate(by_key[check["from"]], by_key[check["to"]], check["port"], check["protocol"],
                           policies, namespaces)
        assert verdict.allowed is check["allowed"], f"{case['name']}: {check}\n{verdict}"


# --------------------------------------------------------------------------------------------
# Explanations
# --------------------------------------------------------------------------------------------

NS = {"x": {}, "y": {}, "kube-system": {}}
XA = PodInfo("x", "a", {"pod": "a"}, "10.244.1.10", (("http", 8080, "TCP"),))
XB = PodInfo("x", "b", {"pod": "b"}, "10.244.1.11")
YA = PodInfo("y", "a", {"pod": "a"}, "10.244.2.10", (("http", 9090, "TCP"),))


def netpol(name: str, ns: str, spec: dict) -> dict:
    """A NetworkPolicy manifest."""
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": ns}, "spec": spec}


def test_verdict_names_rule_peer_and_port() -> None:
    """The allowing rule is identified by policy, rule index, peer index and port index."""
    pol = netpol("web", "x", {"podSelector": {"matchLabels": {"pod": "a"}}, "ingress": [
        {"from": [{"podSelector": {"matchLabels": {"pod": "c"}}}]},
        {"from": [{"ipBlock": {"cidr": "192.0.2.0/24"}}, {"namespaceSelector": {}}],
         "ports": [{"port": 443}, {"port": "http"}]}]})
    verdict = evaluate(YA, XA, 8080, "tcp", [pol], NS)
    assert verdict.allowed
    assert verdict.ingress.rule == RuleRef("x", "web", "ingress", 1, 1, 1)
    assert verdict.ingress.rule.comment == "x/web ingress[1] from[1] ports[1]"
    assert verdict.ingress.policies == ("x/web",)
    assert not verdict.egress.isolated
    assert "allowed by x/web ingress[1] from[1] ports[1]" in verdict.reason


def test_verdict_names_default_deny() -> None:
    """A denied flow names the side and every policy whose default deny applies."""
    deny = netpol("deny", "x", {"podSelector": {}, "policyTypes": ["Egress"]})
    other = netpol("dns", "x", {"podSelector": {}, "egress": [{"ports": [{"port": 53, "protocol": "UDP"}]}],
                                "policyTypes": ["Egress"]})
    verdict = evaluate(XA, YA, 80, "TCP", [other, deny], NS)
    assert not verdict.allowed
    assert verdict.egress.default_deny == ("x/deny", "x/dns")
    assert verdict.ingress.allowed and not verdict.ingress.isolated
    assert "denied at egress of x/a" in verdict.reason
    assert "DENIED" in str(verdict)


def test_all_allowing_rules_listed_in_order() -> None:
    """Several policies allowing the same flow are a union; all are listed, sorted by policy name."""
    p1 = netpol("b-allow", "x", {"podSelector": {}, "ingress": [{}]})
    p2 = netpol("a-allow", "x", {"podSelector": {"matchLabels": {"pod": "a"}}, "ingress": [{"ports": [{"port": 80}]}]})
    verdict = evaluate(YA, XA, 80, "TCP", [p1, p2], NS)
    assert [r.comment for r in verdict.ingress.allowed_by] == ["x/a-allow ingress[0] ports[0]", "x/b-allow ingress[0]"]


def test_named_port_resolves_on_destination_for_egress() -> None:
    """An egress named port resolves against the destination pod's ports, not the source's."""
    pol = netpol("to-http", "x", {"podSelector": {"matchLabels": {"pod": "a"}}, "policyTypes": ["Egress"],
                                  "egress": [{"ports": [{"port": "http"}]}]})
    assert evaluate(XA, YA, 9090, "TCP", [pol], NS).allowed
    assert not evaluate(XA, YA, 8080, "TCP", [pol], NS).allowed  # x/a's own http port does not count
    assert not evaluate(XA, XB, 8080, "TCP", [pol], NS).allowed  # x/b has no port named http


def test_egress_to_external_address() -> None:
    """evaluate_to_ip: only ipBlock peers (with except) and peer-less rules reach a non-pod address."""
    pol = netpol("out", "x", {"podSelector": {}, "policyTypes": ["Egress"], "egress": [
        {"to": [{"ipBlock": {"cidr": "203.0.113.0/24", "except": ["203.0.113.128/25"]}}], "ports": [{"port": 443}]},
        {"to": [{"namespaceSelector": {}}]},
        {"ports": [{"port": "http"}]}]})
    assert evaluate_to_ip(XA, "203.0.113.5", 443, "TCP", [pol], NS).allowed
    assert not evaluate_to_ip(XA, "203.0.113.200", 443, "TCP", [pol], NS).allowed
    assert not evaluate_to_ip(XA, "203.0.113.5", 80, "TCP", [pol], NS).allowed
    verdict = evaluate_to_ip(XA, "198.51.100.1", 8080, "TCP", [pol], NS)
    assert not verdict.allowed and verdict.ingress.external  # a named port never resolves outside the pods
    assert evaluate_to_ip(YA, "198.51.100.1", 1, "UDP", [pol], NS).allowed  # y/a is not selected


def test_ingress_from_external_address() -> None:
    """evaluate_from_ip: an isolated pod accepts an outside address only through an ipBlock or a peer-less rule."""
    pol = netpol("in", "x", {"podSelector": {"matchLabels": {"pod": "a"}},
                             "ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.244.0.0/16"]}}]}]})
    assert evaluate_from_ip("10.1.2.3", XA, 80, "TCP", [pol], NS).allowed
    assert not evaluate_from_ip("10.244.9.9", XA, 80, "TCP", [pol], NS).allowed
    assert not evaluate_from_ip("172.18.0.2", XA, 80, "TCP", [pol], NS).allowed


def test_namespace_label_is_implicit() -> None:
    """kubernetes.io/metadata.name is there even when the caller's namespace labels omit it."""
    pol = netpol("from-y", "x", {"podSelector": {}, "ingress": [
        {"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "y"}}}]}]})
    assert evaluate(YA, XA, 80, "TCP", [pol], {}).allowed
    assert not evaluate(XB, XA, 80, "TCP", [pol], {}).allowed


def test_policy_types_defaulting() -> None:
    """Ingress always, Egress only when the policy has egress rules, the given list when there is one."""
    assert policy_types(netpol("p", "x", {"podSelector": {}})) == ("Ingress",)
    assert policy_types(netpol("p", "x", {"podSelector": {}, "egress": []})) == ("Ingress",)
    assert policy_types(netpol("p", "x", {"podSelector": {}, "egress": [{}]})) == ("Ingress", "Egress")
    assert policy_types(netpol("p", "x", {"podSelector": {}, "policyTypes": ["Egress"]})) == ("Egress",)


def test_unknown_protocol_refused() -> None:
    """The evaluator refuses a protocol NetworkPolicy cannot name."""
    with pytest.raises(UsageError, match="ICMP"):
        evaluate(XA, YA, 0, "ICMP", [], NS)


def test_rule_comment_fits_nft_limit() -> None:
    """Long policy names are shortened with a hash so the comment stays within nft's 128 characters."""
    long_name = "p" * 250
    comment = rule_comment("x", long_name, "egress", 12, 3, 4)
    assert len(comment) == 128 and comment.endswith(" egress[12] to[3] ports[4]")
    assert comment != rule_comment("x", long_name[:-1] + "q", "egress", 12, 3, 4)


# --------------------------------------------------------------------------------------------
# Validation: the API server's messages, naming the field
# --------------------------------------------------------------------------------------------

BAD = [
    ({"ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/33"}}]}]},
     'spec.ingress[0].from[0].ipBlock.cidr: Invalid value: "10.0.0.0/33": must be a valid CIDR value'),
    ({"egress": [{"to": [{"ipBlock": {"cidr": "not-a-cidr"}}]}]},
     'spec.egress[0].to[0].ipBlock.cidr: Invalid value: "not-a-cidr"'),
    ({"egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/16", "except": ["10.1.0.0/24"]}}]}]},
     'spec.egress[0].to[0].ipBlock.except[0]: Invalid value: "10.1.0.0/24": must be a strict subset of `cidr`'),
    ({"egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/16", "except": ["10.0.0.0/16"]}}]}]},
     "ipBlock.except[0]: Invalid value: \"10.0.0.0/16\": must be a strict subset of `cidr`"),
    ({"egress": [{"to": [{"ipBlock": {"cidr": ""}}]}]}, "spec.egress[0].to[0].ipBlock.cidr: Required value"),
    ({"ingress": [{"ports": [{"protocol": "ICMP", "port": 80}]}]},
     'spec.ingress[0].ports[0].protocol: Unsupported value: "ICMP": supported values: "TCP", "UDP", "SCTP"'),
    ({"ingress": [{"ports": [{"protocol": "tcp"}]}]}, 'spec.ingress[0].ports[0].protocol: Unsupported value: "tcp"'),
    ({"ingress": [{"ports": [{"endPort": 90}]}]},
     "spec.ingress[0].ports[0].endPort: Invalid value: 90: may not be specified when `port` is not specified"),
    ({"ingress": [{"ports": [{"port": 90, "endPort": 80}]}]},
     "spec.ingress[0].ports[0].endPort: Invalid value: 80: must be greater than or equal to `port`"),
    ({"ingress": [{"ports": [{"port": "http", "endPort": 80}]}]},
     "spec.ingress[0].ports[0].endPort: Invalid value: 80: may not be specified when `port` is non-numeric"),
    ({"ingress": [{"ports": [{"port": 0}]}]},
     "spec.ingress[0].ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive"),
    ({"ingress": [{"ports": [{"port": 80, "endPort": 70000}]}]},
     "spec.ingress[0].ports[0].endPort: Invalid value: 70000: must be between 1 and 65535, inclusive"),
    ({"ingress": [{"ports": [{"port": "web--1"}]}]},
     'spec.ingress[0].ports[0].port: Invalid value: "web--1": must not contain consecutive hyphens'),
    ({"ingress": [{"ports": [{"port": "8080"}]}]},
     'spec.ingress[0].ports[0].port: Invalid value: "8080": must contain at least one letter (a-z)'),
    ({"ingress": [{"from": [{}]}]}, "spec.ingress[0].from[0]: Required value: must specify a peer"),
    ({"egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8"}, "podSelector": {}}]}]},
     "spec.egress[0].to[0]: Forbidden: may not specify both ipBlock and another peer"),
    ({"podSelector": {"matchExpressions": [{"key": "app", "operator": "In"}]}},
     "spec.podSelector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'"),
    ({"podSelector": {"matchExpressions": [{"key": "app", "operator": "Exists", "values": ["x"]}]}},
     "spec.podSelector.matchExpressions[0].values: Forbidden: may not be specified when `operator` is 'Exists'"),
    ({"ingress": [{"from": [{"namespaceSelector": {"matchExpressions": [{"key": "a", "operator": "Equals"}]}}]}]},
     'spec.ingress[0].from[0].namespaceSelector.matchExpressions[0].operator: Invalid value: "Equals": '
     "not a valid selector operator"),
    ({"podSelector": {"matchLabels": {"bad key": "v"}}},
     'spec.podSelector.matchLabels: Invalid value: "bad key": name part must consist of alphanumeric characters'),
    ({"podSelector": {"matchLabels": {"app": "-bad"}}},
     'spec.podSelector.matchLabels: Invalid value: "-bad": a valid label must be an empty string'),
    ({"policyTypes": ["Ingress", "Egress", "Ingress"]},
     "spec.policyTypes: Invalid value: ['Ingress', 'Egress', 'Ingress']: may not specify more than two policyTypes"),
    ({"policyTypes": ["Inbound"]},
     'spec.policyTypes[0]: Unsupported value: "Inbound": supported values: "Ingress", "Egress"'),
]


@pytest.mark.parametrize("spec, message", BAD, ids=[m.split(":")[0] for _, m in BAD])
def test_validation_names_the_field(spec: dict, message: str) -> None:
    """Each bad policy is rejected with the API server's wording, naming the field."""
    full = {"podSelector": {}, **spec}
    with pytest.raises(UsageError) as err:
        validate_policy(netpol("bad", "x", full))
    text = str(err.value)
    assert text.startswith('NetworkPolicy.networking.k8s.io "bad" is invalid: ')
    assert message in text


def test_validation_collects_every_error() -> None:
    """Several bad fields are all reported, bracketed as the API server does."""
    pol = netpol("bad", "x", {"podSelector": {}, "ingress": [
        {"from": [{"ipBlock": {"cidr": "1.2.3.4/40"}}], "ports": [{"protocol": "ICMP"}]}]})
    assert len(policy_errors(pol)) == 2
    with pytest.raises(UsageError, match=r"is invalid: \[spec\.ingress\[0\]\.ports\[0\]\.protocol"):
        validate_policy(pol)


def test_validation_name_required() -> None:
    """A policy without a name is refused on metadata.name."""
    pol = {"metadata": {"namespace": "x"}, "spec": {"podSelector": {}}}
    assert policy_errors(pol) == ["metadata.name: Required value: name or generateName is required"]


@pytest.mark.parametrize("cidr", ["10.0.0.1/24", "0.0.0.0/0", "2001:db8::/64", "010.001.0.0/16"])
def test_validation_accepts_what_the_api_server_accepts(cidr: str) -> None:
    """Host bits set and leading zeros are accepted, as without StrictIPCIDRValidation (alpha, off)."""
    validate_policy(netpol("ok", "x", {"podSelector": {}, "egress": [{"to": [{"ipBlock": {"cidr": cidr}}]}],
                                       "ingress": [{"ports": [{"port": 80, "endPort": 80}, {"protocol": "SCTP"}]}]}))


def test_host_bits_cidr_is_read_as_its_network() -> None:
    """`10.244.1.10/4` (upstream's form) covers the whole 0.0.0.0/4."""
    pol = netpol("wide", "x", {"podSelector": {}, "policyTypes": ["Egress"],
                               "egress": [{"to": [{"ipBlock": {"cidr": "10.244.1.10/4"}}]}]})
    assert evaluate_to_ip(XA, "15.0.0.1", 80, "TCP", [pol], NS).allowed
    assert not evaluate_to_ip(XA, "16.0.0.1", 80, "TCP", [pol], NS).allowed

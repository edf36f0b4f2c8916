"""The node's nftables ruleset for NetworkPolicy: its shape, its determinism, and what the kernel makes of it."""
from __future__ import annotations

import random
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from k8snet_tutorial.errors import UsageError
from k8snet_tutorial.policy import PodInfo, evaluate
from k8snet_tutorial.sandbox.netpol import NAME_MAX, LocalPod, node_ruleset, parse_counters

CASES = yaml.safe_load((Path(__file__).resolve().parents[1] / "data" / "netpol_cases.yaml").read_text())["cases"]
PORTS = (("serve-80-tcp", 80, "TCP"), ("serve-81-udp", 81, "UDP"))
XA = PodInfo("x", "a", {"pod": "a"}, "10.244.1.10", PORTS)
XB = PodInfo("x", "b", {"pod": "b"}, "10.244.1.11", PORTS)
YA = PodInfo("y", "a", {"pod": "a"}, "10.244.2.10", (("serve-80-tcp", 8080, "TCP"),))
DNS = PodInfo("kube-system", "coredns-1", {"k8s-app": "kube-dns"}, "10.244.0.5", (("dns", 53, "UDP"), ("dns-tcp", 53, "TCP")))
LOCAL = [LocalPod(XA, "veth1111aaaa"), LocalPod(XB, "veth2222bbbb"), LocalPod(YA, "veth3333cccc")]
ALL = [XA, XB, YA, DNS]


def netpol(name: str, ns: str, spec: dict) -> dict:
    """A NetworkPolicy manifest."""
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": ns}, "spec": spec}


POLICIES = [
    netpol("deny-all", "x", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}),
    netpol("allow-dns", "x", {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{
        "to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
        "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}]}),
    netpol("web", "x", {"podSelector": {"matchLabels": {"pod": "a"}}, "ingress": [{
        "from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "y"}}},
                 {"podSelector": {"matchLabels": {"pod": "b"}}}],
        "ports": [{"port": "serve-80-tcp"}, {"port": 8000, "endPort": 8080}, {"port": "nope"}]}],
        "egress": [{"to": [{"ipBlock": {"cidr": "10.244.1.10/4", "except": ["10.244.1.11/32"]}}],
                    "ports": [{"port": "serve-80-tcp"}]}]}),
]


def chain_of(script: str, name: str) -> list[str]:
    """The rule lines of one chain of a generated script."""
    lines = script.splitlines()
    start = lines.index(f"\tchain {name} {{")
    body = []
    for line in lines[start + 1:]:
        if line == "\t}":
            return body
        body.append(line.strip())
    raise AssertionError(f"chain {name} not closed")


# --------------------------------------------------------------------------------------------
# Shape
# --------------------------------------------------------------------------------------------


def test_table_is_recreated_atomically() -> None:
    """`add table` + `delete table` + the definition: one nft transaction, safe to apply again."""
    script = node_ruleset(LOCAL, ALL, POLICIES, {})
    assert script.startswith("add table inet k8snet-netpol\ndelete table inet k8snet-netpol\n"
                             "table inet k8snet-netpol {\n")
    assert chain_of(script, "forward") == [
        "type filter hook forward priority filter; policy accept;",
        "ct state established,related accept",
        'iifname "veth1111aaaa" jump egress-x-a',
        'iifname "veth2222bbbb" jump egress-x-b',
        'oifname "veth1111aaaa" jump ingress-x-a',
        'oifname "veth2222bbbb" jump ingress-x-b',
    ]
    assert "egress-y-a" not in script and "ingress-y-a" not in script  # y/a is selected by nothing


def test_egress_chain_rules() -> None:
    """Selector peers become named sets; ipBlock except becomes `!=`; named ports resolve per destination."""
    script = node_ruleset(LOCAL, ALL, POLICIES, {})
    assert chain_of(script, "egress-x-a") == [
        "ip daddr @peer-x-allow-dns-egress0-to0 meta l4proto udp th dport 53 counter return "
        'comment "x/allow-dns egress[0] to[0] ports[0]"',
        "ip daddr @peer-x-allow-dns-egress0-to0 meta l4proto tcp th dport 53 counter return "
        'comment "x/allow-dns egress[0] to[0] ports[1]"',
        "ip daddr 0.0.0.0/4 ip daddr != { 10.244.1.11 } meta l4proto tcp ip daddr . th dport "
        '@namedport-tcp-serve-80-tcp counter return comment "x/web egress[0] to[0] ports[0]"',
        'counter drop comment "default deny egress of x/a: x/allow-dns, x/deny-all, x/web"',
    ]
    assert "\tset peer-x-allow-dns-egress0-to0 {\n\t\ttype ipv4_addr\n\t\telements = { 10.244.0.5 }\n\t}" in script
    assert ("\tset namedport-tcp-serve-80-tcp {\n\t\ttype ipv4_addr . inet_service\n"
            "\t\telements = { 10.244.1.10 . 80, 10.244.1.11 . 80, 10.244.2.10 . 8080 }\n\t}") in script


def test_ingress_chain_rules() -> None:
    """Ingress named ports resolve on the pod itself, endPort gives a range, a missing name is only a comment."""
    script = node_ruleset(LOCAL, ALL, POLICIES, {})
    rules = chain_of(script, "ingress-x-a")
    assert rules[0] == ("ip saddr @peer-x-web-ingress0-from0 meta l4proto tcp th dport 80 counter return "
                        'comment "x/web ingress[0] from[0] ports[0]"')
    assert rules[1].startswith("ip saddr @peer-x-web-ingress0-from0 meta l4proto tcp th dport 8000-8080 ")
    assert rules[2].startswith("# x/web ingress[0] from[0] ports[2]: named port 'nope'")
    assert rules[-1] == 'counter drop comment "default deny ingress of x/a: x/deny-all, x/web"'
    assert chain_of(script, "ingress-x-b") == ['counter drop comment "default deny ingress of x/b: x/deny-all"']
    assert "elements = { 10.244.2.10 }" in script.split("set peer-x-web-ingress0-from0")[1].split("}")[0] + "}"


def test_peerless_portless_rule_accepts_everything() -> None:
    """`ingress: [{}]` is one rule with no match at all: every source, every protocol."""
    script = node_ruleset(LOCAL, ALL, [netpol("open", "y", {"podSelector": {}, "ingress": [{}]})], {})
    assert chain_of(script, "ingress-y-a") == ['counter return comment "y/open ingress[0]"',
                                               'counter drop comment "default deny ingress of y/a: y/open"']


def test_comments_match_the_evaluator() -> None:
    """The rule the evaluator names is the first rule of the chain whose match holds: same comment text."""
    script = node_ruleset(LOCAL, ALL, POLICIES, {})
    cases = [(XA, DNS, 53, "UDP", "egress"), (XA, DNS, 53, "TCP", "egress"), (YA, XA, 80, "TCP", "ingress"),
             (XB, XA, 8080, "TCP", "ingress"), (XA, YA, 8080, "TCP", "egress")]
    for src, dst, port, proto, side in cases:
        verdict = evaluate(src, dst, port, proto, POLICIES, {})
        rule = getattr(verdict, side).rule
        pod = src if side == "egress" else dst
        assert rule is not None, verdict
        assert f'comment "{rule.comment}"' in "\n".join(chain_of(script, f"{side}-{pod.namespace}-{pod.name}"))


def test_deterministic_whatever_the_input_order() -> None:
    """The same inputs in any order give the same script, byte for byte."""
    first = node_ruleset(LOCAL, ALL, POLICIES, {})
    rng = random.Random(5)
    for _ in range(5):
        local, pods, pols = LOCAL[:], ALL[:], POLICIES[:]
        for items in (local, pods, pols):
            rng.shuffle(items)
        assert node_ruleset(local, pods, pols, {}) == first


def test_names_are_limited_and_unique() -> None:
    """Long names get a hash and stay short; names that would clash ("a-b"/"c" vs "a"/"b-c") are told apart."""
    long_ns = "n" * 63
    p1 = PodInfo("a-b", "c", {}, "10.244.1.20")
    p2 = PodInfo("a", "b-c", {}, "10.244.1.21")
    p3 = PodInfo(long_ns, "p" * 200, {}, "10.244.1.22")
    pols = [netpol("d", ns, {"podSelector": {}}) for ns in ("a-b", "a", long_ns)]
    script = node_ruleset([LocalPod(p1, "v1"), LocalPod(p2, "v2"), LocalPod(p3, "v3")], [p1, p2, p3], pols, {})
    jumps = [line.split("jump ")[1] for line in chain_of(script, "forward") if "jump" in line]
    assert len(jumps) == len(set(jumps)) == 3
    assert all(len(name) <= NAME_MAX for name in jumps)
    assert "ingress-a-b-c" in jumps


def test_invalid_policy_is_refused() -> None:
    """A policy the API server would refuse never reaches nft."""
    bad = netpol("bad", "x", {"podSelector": {}, "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8",
                                                                                 "except": ["11.0.0.0/16"]}}]}]})
    with pytest.raises(UsageError, match=r"spec\.egress\[0\]\.to\[0\]\.ipBlock\.except\[0\]"):
        node_ruleset(LOCAL, ALL, [bad], {})


def test_parse_counters() -> None:
    """Counters are read back from `nft list table` with their chain and comment."""
    listing = textwrap.dedent("""\
        table inet k8snet-netpol {
        \tchain forward {
        \t\tiifname "v1" jump egress-x-a
        \t}
        \tchain egress-x-a {
        \t\tip daddr @s udp dport 53 counter packets 3 bytes 180 return comment "x/dns egress[0] to[0] ports[0]"
        \t\tcounter packets 7 bytes 420 drop comment "default deny egress of x/a: x/dns"
        \t}
        }
        """)
    got = parse_counters(listing)
    assert [(c.chain, c.comment, c.packets, c.bytes, c.verdict) for c in got] == [
        ("egress-x-a", "x/dns egress[0] to[0] ports[0]", 3, 180, "return"),
        ("egress-x-a", "default deny egress of x/a: x/dns", 7, 420, "drop")]


# --------------------------------------------------------------------------------------------
# The kernel
# --------------------------------------------------------------------------------------------


def _userns_reason() -> str | None:
    """Why kernel tests cannot run here, or None."""
    for tool in ("unshare", "nft", "ip"):
        if not shutil.which(tool):
            return f"{tool} is not installed"
    try:
        probe = subprocess.run(["unshare", "--user", "--map-root-user", "--net", "true"],
                               capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unshare failed: {exc}"
    if probe.returncode != 0:
        return f"unprivileged user+net namespaces unavailable: {probe.stderr.strip()}"
    return None


needs_userns = pytest.mark.skipif(_userns_reason() is not None, reason=str(_userns_reason()))


def _in_userns(script: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run a shell script as root of a fresh user + net + mount namespace (everything vanishes on exit)."""
    return subprocess.run(["unshare", "--user", "--map-root-user", "--net", "--mount", "sh", "-c", script],
                          capture_output=True, text=True, timeout=timeout)


@needs_userns
def test_kernel_accepts_ruleset_twice_and_lists_it(tmp_path: Path) -> None:
    """nft -f applies the script twice (idempotent) and lists the table with every chain, set and comment."""
    path = tmp_path / "netpol.nft"
    path.write_text(node_ruleset(LOCAL, ALL, POLICIES, {}))
    done = _in_userns(f"nft -f {path} && nft -f {path} && nft list table inet k8snet-netpol")
    assert done.returncode == 0, done.stderr
    listing = done.stdout
    for name in ("chain forward", "chain egress-x-a", "chain ingress-x-a", "chain egress-x-b", "chain ingress-x-b",
                 "set peer-x-allow-dns-egress0-to0", "set namedport-tcp-serve-80-tcp"):
        assert name in listing
    assert listing.count("chain egress-x-a {") == 1
    counters = parse_counters(listing)
    assert {c.comment for c in counters} >= {"x/web ingress[0] from[0] ports[0]", "x/allow-dns egress[0] to[0] ports[1]",
                                             "default deny ingress of x/b: x/deny-all"}
    assert all(c.packets == 0 for c in counters)


def case_scene(case: dict) -> tuple[list[PodInfo], dict[str, dict[str, str]]]:
    """The 9 model pods (with their labels and serve-<port>-<proto> ports) plus a case's extra pods and namespaces."""
    ports = tuple((f"serve-{n}-{proto.lower()}", n, proto) for n in (80, 81) for proto in ("TCP", "UDP", "SCTP"))
    pods = [PodInfo(ns, name, {"pod": name, **(case.get("pod_labels") or {}).get(f"{ns}/{name}", {})},
                    f"10.244.{n_i + 1}.{p_i + 10}", ports)
            for n_i, ns in enumerate("xyz") for p_i, name in enumerate("abc")]
    for e_i, extra in enumerate(case.get("extra_pods") or []):
        ns, name = extra["pod"].split("/")
        pods.append(PodInfo(ns, name, extra.get("labels") or {}, f"10.244.9.{e_i + 10}",
                            tuple((n, int(p), proto) for n, p, proto in extra.get("ports") or [])))
    namespaces = {ns: dict((case.get("namespace_labels") or {}).get(ns, {})) for ns in "xyz"}
    namespaces.update({ns: dict(labels or {}) for ns, labels in (case.get("extra_namespaces") or {}).items()})
    return pods, namespaces


@needs_userns
def test_kernel_accepts_every_case_of_the_data_file(tmp_path: Path) -> None:
    """The ruleset of every conformance case, all 9 pods on one node, loads in the kernel."""
    files = []
    for case in CASES:
        everyone, namespaces = case_scene(case)
        ips = {q.key: q.ip for q in everyone}
        pols = [yaml.safe_load(re.sub(r"\{ip ([^}\s]+)\}", lambda m: ips[m.group(1)], yaml.safe_dump(p)))
                for p in case["policies"]]
        local = [LocalPod(p, f"veth{i:08x}") for i, p in enumerate(everyone)]
        path = tmp_path / f"{case['name']}.nft"
        path.write_text(node_ruleset(local, everyone, pols, namespaces))
        files.append(path)
    loop = "; ".join(f"nft -f {p} || echo FAILED {p.name}" for p in files)
    done = _in_userns(loop, timeout=120)
    assert done.returncode == 0 and "FAILED" not in done.stdout, done.stdout + done.stderr


PROBE = """
import socket, sys
for port in (80, 81):
    try:
        socket.create_connection(("10.244.1.12", port), timeout=1).close(); print("RESULT", port, "allowed")
    except OSError: print("RESULT", port, "denied")
"""
SERVE = """
import selectors, socket, sys
sel = selectors.DefaultSelector()
for port in (80, 81):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("0.0.0.0", port)); s.listen()
    sel.register(s, selectors.EVENT_READ)
open(sys.argv[1], "w").write("ready")
while True:
    for key, _ in sel.select():
        key.fileobj.accept()[0].close()
"""


@needs_userns
def test_real_packets_same_node(tmp_path: Path) -> None:
    """Two pod namespaces wired like ptp: x/a -> x/b passes egress then ingress on 80; 81 is dropped (timeout)."""
    a = PodInfo("x", "a", {"pod": "a"}, "10.244.1.11")
    b = PodInfo("x", "b", {"pod": "b"}, "10.244.1.12", (("http", 80, "TCP"),))
    pols = [netpol("a-out", "x", {"podSelector": {"matchLabels": {"pod": "a"}}, "policyTypes": ["Egress"],
                                  "egress": [{"ports": [{"port": 80, "endPort": 81}]}]}),
            netpol("b-in", "x", {"podSelector": {"matchLabels": {"pod": "b"}},
                                 "ingress": [{"from": [{"podSelector": {"matchLabels": {"pod": "a"}}}],
                                              "ports": [{"port": "http"}]}]})]
    rules = tmp_path / "netpol.nft"
    rules.write_text(node_ruleset([LocalPod(a, "vethpa"), LocalPod(b, "vethpb")], [a, b], pols, {}))
    (tmp_path / "probe.py").write_text(PROBE)
    (tmp_path / "serve.py").write_text(SERVE)
    wire = "".join(f"""
        ip netns add {p}; ip link add veth{p} type veth peer name eth0 netns {p}
        ip addr add 10.244.1.1/32 dev veth{p}; ip link set veth{p} up; ip -n {p} link set lo up
        ip -n {p} addr add {ip}/32 dev eth0; ip -n {p} link set eth0 up
        ip -n {p} route add default via 10.244.1.1 dev eth0 onlink; ip route add {ip}/32 dev veth{p}
        """ for p, ip in (("pa", a.ip), ("pb", b.ip)))
    script = f"""
        set -e
        mount -t tmpfs tmpfs /run; ip link set lo up; sysctl -qw net.ipv4.ip_forward=1
        {wire}
        nft -f {rules}
        ip netns exec pb timeout 20 {sys.executable} {tmp_path}/serve.py {tmp_path}/ready & server=$!
        for i in $(seq 100); do [ -s {tmp_path}/ready ] && break; sleep 0.1; done
        ip netns exec pa {sys.executable} {tmp_path}/probe.py
        kill $server
        nft list table inet k8snet-netpol
        """
    done = _in_userns(textwrap.dedent(script))
    if "RESULT" not in done.stdout:
        pytest.skip(f"could not wire two pod namespaces here: {done.stderr.strip()[-300:]}")
    assert done.returncode == 0, done.stderr
    assert "RESULT 80 allowed" in done.stdout and "RESULT 81 denied" in done.stdout
    counters = {c.comment: c.packets for c in parse_counters(done.stdout)}
    assert counters["x/a-out egress[0] ports[0]"] >= 2  # both SYNs left a through its egress chain (return)
    assert counters["x/b-in ingress[0] from[0] ports[0]"] >= 1  # 80 met b's allow rule
    assert counters["default deny ingress of x/b: x/b-in"] >= 1  # 81 met b's default deny
    assert counters["default deny egress of x/a: x/a-out"] == 0

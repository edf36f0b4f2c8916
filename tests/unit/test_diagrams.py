"""Diagrams of a hand-built lab: nodes holding pods, Services and endpoints, probe paths, stable text, files."""
from __future__ import annotations

import random
import re
import shutil
from pathlib import Path

import pytest

from k8snet_tutorial import diagrams
from k8snet_tutorial.diagrams import (FAIL_COLOUR, NOT_READY_COLOUR, NOT_READY_FILL, OK_COLOUR, READY_FILL,
                                      SERVICE_COLOUR, Diagram, iptables_lines, nft_excerpt, path_diagram,
                                      topology_diagram)
from k8snet_tutorial.errors import UsageError
from k8snet_tutorial.results import CommandResult, ProbeResult, Status

HAVE_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(not HAVE_DOT, reason="graphviz's `dot` is not installed")


# -- a hand-built lab ---------------------------------------------------------------------------------

def node(name: str, ip: str, cidr: str) -> dict:
    return {"kind": "Node", "metadata": {"name": name}, "spec": {"podCIDR": cidr},
            "status": {"addresses": [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": name}]}}


def pod(name: str, node_name: str | None, ip: str | None, *, ns: str = "default", ready: bool = True,
        labels: dict | None = None, ports: list[tuple[int, str]] = ()) -> dict:
    status = {"phase": "Running" if ip else "Pending",
              "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}
    if ip:
        status["podIP"] = ip
    spec: dict = {"containers": [{"name": "c", "image": "nginx",
                                  "ports": [{"containerPort": p, "protocol": proto} for p, proto in ports]}]}
    if node_name:
        spec["nodeName"] = node_name
    return {"kind": "Pod", "metadata": {"name": name, "namespace": ns, "labels": labels or {}},
            "spec": spec, "status": status}


def service(name: str, cluster_ip: str, ports: list[dict], *, ns: str = "default", kind: str = "ClusterIP",
            selector: dict | None = None, lb: str | None = None, external_name: str | None = None) -> dict:
    spec: dict = {"type": kind, "ports": ports, "selector": selector or {}}
    if external_name:
        spec = {"type": "ExternalName", "externalName": external_name}
    else:
        spec["clusterIP"] = cluster_ip
        spec["clusterIPs"] = [cluster_ip]
    status = {"loadBalancer": {"ingress": [{"ip": lb}]} if lb else {}}
    return {"kind": "Service", "metadata": {"name": name, "namespace": ns}, "spec": spec, "status": status}


def endpoint_slice(svc: str, endpoints: list[tuple[str, str, bool]], ports: list[dict], *, ns: str = "default",
                   suffix: str = "abcde") -> dict:
    return {"kind": "EndpointSlice", "addressType": "IPv4",
            "metadata": {"name": f"{svc}-{suffix}", "namespace": ns,
                         "labels": {"kubernetes.io/service-name": svc}},
            "endpoints": [{"addresses": [ip], "conditions": {"ready": ready, "serving": ready, "terminating": False},
                           "targetRef": {"kind": "Pod", "name": name, "namespace": ns}}
                          for ip, name, ready in endpoints],
            "ports": ports}


class FakeLab:
    """Objects as API dicts, and the verbs the widgets call, recorded."""

    def __init__(self, objects: dict[str, list[dict]], *, proxy_mode: str = "iptables",
                 shuffle: int | None = None) -> None:
        self.store = objects
        self.proxy_mode = proxy_mode
        self.shuffle = shuffle
        self.calls: list[tuple] = []
        self.probe_result: ProbeResult | Exception | None = None

    def objects(self, kind: str, namespace: str | None = None, selector: str | None = None) -> list[dict]:
        items = [o for o in self.store.get(kind, [])
                 if namespace is None or o["metadata"].get("namespace") in (None, namespace)]
        if self.shuffle is not None:  # the backend's order must not matter
            random.Random(self.shuffle).shuffle(items)
        return items

    def pods(self, namespace: str | None = "default", selector: str | None = None) -> list[dict]:
        return self.objects("Pod", namespace, selector)

    def probe(self, source: str, target: str, *, namespace: str = "default", port: int | None = None,
              protocol: str = "tcp", timeout: float = 2.0) -> ProbeResult:
        self.calls.append(("probe", source, target, namespace, port, protocol, timeout))
        if isinstance(self.probe_result, Exception):
            raise self.probe_result
        return self.probe_result

    def kubectl(self, args: list[str]) -> CommandResult:
        self.calls.append(("kubectl", list(args)))
        return CommandResult(["kubectl", *args], 0, "")

    def node_exec(self, node_name: str, command: str, timeout: float = 30) -> CommandResult:
        self.calls.append(("node_exec", node_name, command))
        return CommandResult(command.split(), 0, "")

    def status(self) -> Status:
        return Status("fake", "sandbox", True, [], proxy_mode=self.proxy_mode)


def shop(**kw) -> FakeLab:
    """Two workers and a control plane; web (3 pods, one not ready), a client, kube-system, Services."""
    http = [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": "http"}]
    return FakeLab({
        "Node": [node("k-control-plane", "172.18.0.2", "10.244.0.0/24"),
                 node("k-worker", "172.18.0.3", "10.244.1.0/24"),
                 node("k-worker2", "172.18.0.4", "10.244.2.0/24")],
        "Pod": [pod("client", "k-worker2", "10.244.2.2"),
                pod("web-7b5f57d479-aaaaa", "k-worker", "10.244.1.2", labels={"app": "web"}, ports=[(80, "TCP")]),
                pod("web-7b5f57d479-bbbbb", "k-worker2", "10.244.2.3", labels={"app": "web"}, ports=[(80, "TCP")]),
                pod("web-7b5f57d479-ccccc", "k-worker", "10.244.1.3", labels={"app": "web"}, ready=False),
                pod("pending-one", None, None, ready=False),
                pod("payment", "k-worker", "10.244.1.4", ns="finance", labels={"app": "payment"}),
                pod("coredns-6cfb96b96c-xxxxx", "k-control-plane", "10.244.0.2", ns="kube-system")],
        "Service": [service("web", "10.96.40.206", http, selector={"app": "web"}),
                    service("web-np", "10.96.153.251", [{**http[0], "nodePort": 30080}], kind="NodePort",
                            selector={"app": "web"}),
                    service("web-lb", "10.96.16.169", [{"port": 80, "protocol": "TCP", "targetPort": 80,
                                                         "nodePort": 32735}], kind="LoadBalancer",
                            selector={"app": "web"}, lb="172.18.255.2"),
                    service("legacy-db", "", [], external_name="db.legacy.example.com"),
                    service("kubernetes", "10.96.0.1", [{"name": "https", "port": 443, "protocol": "TCP"}]),
                    service("kube-dns", "10.96.0.10", [{"name": "dns", "port": 53, "protocol": "UDP"}],
                            ns="kube-system")],
        "EndpointSlice": [
            endpoint_slice("web", [("10.244.1.2", "web-7b5f57d479-aaaaa", True),
                                   ("10.244.2.3", "web-7b5f57d479-bbbbb", True),
                                   ("10.244.1.3", "web-7b5f57d479-ccccc", False)],
                           [{"name": "http", "port": 80, "protocol": "TCP"}]),
            endpoint_slice("web-np", [("10.244.1.2", "web-7b5f57d479-aaaaa", True)],
                           [{"name": "http", "port": 80, "protocol": "TCP"}]),
            endpoint_slice("kube-dns", [("10.244.0.2", "coredns-6cfb96b96c-xxxxx", True)],
                           [{"name": "dns", "port": 53, "protocol": "UDP"}], ns="kube-system")],
    }, **kw)


# -- reading DOT ---------------------------------------------------------------------------------------

_ATTR = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|[^\s\]]+)')


def _attrs(text: str) -> dict[str, str]:
    return {k: v.strip('"') for k, v in _ATTR.findall(text)}


def dot_nodes(source: str) -> dict[str, dict[str, str]]:
    out = {}
    for m in re.finditer(r'^\s*"?([^"\s]+)"? \[(.*)\]$', source, re.M):
        if " -> " not in m.group(0):
            out[m.group(1)] = _attrs(m.group(2))
    return out


def dot_edges(source: str) -> dict[tuple[str, str], dict[str, str]]:
    out = {}
    for m in re.finditer(r'^\s*"?([^"\s]+)"? -> "?([^"\s]+)"?(?: \[(.*)\])?$', source, re.M):
        out[(m.group(1), m.group(2))] = _attrs(m.group(3) or "")
    return out


def cluster_members(source: str, node_name: str) -> list[str]:
    block = re.search(r"subgraph \"?cluster_" + re.escape(node_name) + r"\"? \{(.*?)\n\t\}", source, re.S)
    assert block, f"no cluster for {node_name}"
    return [m for m in re.findall(r'^\s*"?([^"\s]+)"? \[', block.group(1), re.M)]


# -- the topology ----------------------------------------------------------------------------------------

def test_nodes_are_boxes_holding_their_pods() -> None:
    d = topology_diagram(shop())
    src = d.source
    assert cluster_members(src, "k-worker") == ["pod/default/web-7b5f57d479-aaaaa", "pod/default/web-7b5f57d479-ccccc",
                                                "pod/finance/payment"]
    assert cluster_members(src, "k-worker2") == ["pod/default/client", "pod/default/web-7b5f57d479-bbbbb"]
    assert cluster_members(src, "k-control-plane") == ["empty/k-control-plane"]  # kube-system is left out
    assert r"label=" in src and r"k-worker\n172.18.0.3\npods 10.244.1.0/24" in src
    nodes = dot_nodes(src)
    assert nodes["pod/default/client"]["label"] == r"client\n10.244.2.2"
    assert nodes["pod/finance/payment"]["label"] == r"finance/payment\n10.244.1.4"  # other namespaces say so


def test_pods_are_coloured_by_readiness() -> None:
    nodes = dot_nodes(topology_diagram(shop()).source)
    assert nodes["pod/default/web-7b5f57d479-aaaaa"]["fillcolor"] == READY_FILL
    not_ready = nodes["pod/default/web-7b5f57d479-ccccc"]
    assert not_ready["fillcolor"] == NOT_READY_FILL and "dashed" in not_ready["style"]
    assert not_ready["label"].endswith(r"\nnot ready")
    pending = nodes["pod/default/pending-one"]  # no node yet: drawn outside every node
    assert "pending-one" not in " ".join(cluster_members(topology_diagram(shop()).source, "k-worker"))
    assert pending["label"] == r"pending-one\n(no IP yet)\nnot ready"


def test_services_with_addresses_and_arrows_to_their_endpoints() -> None:
    src = topology_diagram(shop()).source
    nodes, edges = dot_nodes(src), dot_edges(src)
    assert nodes["svc/default/web"]["label"] == r"web\nClusterIP 10.96.40.206\n80/TCP → http"
    assert nodes["svc/default/web-np"]["label"] == r"web-np\nNodePort 10.96.153.251\n80:30080/TCP → http"
    assert nodes["svc/default/web-lb"]["label"] == (
        r"web-lb\nLoadBalancer 10.96.16.169\n80:32735/TCP\nexternal 172.18.255.2")
    assert nodes["svc/default/legacy-db"]["label"] == r"legacy-db\nExternalName db.legacy.example.com"
    ready = edges[("svc/default/web", "pod/default/web-7b5f57d479-aaaaa")]
    assert ready["color"] == SERVICE_COLOUR and "style" not in ready
    not_ready = edges[("svc/default/web", "pod/default/web-7b5f57d479-ccccc")]
    assert not_ready == {"color": NOT_READY_COLOUR, "style": "dashed"}
    assert ("svc/default/web-np", "pod/default/web-7b5f57d479-aaaaa") in edges
    assert not any(s.startswith("svc/default/web-lb") for s, _ in edges)  # no slice, no arrow
    assert not any(n.startswith("svc/default/kubernetes") or "kube-dns" in n for n in nodes)


def test_services_can_be_left_out() -> None:
    src = topology_diagram(shop(), services=False).source
    assert "svc/" not in src and " -> " not in src


def test_kube_system_only_when_asked() -> None:
    lab = shop()
    assert "coredns" not in topology_diagram(lab).source
    system = topology_diagram(lab, namespace="kube-system").source
    assert cluster_members(system, "k-control-plane") == ["pod/kube-system/coredns-6cfb96b96c-xxxxx"]
    assert ("svc/kube-system/kube-dns", "pod/kube-system/coredns-6cfb96b96c-xxxxx") in dot_edges(system)
    everything = topology_diagram(lab, system=True).source
    assert "pod/kube-system/coredns-6cfb96b96c-xxxxx" in everything and "svc/default/kubernetes" in everything


def test_one_namespace() -> None:
    src = topology_diagram(shop(), namespace="finance").source
    assert cluster_members(src, "k-worker") == ["pod/finance/payment"]
    assert dot_nodes(src)["pod/finance/payment"]["label"] == r"payment\n10.244.1.4"
    assert "svc/default" not in src


def test_endpoint_outside_the_picture_is_drawn_by_address() -> None:
    lab = shop()
    lab.store["Service"].append(service("external-db", "10.96.9.9", [{"port": 5432, "protocol": "TCP"}]))
    lab.store["EndpointSlice"].append({
        "metadata": {"name": "external-db-1", "namespace": "default",
                     "labels": {"kubernetes.io/service-name": "external-db"}},
        "endpoints": [{"addresses": ["192.168.1.50"], "conditions": {"ready": True}}],
        "ports": [{"port": 5432, "protocol": "TCP"}]})
    src = topology_diagram(lab).source
    assert dot_nodes(src)["ip/192.168.1.50"]["label"] == "192.168.1.50"
    assert ("svc/default/external-db", "ip/192.168.1.50") in dot_edges(src)


def test_endpoint_port_shown_when_it_differs_from_the_service_port() -> None:
    lab = shop()
    lab.store["Service"].append(service("api", "10.96.7.7", [{"port": 80, "protocol": "TCP", "targetPort": 8080}],
                                        selector={"app": "payment"}, ns="default"))
    lab.store["EndpointSlice"].append(endpoint_slice("api", [("10.244.2.2", "client", True)],
                                                     [{"port": 8080, "protocol": "TCP"}]))
    edges = dot_edges(topology_diagram(lab).source)
    assert edges[("svc/default/api", "pod/default/client")]["label"] == "8080"
    assert "label" not in edges[("svc/default/web", "pod/default/web-7b5f57d479-aaaaa")]


# -- highlighted probes ---------------------------------------------------------------------------------

def probe(target: str, address: str | None, port: int | None, outcome: str, responder: str | None = None,
          source: str = "client") -> ProbeResult:
    return ProbeResult(source=source, target=target, address=address, port=port, protocol="TCP", outcome=outcome,
                       responder=responder, seen_source="10.244.2.2" if responder else None, latency_ms=0.123)


def test_probe_through_a_service_is_green_from_source_to_service_to_responder() -> None:
    r = probe("web", "10.96.40.206", 80, "connected", "web-7b5f57d479-aaaaa")
    d = topology_diagram(shop(), highlight=r)
    edges, nodes = dot_edges(d.source), dot_nodes(d.source)
    first = edges[("pod/default/client", "svc/default/web")]
    assert first["color"] == OK_COLOUR and first["penwidth"] == "2.5" and first["label"] == r"TCP/80\nconnected"
    second = edges[("svc/default/web", "pod/default/web-7b5f57d479-aaaaa")]
    assert second["color"] == OK_COLOUR and second["label"] == "DNAT → 10.244.1.2:80"
    assert nodes["pod/default/client"]["color"] == OK_COLOUR
    assert nodes["pod/default/web-7b5f57d479-aaaaa"]["color"] == OK_COLOUR
    others = edges[("svc/default/web", "pod/default/web-7b5f57d479-bbbbb")]
    assert others["color"] == SERVICE_COLOUR  # only the path is coloured
    assert repr(d) == "<diagram: 3 nodes, 6 pods, 4 services; probe client → web → web-7b5f57d479-aaaaa: connected>"
    assert "0.123" not in d.source  # timings would make outputs differ from run to run


def test_failed_probe_is_red_and_stops_at_the_service() -> None:
    r = probe("web", "10.96.40.206", 81, "unreachable")
    edges = dot_edges(topology_diagram(shop(), highlight=r).source)
    assert edges[("pod/default/client", "svc/default/web")]["color"] == FAIL_COLOUR
    assert edges[("pod/default/client", "svc/default/web")]["label"] == r"TCP/81\nunreachable"
    assert all(e.get("color") != OK_COLOUR for e in edges.values())


def test_probe_straight_to_a_pod_ip() -> None:
    r = probe("10.244.1.2:80", "10.244.1.2", 80, "refused")
    edges = dot_edges(topology_diagram(shop(), highlight=r).source)
    assert edges[("pod/default/client", "pod/default/web-7b5f57d479-aaaaa")]["color"] == FAIL_COLOUR
    assert edges[("pod/default/client", "pod/default/web-7b5f57d479-aaaaa")]["label"] == r"TCP/80\nrefused"


def test_probe_from_outside_through_a_node_port() -> None:
    r = probe("172.18.0.3:30080", "172.18.0.3", 30080, "connected", "web-7b5f57d479-aaaaa", source="@host")
    src = topology_diagram(shop(), highlight=r).source
    nodes, edges = dot_nodes(src), dot_edges(src)
    assert nodes["probe/outside"]["label"] == "outside the cluster"
    assert edges[("probe/outside", "svc/default/web-np")]["label"] == r"NodePort 172.18.0.3:30080\nTCP/30080\nconnected"
    assert edges[("svc/default/web-np", "pod/default/web-7b5f57d479-aaaaa")]["color"] == OK_COLOUR


def test_probe_to_a_load_balancer_address() -> None:
    r = probe("172.18.255.2", "172.18.255.2", 80, "connected", "web-7b5f57d479-bbbbb")
    edges = dot_edges(topology_diagram(shop(), highlight=r).source)
    assert edges[("pod/default/client", "svc/default/web-lb")]["label"].startswith("LoadBalancer 172.18.255.2:80")
    assert edges[("svc/default/web-lb", "pod/default/web-7b5f57d479-bbbbb")]["color"] == OK_COLOUR


def test_unresolved_probe_points_at_the_name() -> None:
    r = probe("nowhere", None, None, "unresolved")
    src = topology_diagram(shop(), highlight=r).source
    assert dot_nodes(src)["probe/target"]["label"] == "nowhere"
    assert dot_edges(src)[("pod/default/client", "probe/target")]["color"] == FAIL_COLOUR


def test_responder_in_another_namespace() -> None:
    lab = shop()
    lab.store["Service"].append(service("payment-service", "10.96.32.59", [{"port": 8080, "protocol": "TCP"}],
                                        ns="finance", selector={"app": "payment"}))
    lab.store["EndpointSlice"].append(endpoint_slice("payment-service", [("10.244.1.4", "payment", True)],
                                                     [{"port": 8080, "protocol": "TCP"}], ns="finance"))
    r = probe("payment-service.finance", "10.96.32.59", 8080, "connected", "payment")
    edges = dot_edges(topology_diagram(lab, highlight=r).source)
    assert edges[("svc/finance/payment-service", "pod/finance/payment")]["color"] == OK_COLOUR
    # looking at default only, the Service and the pod are drawn apart, still named
    only = topology_diagram(lab, namespace="default", highlight=r).source
    assert ("pod/default/client", "probe/target") in dot_edges(only)


# -- the Diagram object -------------------------------------------------------------------------------

def test_text_form_is_stable_and_says_what_is_drawn() -> None:
    d = topology_diagram(shop())
    assert repr(d) == "<diagram: 3 nodes, 6 pods, 4 services>"
    assert " at 0x" not in repr(d)
    assert isinstance(d.graph, diagrams.graphviz.Digraph) and d.source == d.graph.source


def test_same_state_same_source_whatever_the_backend_order() -> None:
    r = probe("web", "10.96.40.206", 80, "connected", "web-7b5f57d479-aaaaa")
    first = topology_diagram(shop(), highlight=r)
    for seed in range(5):
        again = topology_diagram(shop(shuffle=seed), highlight=r)
        assert again.source == first.source and repr(again) == repr(first)
    assert first == topology_diagram(shop(), highlight=r)


@needs_dot
def test_jupyter_gets_svg_and_the_text() -> None:
    bundle = topology_diagram(shop())._repr_mimebundle_()
    assert bundle["text/plain"] == "<diagram: 3 nodes, 6 pods, 4 services>"
    assert bundle["image/svg+xml"].lstrip().startswith("<?xml") and "10.244.1.2" in bundle["image/svg+xml"]
    only_text = topology_diagram(shop())._repr_mimebundle_(include=["text/plain"])
    assert list(only_text) == ["text/plain"]


def test_without_dot_the_text_form_remains(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(self, format="svg"):
        raise diagrams.graphviz.ExecutableNotFound(["dot"])
    monkeypatch.setattr(Diagram, "pipe", missing)
    assert topology_diagram(shop())._repr_mimebundle_() == {"text/plain": "<diagram: 3 nodes, 6 pods, 4 services>"}


def test_render_dot_and_the_cli_call(tmp_path: Path) -> None:
    d = topology_diagram(shop())
    out = d.render(tmp_path / "lab.dot")
    assert Path(out).read_text() == d.source
    with pytest.raises(ValueError):
        d.render(tmp_path / "lab.txt")


@needs_dot
def test_render_svg_and_png(tmp_path: Path) -> None:
    d = topology_diagram(shop())
    d.render(outfile=str(tmp_path / "lab.svg"), format="svg", cleanup=True)  # what `k8snet diagram -o` calls
    assert "10.96.40.206" in (tmp_path / "lab.svg").read_text()
    d.save(tmp_path / "lab.png")
    assert (tmp_path / "lab.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lab.png", "lab.svg"]  # no stray source files


def test_cli_diagram_writes_dot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from k8snet_tutorial import cli
    monkeypatch.setattr(cli, "_lab", lambda a: type("L", (), {"diagram": lambda self, namespace=None:
                                                               topology_diagram(shop(), namespace=namespace)})())
    assert cli.main(["diagram", "-o", str(tmp_path / "x.dot")]) == 0
    assert (tmp_path / "x.dot").read_text() == topology_diagram(shop()).source
    if HAVE_DOT:
        assert cli.main(["diagram", "-o", str(tmp_path / "x.svg")]) == 0
        assert "<svg" in (tmp_path / "x.svg").read_text()


# -- one probe's path --------------------------------------------------------------------------------------

def test_path_through_a_service_with_the_lab() -> None:
    r = probe("web", "10.96.40.206", 80, "connected", "web-7b5f57d479-aaaaa")
    d = path_diagram(r, shop())
    nodes, edges = dot_nodes(d.source), dot_edges(d.source)
    assert "rankdir=LR" in d.source
    assert nodes["source"]["label"] == r"client\n10.244.2.2"
    assert nodes["service"]["label"] == r"Service web\n10.96.40.206:80"
    assert nodes["responder"]["label"] == r"web-7b5f57d479-aaaaa\n10.244.1.2:80\nsaw source 10.244.2.2"
    assert edges[("source", "service")]["color"] == OK_COLOUR and edges[("service", "responder")]["label"] == "DNAT"
    assert repr(d) == "<path diagram: probe client → web → web-7b5f57d479-aaaaa: connected>"
    assert path_diagram(r, shop(shuffle=3)).source == d.source


def test_path_without_a_lab_guesses_the_service_range() -> None:
    r = probe("web", "10.96.40.206", 80, "connected", "web-7b5f57d479-aaaaa")
    nodes = dot_nodes(path_diagram(r).source)
    assert nodes["service"]["label"] == r"Service web\n10.96.40.206:80"
    assert nodes["responder"]["label"] == r"web-7b5f57d479-aaaaa\nsaw source 10.244.2.2"
    direct = probe("catalog", "10.244.2.3", 80, "connected", "catalog")
    src = path_diagram(direct).source
    assert "service" not in dot_nodes(src) and dot_edges(src)[("source", "responder")]["label"] == "TCP/80"


def test_path_of_failures_is_red() -> None:
    refused = path_diagram(probe("10.244.1.2:80", "10.244.1.2", 80, "refused"), shop())
    assert dot_edges(refused.source)[("source", "target")] == {
        "label": r"TCP/80\nrefused", "color": FAIL_COLOUR, "fontcolor": FAIL_COLOUR, "penwidth": "2"}
    dropped = path_diagram(probe("web", "10.96.40.206", 81, "timeout"), shop())
    edges = dot_edges(dropped.source)
    assert edges[("source", "service")]["color"] == FAIL_COLOUR and ("service", "outcome") in edges
    unresolved = path_diagram(probe("nowhere", None, None, "unresolved"))
    assert dot_nodes(unresolved.source)["target"]["label"] == r"nowhere\nunresolved"


# -- kube-proxy's rules for one Service ---------------------------------------------------------------------

IPTABLES = """\
*nat
:KUBE-SERVICES - [0:0]
-A KUBE-NODEPORTS -p tcp -m comment --comment "default/web-np:http" -m tcp --dport 30080 -j KUBE-EXT-AAAA
-A KUBE-SEP-ZZZZ -s 10.244.2.3/32 -m comment --comment "default/web:http" -j KUBE-MARK-MASQ
-A KUBE-SEP-ZZZZ -p tcp -m comment --comment "default/web:http" -m tcp -j DNAT --to-destination 10.244.2.3:80
-A KUBE-SEP-AAAA -s 10.244.1.2/32 -m comment --comment "default/web:http" -j KUBE-MARK-MASQ
-A KUBE-SEP-AAAA -p tcp -m comment --comment "default/web:http" -m tcp -j DNAT --to-destination 10.244.1.2:80
-A KUBE-SEP-BBBB -p tcp -m comment --comment "default/web-np:http" -m tcp -j DNAT --to-destination 10.244.1.2:80
-A KUBE-SEP-CCCC -p tcp -m comment --comment "other/web" -m tcp -j DNAT --to-destination 10.244.1.9:80
-A KUBE-SERVICES -d 10.96.40.206/32 -p tcp -m comment --comment "default/web:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-XXXX
-A KUBE-SVC-XXXX -m comment --comment "default/web:http -> 10.244.2.3:80" -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-ZZZZ
-A KUBE-SVC-XXXX -m comment --comment "default/web:http -> 10.244.1.2:80" -j KUBE-SEP-AAAA
-A KUBE-EXT-YYYY -m comment --comment "masquerade traffic for default/web external destinations" -j KUBE-MARK-MASQ
COMMIT
"""


def test_iptables_lines_of_one_service_in_packet_order() -> None:
    lines = iptables_lines(IPTABLES, "default", "web")
    assert [line.split()[1] for line in lines] == [
        "KUBE-SERVICES", "KUBE-EXT-YYYY", "KUBE-SVC-XXXX", "KUBE-SVC-XXXX",
        "KUBE-SEP-ZZZZ", "KUBE-SEP-ZZZZ", "KUBE-SEP-AAAA", "KUBE-SEP-AAAA"]
    assert not any("web-np" in line or "other/web" in line for line in lines)
    raw = iptables_lines(IPTABLES, "default", "web", packet_order=False)
    assert sorted(raw) == sorted(lines) and raw[0].startswith("-A KUBE-SEP-ZZZZ")


NFT = """\
table ip kube-proxy {
\tcomment "rules for kube-proxy"
\tmap service-ips {
\t\ttype ipv4_addr . inet_proto . inet_service : verdict
\t\telements = { 10.96.40.206 . tcp . 80 : goto service-2GUAAQIC-default/web/tcp/http,
\t\t\t     10.96.153.251 . tcp . 80 : goto service-NEU6BYBG-default/web-np/tcp/http }
\t}

\tmap no-endpoint-services {
\t\ttype ipv4_addr . inet_proto . inet_service : verdict
\t\telements = { 10.96.1.1 . tcp . 80 comment "default/web-np:http" : drop }
\t}

\tchain endpoint-4OSEBVQL-default/web/tcp/http__10.244.1.2/80 {
\t\tip saddr 10.244.1.2 jump mark-for-masquerade
\t\tmeta l4proto tcp dnat to 10.244.1.2:80
\t}

\tchain service-2GUAAQIC-default/web/tcp/http {
\t\tip daddr 10.96.40.206 ip saddr != 10.244.0.0/16 jump mark-for-masquerade
\t\tnumgen random mod 1 vmap { 0 : goto endpoint-4OSEBVQL-default/web/tcp/http__10.244.1.2/80 }
\t}

\tchain service-NEU6BYBG-default/web-np/tcp/http {
\t\tnumgen random mod 1 vmap { 0 : goto endpoint-X-default/web-np/tcp/http__10.244.1.2/80 }
\t}
}
"""


def test_nft_excerpt_of_one_service() -> None:
    assert nft_excerpt(NFT, "default", "web") == [
        "table ip kube-proxy {",
        "    map service-ips {",
        "        10.96.40.206 . tcp . 80 : goto service-2GUAAQIC-default/web/tcp/http",
        "    }",
        "    chain service-2GUAAQIC-default/web/tcp/http {",
        "        ip daddr 10.96.40.206 ip saddr != 10.244.0.0/16 jump mark-for-masquerade",
        "        numgen random mod 1 vmap { 0 : goto endpoint-4OSEBVQL-default/web/tcp/http__10.244.1.2/80 }",
        "    }",
        "    chain endpoint-4OSEBVQL-default/web/tcp/http__10.244.1.2/80 {",
        "        ip saddr 10.244.1.2 jump mark-for-masquerade",
        "        meta l4proto tcp dnat to 10.244.1.2:80",
        "    }",
        "}"]
    assert nft_excerpt(NFT, "default", "nothing") == []


def test_usage_error_is_a_k8snet_error() -> None:  # the widgets rely on it to show refusals
    from k8snet_tutorial.errors import K8snetError
    assert issubclass(UsageError, K8snetError)

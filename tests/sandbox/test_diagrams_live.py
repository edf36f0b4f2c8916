"""Diagrams and widgets of a real sandbox lab: every pod IP and ClusterIP drawn, probe paths in colour, SVG by `dot`."""
from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET

import pytest

from k8snet_tutorial import cli
from k8snet_tutorial.diagrams import FAIL_COLOUR, OK_COLOUR, path_diagram, topology_diagram
from k8snet_tutorial.widgets import probe_explorer, replica_slider
from labtools import DATA

pytestmark = [pytest.mark.sandbox,
              pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz's `dot` is not installed")]

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def shop(lab):
    """The lab with every Service type over a 3-replica Deployment, a client and a pod in `finance`."""
    lab.apply(DATA / "services.yaml")
    return lab


def edge_strokes(svg: str) -> dict[str, set[str]]:
    """Each edge of an SVG drawn by `dot`, by title (`tail->head`), with the colours of its strokes."""
    out: dict[str, set[str]] = {}
    for g in ET.fromstring(svg.encode()).iter(f"{SVG}g"):
        if g.get("class") == "edge":
            title = g.find(f"{SVG}title").text
            out[title] = {el.get("stroke") for el in g if el.get("stroke")}
    return out


def test_every_pod_ip_and_cluster_ip_is_drawn(shop) -> None:
    d = topology_diagram(shop)
    svg = d.svg()
    pods = [p for p in shop.pods(None) if p["metadata"]["namespace"] != "kube-system"]
    assert len(pods) == 6  # echo ×3, db-0, client, payment (finance); nothing from kube-system
    for p in pods:
        assert p["status"]["podIP"] in svg, p["metadata"]["name"]
    for svc in shop.objects("Service", "default"):
        if svc["metadata"]["name"] != "kubernetes" and svc["spec"].get("type") != "ExternalName":
            assert f"{svc['spec']['type']} {svc['spec']['clusterIP']}" in svg
    for n in shop.objects("Node"):
        assert n["spec"]["podCIDR"] in svg
    assert "coredns" not in svg
    assert repr(d) == "<diagram: 3 nodes, 6 pods, 9 services>"
    assert topology_diagram(shop).source == d.source  # the same lab gives the same picture


def test_a_probe_through_a_service_is_drawn_green(shop) -> None:
    r = shop.probe("client", "echo")
    assert r.ok
    svg = topology_diagram(shop, highlight=r).svg()
    strokes = edge_strokes(svg)
    assert strokes["pod/default/client->svc/default/echo"] == {OK_COLOUR}
    assert strokes[f"svc/default/echo->pod/default/{r.responder}"] == {OK_COLOUR}
    responder_ip = shop.pod_ip(r.responder)
    assert f"DNAT → {responder_ip}:80" in svg


def test_a_failed_probe_is_drawn_red(shop) -> None:
    r = shop.probe("client", "echo", port=81, timeout=0.5)
    assert not r.ok
    strokes = edge_strokes(topology_diagram(shop, namespace="default", highlight=r).svg())
    assert strokes["pod/default/client->svc/default/echo"] == {FAIL_COLOUR}
    assert not any(OK_COLOUR in s for s in strokes.values())


def test_path_diagram_of_a_real_probe(shop, tmp_path) -> None:
    r = shop.probe("client", "echo")
    d = path_diagram(r, shop)
    svg = d.svg()
    assert shop.pod_ip("client") in svg and "Service echo" in svg and shop.pod_ip(r.responder) in svg
    assert d.render(tmp_path / "path.png").endswith("path.png")
    assert (tmp_path / "path.png").read_bytes()[:4] == b"\x89PNG"


def test_cli_writes_the_live_diagram(shop, tmp_path, capsys) -> None:
    out = tmp_path / "lab.svg"
    assert cli.main(["diagram", "--name", shop.name, "--backend", "sandbox", "-n", "default", "-o", str(out)]) == 0
    assert shop.pod_ip("client") in out.read_text()
    assert capsys.readouterr().out == f"wrote {out}\n"
    assert cli.main(["diagram", "--name", shop.name, "--backend", "sandbox"]) == 0
    assert capsys.readouterr().out.lstrip().startswith("digraph lab {")


def test_explorer_probes_for_real(shop) -> None:
    ex = probe_explorer(shop, source="client", target="svc/echo")
    result = ex.probe()
    assert result is not None and result.ok
    assert repr(ex).splitlines()[1].startswith("client -> echo (")
    assert OK_COLOUR in ex.picture.value


def test_replica_slider_endpoints_and_rules_follow(shop) -> None:
    s = replica_slider(shop, "echo", service="echo")
    assert s.slider.value == 3 and s.proxy_mode == "iptables"
    rules = [line for line in s.rules_text.splitlines() if "--to-destination" in line]
    assert len(rules) == 3
    try:
        s.slider.value = 1
        ips = {p["status"]["podIP"] for p in shop.pods() if p["metadata"]["name"].startswith("echo-")}
        assert len(ips) == 1
        (ip,) = ips
        assert f"{ip}:80" in s.endpoints_text
        rules = [line for line in s.rules_text.splitlines() if "--to-destination" in line]
        assert rules == [next(line for line in rules if line.endswith(f"{ip}:80"))]
        assert "--probability" not in s.rules_text  # one endpoint: no random choice left
    finally:
        s.scale(3)
    assert len([line for line in s.rules_text.splitlines() if "--to-destination" in line]) == 3

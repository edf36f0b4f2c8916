"""Widgets on a hand-built lab: what a click or a slide asks of the lab, and the text left where no frontend runs."""
from __future__ import annotations

import shutil

import pytest

from k8snet_tutorial import widgets
from k8snet_tutorial.errors import UsageError
from k8snet_tutorial.results import CommandResult, ProbeResult
from k8snet_tutorial.widgets import ProbeExplorer, ReplicaSlider, probe_explorer, replica_slider
from test_diagrams import FakeLab, endpoint_slice, node, service, shop

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
HAVE_DOT = shutil.which("dot") is not None


# -- the probe explorer ----------------------------------------------------------------------------------

def explorer_lab() -> FakeLab:
    lab = shop()
    lab.probe_result = ProbeResult(source="client", target="web", address="10.96.40.206", port=80, protocol="TCP",
                                   outcome="connected", responder="web-7b5f57d479-aaaaa", seen_source="10.244.2.2",
                                   latency_ms=0.42)
    return lab


def test_explorer_offers_the_namespace_pods_and_services() -> None:
    ex = probe_explorer(explorer_lab(), diagram=False)
    assert isinstance(ex, ProbeExplorer)
    assert list(ex.source.options) == ["client", "pending-one", "web-7b5f57d479-aaaaa", "web-7b5f57d479-bbbbb",
                                       "web-7b5f57d479-ccccc"]
    assert [v for _label, v in ex.target.options] == [
        "pod/client", "pod/pending-one", "pod/web-7b5f57d479-aaaaa", "pod/web-7b5f57d479-bbbbb",
        "pod/web-7b5f57d479-ccccc", "svc/legacy-db", "svc/web", "svc/web-lb", "svc/web-np"]  # no `kubernetes`
    assert ex.source.value == "client" and ex.target.value == "svc/web"  # the first Service with a virtual IP
    assert (ex.port.value, ex.protocol.value) == (80, "tcp")


def test_choosing_a_destination_fills_its_port_and_protocol() -> None:
    lab = explorer_lab()
    lab.store["Service"].append(service("dns", "10.96.5.5", [{"port": 53, "protocol": "UDP"}]))
    ex = probe_explorer(lab, diagram=False)
    ex.target.value = "svc/dns"
    assert (ex.port.value, ex.protocol.value) == (53, "udp")
    ex.target.value = "pod/web-7b5f57d479-bbbbb"
    assert (ex.port.value, ex.protocol.value) == (80, "tcp")


def test_clicking_probe_calls_the_lab_and_shows_the_result() -> None:
    lab = explorer_lab()
    ex = probe_explorer(lab, diagram=False)
    assert repr(ex) == 'Probe explorer (namespace default)\nclient → svc/web on 80/TCP: press “Probe”.'
    ex.port.value = 8080
    ex.button.click()
    assert lab.calls == [("probe", "client", "web", "default", 8080, "tcp", 2.0)]
    assert ex.result is lab.probe_result
    assert repr(ex) == ("Probe explorer (namespace default)\n"
                        "client -> web (10.96.40.206:80/TCP): connected, answered by web-7b5f57d479-aaaaa, "
                        "saw source 10.244.2.2")  # no timing: the text must not change from run to run
    assert "✔" in ex.outcome.value
    assert not ex.button.disabled


def test_probe_method_is_the_button() -> None:
    lab = explorer_lab()
    ex = probe_explorer(lab, source="web-7b5f57d479-bbbbb", target="client", port=9000, protocol="udp",
                        timeout=0.5, diagram=False)
    assert ex.probe() is lab.probe_result
    assert lab.calls == [("probe", "web-7b5f57d479-bbbbb", "client", "default", 9000, "udp", 0.5)]


def test_a_service_named_like_a_pod_is_asked_of_the_dns() -> None:
    lab = explorer_lab()
    lab.store["Service"].append(service("client", "10.96.8.8", [{"port": 80, "protocol": "TCP"}]))
    ex = probe_explorer(lab, target="svc/client", diagram=False)
    ex.probe()
    assert lab.calls[-1][2] == "client.default.svc"
    ex.target.value = "pod/client"
    ex.probe()
    assert lab.calls[-1][2] == "client"


def test_refusals_are_shown_not_raised() -> None:
    lab = explorer_lab()
    lab.probe_result = UsageError('probe: source pod "client" not found')
    ex = probe_explorer(lab, diagram=False)
    ex.button.click()
    assert ex.result is None
    assert repr(ex).endswith('probe: source pod "client" not found')
    assert "not found" in ex.outcome.value


def test_empty_namespace() -> None:
    ex = probe_explorer(explorer_lab(), "nothing-here", diagram=False)
    assert ex.button.disabled and ex.probe() is None
    assert repr(ex) == "Probe explorer (namespace nothing-here)\nNo pod in namespace nothing-here to probe from."


def test_jupyter_gets_the_live_widget_and_our_text() -> None:
    ex = probe_explorer(explorer_lab(), diagram=False)
    bundle = ex._repr_mimebundle_()
    assert bundle["text/plain"] == repr(ex)
    assert bundle[WIDGET_VIEW]["model_id"] == ex.box.model_id


@pytest.mark.skipif(not HAVE_DOT, reason="graphviz's `dot` is not installed")
def test_explorer_draws_the_path() -> None:
    ex = probe_explorer(explorer_lab())
    assert "<svg" in ex.picture.value and "10.96.40.206" in ex.picture.value
    before = ex.picture.value
    ex.probe()
    assert ex.picture.value != before and "#2e7d32" in ex.picture.value  # the green path


def test_explorer_without_dot_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(self, format="svg"):
        raise widgets.topology_diagram.__globals__["graphviz"].ExecutableNotFound(["dot"])
    monkeypatch.setattr(widgets.topology_diagram.__globals__["Diagram"], "pipe", missing)
    ex = probe_explorer(explorer_lab())
    assert ex.picture.value.startswith("(no diagram:")


# -- the replica slider ----------------------------------------------------------------------------------

class ScalingLab(FakeLab):
    """A Deployment whose pods, endpoints and kube-proxy rules follow `kubectl scale`, possibly late."""

    def __init__(self, replicas: int = 3, *, proxy_mode: str = "iptables", namespace: str = "default",
                 lag: int = 0, fail_scale: bool = False) -> None:
        super().__init__({}, proxy_mode=proxy_mode)
        self.ns = namespace
        self.lag = lag  # how many reads of the endpoints still show the old scale
        self.fail_scale = fail_scale
        self.replicas = self.shown = replicas
        self.store["Node"] = [node("k-worker2", "172.18.0.4", "10.244.2.0/24"),
                              node("k-control-plane", "172.18.0.2", "10.244.0.0/24")]
        self.store["Service"] = [
            service("aaa-other", "10.96.1.1", [{"port": 80, "protocol": "TCP"}], ns=namespace,
                    selector={"app": "other"}),
            service("web", "10.96.40.206", [{"name": "http", "port": 80, "protocol": "TCP"}], ns=namespace,
                    selector={"app": "web"})]

    def ips(self, n: int) -> list[str]:
        return [f"10.244.2.{10 + i}" for i in range(n)]

    def objects(self, kind: str, namespace: str | None = None, selector: str | None = None) -> list[dict]:
        if kind == "Deployment":
            return [{"metadata": {"name": "web", "namespace": self.ns},
                     "spec": {"replicas": self.replicas, "template": {"metadata": {"labels": {"app": "web"}}}}}]
        if kind == "EndpointSlice":
            if self.lag:
                self.lag -= 1
            else:
                self.shown = self.replicas
            return [endpoint_slice("web", [(ip, f"web-{i}", True) for i, ip in enumerate(self.ips(self.shown))],
                                   [{"name": "http", "port": 80, "protocol": "TCP"}], ns=self.ns)]
        return super().objects(kind, namespace, selector)

    def kubectl(self, args: list[str]) -> CommandResult:
        self.calls.append(("kubectl", list(args)))
        if args[0] == "scale":
            if self.fail_scale:
                return CommandResult(["kubectl", *args], 1, "", 'Error from server (NotFound): "web" not found')
            self.replicas = int(args[2].split("=")[1])
            return CommandResult(["kubectl", *args], 0, "deployment.apps/web scaled\n")
        eps = ",".join(f"{ip}:80" for ip in self.ips(self.shown)) or "<none>"
        return CommandResult(["kubectl", *args], 0, f"NAME   ENDPOINTS   AGE\nweb    {eps}   5s\n",
                             "Warning: v1 Endpoints is deprecated in v1.33+\n")

    def node_exec(self, node_name: str, command: str, timeout: float = 30) -> CommandResult:
        self.calls.append(("node_exec", node_name, command))
        ips = self.ips(self.shown)
        if command.startswith("nft"):
            chains = "".join(f"\tchain endpoint-H{i}-{self.ns}/web/tcp/http__{ip}/80 {{\n"
                             f"\t\tmeta l4proto tcp dnat to {ip}:80\n\t}}\n" for i, ip in enumerate(ips))
            return CommandResult(command.split(), 0, "table ip kube-proxy {\n" + chains + "}\n")
        lines = [f'-A KUBE-SERVICES -d 10.96.40.206/32 -p tcp -m comment --comment "{self.ns}/web:http cluster IP" '
                 f'-m tcp --dport 80 -j KUBE-SVC-X']
        lines += [f'-A KUBE-SEP-{i} -p tcp -m comment --comment "{self.ns}/web:http" -m tcp -j DNAT '
                  f'--to-destination {ip}:80' for i, ip in enumerate(ips)]
        lines.append('-A KUBE-SEP-Z -p tcp -m comment --comment "other/thing" -m tcp -j DNAT '
                     '--to-destination 1.2.3.4:80')
        return CommandResult(command.split(), 0, "*nat\n" + "\n".join(lines) + "\nCOMMIT\n")


def test_slider_starts_at_the_current_scale_and_finds_the_service() -> None:
    lab = ScalingLab(3)
    s = replica_slider(lab, "web")
    assert isinstance(s, ReplicaSlider)
    assert (s.slider.value, s.slider.min, s.slider.max) == (3, 0, 6)
    assert s.service == "web" and s.node == "k-control-plane" and s.proxy_mode == "iptables"
    assert lab.calls == [("kubectl", ["get", "endpoints", "web"]),
                         ("node_exec", "k-control-plane", "iptables-save -t nat")]
    assert repr(s) == """\
deployment/web — replicas: 3

$ kubectl get endpoints web
NAME   ENDPOINTS   AGE
web    10.244.2.10:80,10.244.2.11:80,10.244.2.12:80   5s

# kube-proxy rules (iptables) for default/web on node k-control-plane
$ iptables-save -t nat
-A KUBE-SERVICES -d 10.96.40.206/32 -p tcp -m comment --comment "default/web:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-X
-A KUBE-SEP-0 -p tcp -m comment --comment "default/web:http" -m tcp -j DNAT --to-destination 10.244.2.10:80
-A KUBE-SEP-1 -p tcp -m comment --comment "default/web:http" -m tcp -j DNAT --to-destination 10.244.2.11:80
-A KUBE-SEP-2 -p tcp -m comment --comment "default/web:http" -m tcp -j DNAT --to-destination 10.244.2.12:80"""


def test_sliding_scales_and_shows_endpoints_and_rules_following() -> None:
    lab = ScalingLab(3)
    s = replica_slider(lab, "web", service="web")
    lab.calls.clear()
    s.slider.value = 1  # what the learner's drag does
    assert lab.calls[0] == ("kubectl", ["scale", "deployment/web", "--replicas=1"])
    assert ("kubectl", ["get", "endpoints", "web"]) in lab.calls
    assert s.replicas == 1
    text = repr(s)
    assert text.startswith("deployment/web — replicas: 1 (deployment.apps/web scaled)")
    assert "10.244.2.10:80   5s" in text and "10.244.2.11" not in text
    assert "<pre" in s.endpoints_view.value and "10.244.2.10" in s.rules_view.value
    assert not s.slider.disabled


def test_scale_method_moves_the_slider_and_scales_once() -> None:
    lab = ScalingLab(2)
    s = replica_slider(lab, "web", max_replicas=4)
    lab.calls.clear()
    result = s.scale(9)
    assert result.ok and s.slider.value == 9 and s.slider.max == 9
    assert [c for c in lab.calls if c[0] == "kubectl" and c[1][0] == "scale"] == [
        ("kubectl", ["scale", "deployment/web", "--replicas=9"])]


def test_waits_until_endpoints_and_rules_follow(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(widgets, "POLL_INTERVAL", 0)
    lab = ScalingLab(3)
    s = replica_slider(lab, "web", settle=5)
    lab.lag = 3  # the endpoint controller is three reads late
    s.scale(2)
    assert lab.shown == 2
    assert "10.244.2.12" not in repr(s) and "10.244.2.11:80" in repr(s)


def test_the_wait_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(widgets, "POLL_INTERVAL", 0)
    lab = ScalingLab(3)
    s = replica_slider(lab, "web", settle=0)
    lab.lag = 10_000
    s.scale(1)  # returns although the endpoints never followed
    assert lab.shown == 3


def test_nftables_mode_shows_the_services_chains() -> None:
    lab = ScalingLab(2, proxy_mode="nftables")
    s = replica_slider(lab, "web")
    assert ("node_exec", "k-control-plane", "nft list table ip kube-proxy") in lab.calls
    assert "# kube-proxy rules (nftables) for default/web on node k-control-plane" in repr(s)
    assert "dnat to 10.244.2.11:80" in repr(s)


def test_other_namespace_and_node() -> None:
    lab = ScalingLab(1, namespace="shop")
    s = replica_slider(lab, "web", "shop", "web", node="k-worker2")
    s.scale(2)
    assert ("kubectl", ["scale", "deployment/web", "--replicas=2", "-n", "shop"]) in lab.calls
    assert ("kubectl", ["get", "endpoints", "web", "-n", "shop"]) in lab.calls
    assert ("node_exec", "k-worker2", "iptables-save -t nat") in lab.calls
    assert "for shop/web on node k-worker2" in repr(s)


def test_failed_scale_is_shown_and_the_slider_goes_back() -> None:
    lab = ScalingLab(3, fail_scale=True)
    s = replica_slider(lab, "web")
    lab.calls.clear()
    s.slider.value = 5
    scales = [c for c in lab.calls if c[0] == "kubectl" and c[1][0] == "scale"]
    assert scales == [("kubectl", ["scale", "deployment/web", "--replicas=5"])]  # not a second time to go back
    assert s.slider.value == 3 and s.replicas == 3
    assert "NotFound" in repr(s).splitlines()[0]


def test_no_service_selects_the_deployment() -> None:
    lab = ScalingLab(1)
    lab.store["Service"] = []
    s = replica_slider(lab, "web")
    assert s.service is None and s.proxy_mode is None
    assert repr(s) == "deployment/web — replicas: 1\n\nNo Service selects the pods of deployment/web."
    s.scale(2)
    assert repr(s).startswith("deployment/web — replicas: 2")
    assert not any(c[0] == "node_exec" for c in lab.calls)


def test_slider_bundle_for_jupyter() -> None:
    s = replica_slider(ScalingLab(1), "web")
    bundle = s._repr_mimebundle_()
    assert bundle["text/plain"] == repr(s) and WIDGET_VIEW in bundle

"""`k8snet doctor` with every machine fact replaced: tools, backend choice, kind facts, chapter verdicts, rendering."""
from __future__ import annotations

import json
import os
import shutil

import pytest

from k8snet_tutorial import doctor, host_routes
from k8snet_tutorial.backends.base import Capabilities, Detection
from k8snet_tutorial.backends.kind import KindBackend
from k8snet_tutorial.doctor import (CHAPTERS, ClusterFacts, KindFacts, chapter_table, cluster_checks,
                                    effective_capabilities, find_process, parse_kind_version)

ALL_SERVICES = frozenset({"ClusterIP", "NodePort", "LoadBalancer", "ExternalName", "headless"})
EVERYTHING = Capabilities(service_types=ALL_SERVICES, proxy_modes=frozenset({"iptables", "nftables", "ipvs"}),
                          network_policy=True, ingress=True, load_balancer=True)


def by_number(rows):
    return {r.number: r for r in rows}


def fake_which(absent: set[str]):
    def which(cmd, mode=None, path=None):
        return None if cmd in absent else f"/usr/bin/{cmd}"
    return which


# -- the chapter table ---------------------------------------------------------------------------

def test_nine_chapters_in_order() -> None:
    assert [c.number for c in CHAPTERS] == [f"{i:02d}" for i in range(1, 10)]
    assert [c.slug for c in CHAPTERS][:3] == ["model", "pods-nodes-services", "cluster-components"]


def test_everything_means_every_chapter_full() -> None:
    rows = chapter_table(EVERYTHING)
    assert all(r.full and r.verdict == "full" for r in rows)


def test_missing_capabilities_make_chapters_partial_with_reasons() -> None:
    caps = Capabilities(service_types=frozenset({"ClusterIP", "NodePort", "headless", "ExternalName"}),
                        proxy_modes=frozenset({"iptables", "nftables"}), network_policy=False, ingress=False,
                        load_balancer=False,
                        notes={"ipvs": "no IPVS in an unprivileged namespace",
                               "network_policy": "policy agent not built yet"})
    rows = by_number(chapter_table(caps))
    assert rows["01"].verdict == "full"
    assert rows["04"].verdict == "full"
    assert rows["05"].verdict == "full" and rows["09"].verdict == "full"
    assert rows["02"].verdict.startswith("partial: ") and "LoadBalancer Services" in rows["02"].verdict
    assert "NodePort" not in rows["02"].verdict
    assert "no Ingress" in rows["06"].verdict
    assert rows["07"].verdict == "partial: no NetworkPolicy enforcement — policy agent not built yet"
    assert not rows["08"].full
    # IPVS is optional for chapter 03: still full, with a note carrying the backend's reason
    assert rows["03"].full
    assert any("IPVS" in n and "unprivileged" in n for n in rows["03"].notes)


def test_chapter_03_needs_iptables_and_nftables() -> None:
    caps = Capabilities(service_types=frozenset({"ClusterIP"}), proxy_modes=frozenset({"iptables"}))
    row = by_number(chapter_table(caps))["03"]
    assert row.verdict == "partial: no kube-proxy nftables mode"


def test_empty_capabilities() -> None:
    rows = by_number(chapter_table(Capabilities()))
    assert rows["01"].verdict == "partial: no ClusterIP Services"
    assert rows["05"].full


def test_no_backend_means_unavailable() -> None:
    rows = chapter_table(None, unavailable="neither kind nor namespaces here")
    assert all(not r.full and r.verdict == "unavailable: neither kind nor namespaces here" for r in rows)


def test_kind_capabilities_notes_reach_the_chapters() -> None:
    rows = by_number(chapter_table(KindBackend.capabilities))
    assert all(r.full for r in rows.values())
    assert any("cloud-provider-kind" in n for n in rows["06"].notes)
    assert any("ingress controller" in n for n in rows["06"].notes)


def test_effective_capabilities_narrowed_by_the_cluster() -> None:
    old = KindFacts(path="/usr/bin/kind", version="kind v0.23.0 go1.21 linux/amd64", clusters=["k8snet"])
    caps = effective_capabilities(KindBackend.capabilities, old, ClusterFacts(cloud_provider_kind=None))
    assert not caps.network_policy and not caps.load_balancer
    rows = by_number(chapter_table(caps))
    assert "older than v0.24" in rows["07"].verdict
    assert "cloud-provider-kind is not running" in rows["02"].verdict
    new = KindFacts(path="/usr/bin/kind", version="kind v0.24.0 go1.22.6 linux/amd64", clusters=["k8snet"])
    caps = effective_capabilities(KindBackend.capabilities, new, ClusterFacts(cloud_provider_kind="process 42"))
    assert caps.network_policy and caps.load_balancer
    assert effective_capabilities(KindBackend.capabilities, new, None) is KindBackend.capabilities


# -- facts ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("kind v0.24.0 go1.22.6 linux/amd64", (0, 24, 0)),
    ("kind v0.33.0 go1.25.1 linux/arm64", (0, 33, 0)),
    ("kind v0.20.0-alpha+abc go1.20", (0, 20, 0)),
    ("", None),
    ("something else", None),
])
def test_parse_kind_version(text: str, expected) -> None:
    assert parse_kind_version(text) == expected


def test_find_process_reads_truncated_comm(tmp_path) -> None:
    def proc(pid: int, comm: str, argv0: str) -> None:
        d = tmp_path / str(pid)
        d.mkdir()
        (d / "comm").write_text(comm + "\n")
        (d / "cmdline").write_bytes(argv0.encode() + b"\0--flag\0")
    proc(101, "cloud-provider-", "/usr/local/bin/cloud-provider-kind")   # the kernel cuts comm to 15 characters
    proc(102, "cloud-provider-", "/usr/bin/cloud-provider-gcp")           # same prefix, another program
    proc(103, "bash", "/bin/bash")
    (tmp_path / "self").mkdir()
    assert find_process("cloud-provider-kind", proc=str(tmp_path)) == [101]
    assert find_process("bash", proc=str(tmp_path)) == [103]
    assert find_process("nothing", proc=str(tmp_path / "absent")) == []


def test_kind_facts_without_kind(monkeypatch: pytest.MonkeyPatch) -> None:
    import k8snet_tutorial.backends.kind as kind_mod
    monkeypatch.setattr(shutil, "which", fake_which({"kind", "podman"}))
    monkeypatch.setattr(kind_mod, "runtime_answers", lambda e: (e == "docker", "" if e == "docker" else "down"))
    monkeypatch.delenv("KIND_EXPERIMENTAL_PROVIDER", raising=False)
    monkeypatch.setattr(doctor, "_run", lambda *a, **k: pytest.fail("no command should run without kind"))
    facts = doctor.kind_facts()
    assert facts.path is None and facts.clusters is None and facts.engine == "docker"
    checks = {c.key: c for c in doctor.kind_checks(facts)}
    assert checks["kind"].ok is False and checks["docker"].ok is True and checks["podman"].ok is None


def test_kind_facts_lists_clusters(monkeypatch: pytest.MonkeyPatch) -> None:
    import k8snet_tutorial.backends.kind as kind_mod
    monkeypatch.setattr(shutil, "which", fake_which(set()))
    monkeypatch.setattr(kind_mod, "runtime_answers", lambda e: (True, ""))
    monkeypatch.delenv("KIND_EXPERIMENTAL_PROVIDER", raising=False)
    answers = {"version": (0, "kind v0.33.0 go1.25 linux/amd64\n", ""),
               "get": (0, "k8snet\nother\n", "")}
    seen = []

    def run(argv, timeout=doctor.CHECK_TIMEOUT, env=None):
        seen.append((argv, timeout))
        return answers[argv[1]]
    monkeypatch.setattr(doctor, "_run", run)
    facts = doctor.kind_facts()
    assert facts.version.startswith("kind v0.33.0") and facts.clusters == ["k8snet", "other"]
    assert all(t <= 2 * doctor.CHECK_TIMEOUT for _, t in seen)


def test_cluster_facts_without_kubectl(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", fake_which({"kubectl", "docker"}))
    monkeypatch.setattr(doctor, "find_process", lambda name: [])
    facts = doctor.cluster_facts("k8snet", "docker")
    assert facts.proxy_mode is None and "kubectl is not installed" in facts.proxy_detail
    assert facts.cloud_provider_kind is None


def test_cluster_facts_reads_proxy_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", fake_which(set()))
    monkeypatch.setattr(doctor, "find_process", lambda name: [4242])
    calls = []

    def run(argv, timeout=doctor.CHECK_TIMEOUT, env=None):
        calls.append(argv)
        return 0, "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: nftables\n", ""
    monkeypatch.setattr(doctor, "_run", run)
    facts = doctor.cluster_facts("lab1", "docker")
    assert facts.proxy_mode == "nftables" and facts.cloud_provider_kind == "process 4242"
    assert calls and "kind-lab1" in calls[0] and "kube-proxy" in calls[0]


def test_cluster_checks() -> None:
    assert cluster_checks("k8snet", KindFacts(), None)[0].detail.startswith("not checked")
    none_yet = cluster_checks("k8snet", KindFacts(path="/k", clusters=[]), None)
    assert "no kind cluster named 'k8snet'" in none_yet[0].detail
    kf = KindFacts(path="/k", version="kind v0.24.0", clusters=["k8snet"])
    checks = {c.key: c for c in cluster_checks("k8snet", kf, ClusterFacts(None, "iptables", "from the ConfigMap"))}
    assert checks["network_policy"].ok is True
    assert checks["cloud_provider_kind"].ok is False
    assert checks["kube_proxy_mode"].detail.startswith("iptables")


def test_choose_backend_explains_the_source(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    monkeypatch.delenv("K8SNET_CONTEXT", raising=False)
    monkeypatch.setenv("K8SNET_BACKEND", "sandbox")
    assert doctor.choose_backend("lab1") == ("sandbox", "K8SNET_BACKEND=sandbox")
    monkeypatch.setenv("K8SNET_BACKEND", "bogus")
    name, reason = doctor.choose_backend("lab1")
    assert name is None and "bogus" in reason
    monkeypatch.delenv("K8SNET_BACKEND")
    (tmp_path / "k8snet").mkdir()
    (tmp_path / "k8snet" / "lab1.backend").write_text("kind\n")
    name, reason = doctor.choose_backend("lab1")
    assert name == "kind" and "lab1" in reason


# -- chapters not written yet ------------------------------------------------------------------------

def test_chapters_without_a_notebook_are_not_written_yet() -> None:
    rows = by_number(chapter_table(EVERYTHING, written={"01", "02", "03", "04", "05", "07"}))
    for number in ("06", "08", "09"):
        assert rows[number].verdict == "not written yet" and not rows[number].full
        assert rows[number].to_dict()["written"] is False
    assert rows["07"].verdict == "full"
    unavailable = by_number(chapter_table(None, unavailable="nothing here", written={"01"}))
    assert unavailable["01"].verdict.startswith("unavailable") and unavailable["06"].verdict == "not written yet"


def test_written_chapters_come_from_the_notebooks_folder(tmp_path) -> None:
    (tmp_path / "en").mkdir()
    (tmp_path / "fr").mkdir()
    (tmp_path / "en" / "01-network-model.ipynb").write_text("{}")
    (tmp_path / "fr" / "07-network-policies.ipynb").write_text("{}")
    (tmp_path / "en" / "notes.md").write_text("")
    assert doctor.written_chapters(tmp_path) == {"01", "07"}
    assert doctor.written_chapters(tmp_path / "absent") is None
    real = doctor.written_chapters()
    assert real is not None and "01" in real and "09" not in real


# -- tcpdump's IDs: root, newuidmap, /etc/subuid -------------------------------------------------------

def test_id_mapping_as_root_is_fine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", fake_which({"newuidmap", "newgidmap"}))
    check = doctor.id_mapping_check(euid=0)
    assert check.ok is True and "root" in check.detail


def test_id_mapping_without_newuidmap_says_tcpdump_will_fail(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setattr(shutil, "which", fake_which({"newuidmap"}))
    sub = tmp_path / "subuid"
    sub.write_text("alice:100000:65536\n")
    check = doctor.id_mapping_check(euid=1000, user="alice", subuid=str(sub), subgid=str(sub))
    assert check.ok is False and "newuidmap" in check.detail and "newgidmap" not in check.detail
    assert "tcpdump inside the lab will fail" in check.detail and "apt-get install -y uidmap" in check.detail


def test_id_mapping_without_a_subuid_range_says_tcpdump_will_fail(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setattr(shutil, "which", fake_which(set()))
    subuid, subgid = tmp_path / "subuid", tmp_path / "subgid"
    subuid.write_text("bob:100000:65536\nalice:200000:1000\n")   # alice's range is too small
    subgid.write_text("alice:200000:65536\n")
    check = doctor.id_mapping_check(euid=1000, user="alice", subuid=str(subuid), subgid=str(subgid))
    assert check.ok is False and str(subuid) in check.detail and str(subgid) not in check.detail
    assert "tcpdump inside the lab will fail" in check.detail and "usermod --add-subuids" in check.detail
    subuid.write_text("1000:300000:65536\n")                         # by uid works too, as for the launcher
    check = doctor.id_mapping_check(euid=1000, user="alice", subuid=str(subuid), subgid=str(subgid))
    assert check.ok is True and "300000" in check.detail


# -- lab addresses typed on the host: the host's routes, analysed (canned tables, nothing sent) ------------------

IP_ROUTES_DEFAULT = json.dumps([
    {"dst": "default", "gateway": "192.0.2.1", "dev": "eth0", "flags": []},
    {"dst": "192.0.2.0/24", "dev": "eth0", "protocol": "kernel", "scope": "link", "prefsrc": "192.0.2.2"},
    {"type": "local", "dst": "127.0.0.0/8", "dev": "lo", "table": "local", "protocol": "kernel"},
    {"type": "broadcast", "dst": "192.0.2.255", "dev": "eth0", "table": "local", "protocol": "kernel"},
])
IP_ROUTES_DOCKER = json.dumps([
    {"dst": "default", "gateway": "192.0.2.1", "dev": "wlan0"},
    {"dst": "172.17.0.0/16", "dev": "docker0", "protocol": "kernel", "linkdown": True},
    {"dst": "172.18.0.0/16", "dev": "br-4b1f0e2a9c11", "protocol": "kernel", "scope": "link"},
    {"type": "local", "dst": "172.18.0.1", "dev": "br-4b1f0e2a9c11", "table": "local", "protocol": "kernel"},
    {"dst": "10.96.0.0/12", "gateway": "10.8.0.1", "dev": "tun0", "table": "vpn"},     # a table no rule looks up here
    {"dst": "10.244.3.0/24", "gateway": "10.8.0.1", "dev": "tun0"},
    {"dst": "fd00::/64", "dev": "eth0"},
])
IP_ROUTES_NONE = json.dumps([
    {"dst": "192.0.2.0/24", "dev": "eth0", "protocol": "kernel"},
    {"type": "unreachable", "dst": "10.96.0.0/12"},
])
PROC_NET_ROUTE = (
    "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
    "eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
    "eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
    "br-1\t000012AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n"
)


def verdicts(routes) -> dict:
    return {str(v.subnet): v for v in host_routes.analyse(routes)}


def test_default_route_catches_every_lab_subnet() -> None:
    v = verdicts(host_routes.parse_ip_json(IP_ROUTES_DEFAULT))
    assert set(v) == {"172.18.0.0/16", "10.244.0.0/16", "10.96.0.0/16"}
    for verdict in v.values():
        assert verdict.leaves and verdict.route.describe() == "default via 192.0.2.1 dev eth0"
    checks = doctor.route_checks(host_routes.parse_ip_json(IP_ROUTES_DEFAULT))
    assert [c.mark for c in checks] == ["⚠"] * 3
    assert all("default route" in c.detail and "never reaches the lab" in c.detail for c in checks)


def test_a_docker_bridge_catches_the_node_subnet() -> None:
    routes = host_routes.parse_ip_json(IP_ROUTES_DOCKER)
    assert all(":" not in str(r.dst) for r in routes)
    v = verdicts(routes)
    assert v["172.18.0.0/16"].route.dev == "br-4b1f0e2a9c11"
    assert [r.describe() for r in v["172.18.0.0/16"].inside] == ["local 172.18.0.1 dev br-4b1f0e2a9c11 table local"]
    assert v["10.96.0.0/16"].route.dst.prefixlen == 0          # the vpn table's 10.96.0.0/12 is not looked up
    assert [str(r.dst) for r in v["10.244.0.0/16"].inside] == ["10.244.3.0/24"]
    checks = {c.label.split()[0]: c for c in doctor.route_checks(routes)}
    assert "br-4b1f0e2a9c11 (a Docker network): to that network, not to the lab" in checks["172.18.0.0/16"].detail
    assert "part of it goes by 10.244.3.0/24 via 10.8.0.1 dev tun0" in checks["10.244.0.0/16"].detail


def test_no_route_or_an_unreachable_route_is_no_warning() -> None:
    checks = {c.label.split()[0]: c for c in doctor.route_checks(host_routes.parse_ip_json(IP_ROUTES_NONE))}
    assert checks["172.18.0.0/16"].ok is True and "no route" in checks["172.18.0.0/16"].detail
    assert checks["10.96.0.0/16"].ok is True and "drops" in checks["10.96.0.0/16"].detail
    assert checks["10.96.0.0/16"].mark == "✔"


def test_proc_net_route_is_read_too() -> None:
    routes = host_routes.parse_proc_route(PROC_NET_ROUTE)
    assert [r.describe() for r in routes] == ["default via 192.0.2.1 dev eth0", "192.0.2.0/24 dev eth0",
                                              "172.18.0.0/16 dev br-1"]
    v = verdicts(routes)
    assert v["172.18.0.0/16"].route.dev == "br-1" and v["10.244.0.0/16"].route.dst.prefixlen == 0


def test_unreadable_routes_are_said_so() -> None:
    [check] = doctor.route_checks(None)
    assert check.ok is None and "could not be read" in check.detail


def test_host_route_table_only_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = []

    def run(argv, timeout=doctor.CHECK_TIMEOUT, env=None):
        seen.append(argv)
        return 0, IP_ROUTES_DEFAULT, ""
    monkeypatch.setattr(doctor, "_run", run)
    monkeypatch.setattr(shutil, "which", fake_which(set()))
    routes = doctor.host_route_table()
    assert seen == [["/usr/bin/ip", "-4", "-j", "route", "show", "table", "all"]]
    assert routes and routes[0].dst.prefixlen == 0


# -- the whole report ------------------------------------------------------------------------------

@pytest.fixture
def machine(monkeypatch: pytest.MonkeyPatch):
    """A machine without kind, with the sandbox available, and dig/nslookup/tcpdump missing."""
    monkeypatch.delenv("K8SNET_CONTEXT", raising=False)
    monkeypatch.delenv("K8SNET_CLUSTER", raising=False)
    monkeypatch.setattr(shutil, "which", fake_which({"dig", "nslookup", "tcpdump", "kind"}))
    monkeypatch.setattr(doctor, "choose_backend", lambda cluster: ("sandbox", "kind is not installed"))
    monkeypatch.setattr(doctor, "sandbox_detection", lambda: Detection(True, "namespaces available"))
    monkeypatch.setattr(doctor, "kind_facts", lambda: KindFacts(engines={"docker": (True, False, "daemon down")},
                                                                clusters_error="no container engine answers"))
    monkeypatch.setattr(doctor, "cluster_facts", lambda name, engine: pytest.fail("no cluster to look at"))
    monkeypatch.setattr(doctor, "host_route_table", lambda: host_routes.parse_ip_json(IP_ROUTES_DOCKER))
    monkeypatch.setattr(doctor, "written_chapters", lambda: {f"{i:02d}" for i in range(1, 10)})
    sandbox_caps = Capabilities(service_types=frozenset({"ClusterIP"}), proxy_modes=frozenset({"iptables"}))
    from k8snet_tutorial.backends.sandbox import SandboxBackend
    monkeypatch.setattr(SandboxBackend, "capabilities", sandbox_caps)
    return monkeypatch


def test_report_lists_missing_tools_and_apt_line(machine) -> None:
    report = doctor.diagnose()
    assert report.cluster == "k8snet"
    assert [t.binary for t in report.missing_tools] == ["dig", "nslookup", "tcpdump"]
    assert report.apt_line == "sudo apt-get install -y dnsutils tcpdump"
    assert not report.ok


def test_report_chapters_follow_the_chosen_backend(machine) -> None:
    rows = by_number(doctor.diagnose().chapters)
    assert rows["01"].full and rows["04"].full and rows["05"].full
    assert rows["03"].verdict == "partial: no kube-proxy nftables mode"
    assert "NetworkPolicy" in rows["07"].verdict


def test_report_as_dict_is_json(machine) -> None:
    data = doctor.diagnose().to_dict()
    json.dumps(data)
    assert data["backend"] == {"name": "sandbox", "reason": "kind is not installed"}
    assert data["missing_tools"] == ["dig", "nslookup", "tcpdump"]
    assert data["apt_line"] == "sudo apt-get install -y dnsutils tcpdump"
    assert len(data["chapters"]) == 9 and data["chapters"][0]["verdict"] == "full"
    assert data["sandbox"] == {"available": True, "reason": "namespaces available"}
    tools = {t["binary"]: t for t in data["tools"]}
    assert tools["dig"]["present"] is False and tools["curl"]["path"] == "/usr/bin/curl"


def test_report_as_text_and_html(machine) -> None:
    report = doctor.diagnose("mylab")
    text = str(report)
    assert "lab 'mylab'" in text
    assert "Backend: sandbox — kind is not installed" in text
    assert "install: sudo apt-get install -y dnsutils tcpdump" in text
    assert "✘ dig" in text and "✔ curl" in text
    assert "03 Cluster components" in text and "partial: no kube-proxy nftables mode" in text
    assert "not checked: kind is not installed" in text
    page = report._repr_html_()
    assert page.startswith("<h4>") and "sudo apt-get install -y dnsutils tcpdump" in page
    assert "partial: no kube-proxy nftables mode" in page


def test_report_when_no_backend_can_run(machine) -> None:
    machine.setattr(doctor, "choose_backend", lambda cluster: (None, "no backend can run on this machine: …"))
    report = doctor.diagnose()
    assert report.backend is None and not report.ok
    assert all(r.verdict.startswith("unavailable: no backend can run") for r in report.chapters)
    assert "Backend: none" in str(report)


def test_report_with_an_old_kind_cluster(machine) -> None:
    machine.setattr(shutil, "which", fake_which(set()))
    machine.setattr(doctor, "choose_backend", lambda cluster: ("kind", "kind and docker are ready."))
    machine.setattr(doctor, "kind_facts", lambda: KindFacts(path="/usr/bin/kind", version="kind v0.22.0 go1.21",
                                                            engines={"docker": (True, True, "")}, engine="docker",
                                                            clusters=["k8snet"]))
    machine.setattr(doctor, "cluster_facts", lambda name, engine: ClusterFacts(None, "iptables", "from the ConfigMap"))
    report = doctor.diagnose()
    assert report.ok
    rows = by_number(report.chapters)
    assert "older than v0.24" in rows["07"].verdict
    assert "cloud-provider-kind" in rows["06"].verdict
    assert rows["03"].full and any("kind-config-nftables.yaml" in n for n in rows["03"].notes)
    checks = {c["key"]: c for c in report.to_dict()["kind_cluster"]}
    assert checks["network_policy"]["ok"] is False and checks["kube_proxy_mode"]["detail"].startswith("iptables")


def test_doctor_reads_only(machine) -> None:
    """diagnose() starts nothing: no subprocess is spawned once the facts are replaced."""
    import subprocess
    machine.setattr(subprocess, "run", lambda *a, **k: pytest.fail(f"unexpected command {a}"))
    machine.setattr(subprocess, "Popen", lambda *a, **k: pytest.fail(f"unexpected process {a}"))
    machine.setattr(os, "kill", lambda *a: pytest.fail("nothing may be signalled"))
    doctor.diagnose()


def test_report_shows_the_host_section(machine) -> None:
    report = doctor.diagnose()
    text = str(report)
    assert "Lab addresses typed on this host are not routed into the lab" in text and "probe @host" in text
    assert "⚠ 172.18.0.0/16 (nodes)" in text and "a Docker network" in text
    assert "IDs for tcpdump in the lab" in text
    data = report.to_dict()
    assert any(c["key"] == "id_mapping" for c in data["host"])
    assert "a Docker network" in report._repr_html_()


def test_no_route_section_on_kind(machine) -> None:
    """On kind, the host does reach the nodes through Docker's bridge: the sandbox's warning would be wrong there."""
    machine.setattr(doctor, "choose_backend", lambda cluster: ("kind", "kind and docker are ready."))
    report = doctor.diagnose()
    assert [c.key for c in report.host] == ["id_mapping"]
    assert "not routed into the lab" not in str(report)


def test_report_chapters_not_written(machine) -> None:
    machine.setattr(doctor, "written_chapters", lambda: {"01", "02", "03", "04", "05", "07"})
    report = doctor.diagnose()
    rows = by_number(report.chapters)
    assert rows["06"].verdict == rows["08"].verdict == rows["09"].verdict == "not written yet"
    assert "not written yet" in str(report)

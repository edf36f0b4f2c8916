"""`k8snet doctor` with every machine fact replaced: tools, backend choice, kind facts, chapter verdicts, rendering."""
from __future__ import annotations

import json
import os
import shutil

import pytest

from k8snet_tutorial import doctor
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

"""Deployments, readiness, multi-container pods and shared volumes, with real processes and packets."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
REPO = Path(__file__).resolve().parents[2]


def wait_for(predicate, timeout: float = 10.0, step: float = 0.2):
    """Poll until predicate() is truthy (bounded); return its last value."""
    deadline = time.monotonic() + timeout
    value = predicate()
    while not value and time.monotonic() < deadline:
        time.sleep(step)
        value = predicate()
    return value


def ready(pod: dict) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in pod["status"].get("conditions", []))


def test_deployment_pods_carry_the_template_hash_and_spread(lab):
    lab.apply(str(DATA / "deployment.yaml"))
    pods = lab.pods(selector="app=frontend")
    assert len(pods) == 3
    hashes = {p["metadata"]["labels"]["pod-template-hash"] for p in pods}
    assert len(hashes) == 1
    h = hashes.pop()
    for p in pods:
        assert p["metadata"]["name"].startswith(f"frontend-{h}-") and len(p["metadata"]["name"].split("-")[-1]) == 5
    nodes = sorted(p["spec"]["nodeName"] for p in pods)
    assert set(nodes) == {f"{lab.name}-worker", f"{lab.name}-worker2"}  # the control-plane is tainted


def test_deleted_pod_comes_back_with_a_new_name_and_ip(lab):
    before = {p["metadata"]["name"]: p["status"]["podIP"] for p in lab.pods(selector="app=frontend")}
    victim = sorted(before)[0]
    out = lab.kubectl(["delete", "pod", victim])
    assert out.ok, out
    after = {p["metadata"]["name"]: p["status"]["podIP"] for p in lab.pods(selector="app=frontend")}
    assert len(after) == 3 and victim not in after
    new = (set(after) - set(before)).pop()
    assert after[new] not in before.values()


def test_scale_up_and_down(lab):
    assert lab.kubectl("scale deployment/frontend --replicas=5").ok
    assert len(lab.pods(selector="app=frontend")) == 5
    assert lab.kubectl("scale deployment frontend --replicas=2").ok
    assert len(lab.pods(selector="app=frontend")) == 2


def test_readiness_follows_tcp_http_and_exec_probes(lab):
    lab.apply(str(DATA / "readiness.yaml"))

    def pod(name):
        return next(p for p in lab.pods() if p["metadata"]["name"] == name)
    assert wait_for(lambda: ready(pod("tcp-ready")))
    time.sleep(1.5)
    assert not ready(pod("never-ready"))  # nothing listens on 8081
    assert not ready(pod("flipper"))
    assert lab.exec("flipper", "touch /ready/ok").ok
    assert wait_for(lambda: ready(pod("flipper")))
    assert lab.exec("flipper", "rm /ready/ok").ok
    assert wait_for(lambda: not ready(pod("flipper")))


def test_sidecar_reads_what_the_app_writes(lab):
    lab.apply(str(REPO / "manifests/02-pods-nodes-services/sidecar-logging.yaml"))
    line = wait_for(lambda: lab.exec("app-pod", "tail -n 1 /var/log/app/application.log",
                                     container="log-forwarder").stdout.strip(), timeout=10)
    assert "app-pod handled request 1" in line
    denied = lab.exec("app-pod", "touch /var/log/app/x", container="log-forwarder")
    assert not denied.ok  # the sidecar's mount is readOnly
    logs = lab.kubectl("logs app-pod -c log-forwarder")
    assert "handled request 1" in logs.stdout


def test_containers_of_a_pod_share_localhost(lab):
    r = lab.exec("app-pod", "sh -c 'ip -4 -o addr show dev eth0'", container="app")
    r2 = lab.exec("app-pod", "sh -c 'ip -4 -o addr show dev eth0'", container="log-forwarder")
    assert r.ok and r.stdout == r2.stdout

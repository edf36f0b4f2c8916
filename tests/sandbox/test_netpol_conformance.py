"""Kubernetes' own NetworkPolicy e2e cases (tests/data/netpol_cases.yaml), sent as real packets through the sandbox.

The model is upstream's: namespaces x, y, z, each with pods a, b, c serving ports 80 and 81 over TCP and UDP
(SCTP is refused by this kernel inside a namespace, so SCTP tables are left to the evaluator's unit tests).
Every case's expected table must come out of the kernel, and out of the evaluator too.
"""
from __future__ import annotations

import importlib.util
import json
import tempfile
from pathlib import Path

import pytest

from k8snet_tutorial import Lab
from k8snet_tutorial.policy import evaluate, pod_info
from labtools import REPO, unique_name

_spec = importlib.util.spec_from_file_location("netpol_unit_cases", REPO / "tests/unit/test_policy.py")
unit = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(unit)  # the case data and its truth-table expansion, shared with the unit tests

MODEL = unit.MODEL
CASES = [c for c in unit.CASES if any(p["protocol"] != "SCTP" for p in c.get("probes") or []) or c.get("checks")]
PORTS = [(p, proto) for p in MODEL["ports"] for proto in ("TCP", "UDP")]


def _pod_doc(ns: str, name: str, labels: dict, ports: list[tuple[str, int, str]]) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": ns, "labels": labels},
            "spec": {"containers": [{"name": "srv", "image": "registry.k8s.io/e2e-test-images/agnhost:2.53",
                                     "ports": [{"name": n, "containerPort": p, "protocol": proto}
                                               for n, p, proto in ports]}]}}


def _apply(lab: Lab, docs: list[dict]) -> None:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump({"apiVersion": "v1", "kind": "List", "items": docs}, f)
    try:
        lab.apply(f.name)
    finally:
        Path(f.name).unlink()


@pytest.fixture(scope="module")
def model():
    lab = Lab.up(unique_name("netpol"), backend="sandbox", config=str(REPO / "kind-config.yaml"))
    docs = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}} for ns in MODEL["namespaces"]]
    ports = [(f"serve-{p}-{proto.lower()}", p, proto) for p, proto in PORTS]
    docs += [_pod_doc(ns, pod, {"pod": pod}, ports) for ns in MODEL["namespaces"] for pod in MODEL["pods"]]
    _apply(lab, docs)
    yield lab
    lab.down()


@pytest.mark.parametrize("case", CASES, ids=unit.case_id)
def test_kernel_and_evaluator_match_upstream(model, case):
    lab = model
    labelled = []
    for ns, labels in (case.get("namespace_labels") or {}).items():
        lab.kubectl(["label", "ns", ns, *(f"{k}={v}" for k, v in labels.items()), "--overwrite"])
        labelled.append(("ns", ns, None, list(labels)))
    for ref, labels in (case.get("pod_labels") or {}).items():
        ns, pod = ref.split("/")
        lab.kubectl(["label", "pod", pod, "-n", ns, *(f"{k}={v}" for k, v in labels.items()), "--overwrite"])
        labelled.append(("pod", pod, ns, list(labels)))
    existing = {n["metadata"]["name"] for n in lab.objects("Namespace")}
    extra_docs = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "labels": labels or {}}}
                  for ns, labels in (case.get("extra_namespaces") or {}).items() if ns not in existing]
    for extra in case.get("extra_pods") or []:
        ns, name = extra["pod"].split("/")
        extra_docs.append(_pod_doc(ns, name, dict(extra.get("labels") or {}),
                                   [tuple(p) for p in extra.get("ports") or []]))
    if extra_docs:
        _apply(lab, extra_docs)
    ips = {f"{p['metadata']['namespace']}/{p['metadata']['name']}": p["status"]["podIP"] for p in lab.pods(None)}
    policies = [unit.fill_placeholders(p, ips) for p in case.get("policies") or []]
    try:
        if policies:
            _apply(lab, policies)
        infos = [pod_info(p) for ns in MODEL["namespaces"] for p in lab.pods(ns)]
        namespaces = {n["metadata"]["name"]: n["metadata"].get("labels") or {} for n in lab.objects("Namespace")}
        live_policies = lab.objects("NetworkPolicy")
        for probe in case.get("probes") or []:
            if probe["protocol"] == "SCTP":
                continue
            want = unit.expected_table(probe, infos)
            m = lab.matrix(MODEL["namespaces"], ports=[probe["port"]], protocols=[probe["protocol"].lower()],
                           timeout=0.3)
            got = {(c.source, c.target): c.observed == "allowed" for c in m.cells}
            wrong = sorted(k for k in want if k[0] != k[1] and want[k] != got[k])
            assert not wrong, f"kernel differs from upstream on {probe['protocol']}/{probe['port']}: {wrong}\n{m}"
            by_key = {i.key: i for i in infos}
            evaluated = sorted(k for k in want if k[0] != k[1] and evaluate(
                by_key[k[0]], by_key[k[1]], probe["port"], probe["protocol"], live_policies, namespaces).allowed != want[k])
            assert not evaluated, f"evaluator differs from upstream: {evaluated}"
        for check in case.get("checks") or []:
            if check.get("protocol", "TCP") == "SCTP" or check["from"] not in ips or check["to"] not in ips:
                continue
            r = lab.probe(check["from"], f"{ips[check['to']]}:{check['port']}",
                          protocol=check.get("protocol", "TCP").lower(), timeout=0.3)
            assert (r.outcome in ("connected", "refused")) == check["allowed"], (check, r)
    finally:
        for p in policies:
            lab.kubectl(["delete", "networkpolicy", p["metadata"]["name"], "-n", p["metadata"]["namespace"]])
        for doc in reversed(extra_docs):
            if doc["kind"] == "Pod":
                lab.kubectl(["delete", "pod", doc["metadata"]["name"], "-n", doc["metadata"]["namespace"]])
            else:
                lab.kubectl(["delete", "ns", doc["metadata"]["name"]])
        for kind, name, ns, keys in labelled:
            lab.kubectl(["label", kind, name, *(["-n", ns] if ns else []), *(f"{k}-" for k in keys)])


def test_enough_upstream_cases_run_on_the_kernel():
    upstream = [c for c in CASES if c.get("upstream")]
    assert len(upstream) >= 30, len(upstream)

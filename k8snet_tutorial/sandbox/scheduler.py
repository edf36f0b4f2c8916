"""Where a pod goes: the default scheduler's filters and spreading, made deterministic."""
from __future__ import annotations

from ..errors import UsageError
from ..i18n import _


def tolerates(pod_spec: dict, taint: dict) -> bool:
    """Whether the pod tolerates a NoSchedule/NoExecute taint."""
    for t in pod_spec.get("tolerations") or []:
        if t.get("operator") == "Exists" and not t.get("key"):
            return True
        if t.get("key") == taint.get("key") and (not t.get("effect") or t.get("effect") == taint.get("effect")):
            if t.get("operator") == "Exists" or t.get("value", "") == taint.get("value", ""):
                return True
    return False


def feasible(pod_spec: dict, node: dict) -> bool:
    """The filters that matter on kind: nodeSelector and taints."""
    labels = node["metadata"].get("labels") or {}
    for k, v in (pod_spec.get("nodeSelector") or {}).items():
        if labels.get(k) != v:
            return False
    for taint in node["spec"].get("taints") or []:
        if taint.get("effect") in ("NoSchedule", "NoExecute") and not tolerates(pod_spec, taint):
            return False
    return True


def pick_node(pod: dict, nodes: list[dict], pods: list[dict]) -> str:
    """Choose a node: fewest pods of the same owner (spreading), then fewest pods, then name order."""
    spec = pod["spec"]
    names = {n["metadata"]["name"] for n in nodes}
    if spec.get("nodeName"):
        if spec["nodeName"] not in names:
            raise UsageError(_("pod {name}: spec.nodeName {node} is not a node of this cluster ({nodes})").format(
                name=pod["metadata"]["name"], node=repr(spec["nodeName"]), nodes=", ".join(sorted(names))))
        return spec["nodeName"]
    candidates = [n for n in nodes if feasible(spec, n)]
    if not candidates:
        raise UsageError(_("pod {name}: no node matches its nodeSelector and tolerations (0/{n} nodes are"
                           " available)").format(name=pod["metadata"]["name"], n=len(nodes)))
    owner = _owner(pod)
    ns = pod["metadata"].get("namespace")

    def score(node: dict) -> tuple:
        name = node["metadata"]["name"]
        here = [p for p in pods if p["spec"].get("nodeName") == name]
        same = [p for p in here if owner and _owner(p) == owner and p["metadata"].get("namespace") == ns]
        return (len(same), len(here), name)
    return min(candidates, key=score)["metadata"]["name"]


def _owner(pod: dict) -> str | None:
    refs = pod["metadata"].get("ownerReferences") or []
    return refs[0]["uid"] if refs else None

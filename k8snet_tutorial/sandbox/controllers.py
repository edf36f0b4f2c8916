"""The Deployment and ReplicaSet controllers, reduced to what shapes the network: which pods exist, named how."""
from __future__ import annotations

import copy
from typing import TYPE_CHECKING

from .naming import pod_template_hash, suffix

if TYPE_CHECKING:
    from .cluster import Cluster


def owner_ref(obj: dict) -> dict:
    """An ownerReference to `obj`, as controllers set them."""
    return {"apiVersion": obj["apiVersion"], "kind": obj["kind"], "name": obj["metadata"]["name"],
            "uid": obj["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}


def owned_by(obj: dict, owner: dict) -> bool:
    """Whether `owner` controls `obj`."""
    return any(r.get("uid") == owner["metadata"]["uid"] for r in obj["metadata"].get("ownerReferences") or [])


def sync_deployment(cluster: "Cluster", dep: dict) -> None:
    """Make the current template's ReplicaSet carry all replicas; older ReplicaSets go to zero (a finished rollout)."""
    ns = dep["metadata"]["namespace"]
    spec = dep["spec"]
    template = spec["template"]
    h = pod_template_hash(template)
    rs_name = f"{dep['metadata']['name']}-{h}"
    replicas = int(spec.get("replicas", 1))
    for rs in cluster.store.list("ReplicaSet", ns):
        if owned_by(rs, dep) and rs["metadata"]["name"] != rs_name and rs["spec"]["replicas"] != 0:
            rs["spec"]["replicas"] = 0
            cluster.store.put(rs)
    rs = cluster.store.get("ReplicaSet", ns, rs_name)
    if rs is None:
        tpl = copy.deepcopy(template)
        tpl.setdefault("metadata", {}).setdefault("labels", {})["pod-template-hash"] = h
        selector = copy.deepcopy(spec["selector"])
        selector.setdefault("matchLabels", {})["pod-template-hash"] = h
        rs = {"apiVersion": "apps/v1", "kind": "ReplicaSet",
              "metadata": {"name": rs_name, "namespace": ns, "labels": dict(tpl["metadata"]["labels"]),
                           "annotations": {"deployment.kubernetes.io/revision": str(_revision(cluster, dep))},
                           "ownerReferences": [owner_ref(dep)]},
              "spec": {"replicas": replicas, "selector": selector, "template": tpl}}
        cluster.store.put(rs)
    elif rs["spec"]["replicas"] != replicas:
        rs["spec"]["replicas"] = replicas
        cluster.store.put(rs)


def _revision(cluster: "Cluster", dep: dict) -> int:
    owned = [rs for rs in cluster.store.list("ReplicaSet", dep["metadata"]["namespace"]) if owned_by(rs, dep)]
    return len(owned) + 1


def sync_replicaset(cluster: "Cluster", rs: dict) -> None:
    """Create or delete pods until the ReplicaSet has spec.replicas of them."""
    ns = rs["metadata"]["namespace"]
    pods = [p for p in cluster.store.list("Pod", ns) if owned_by(p, rs)]
    want = int(rs["spec"].get("replicas", 1))
    while len(pods) < want:
        name = _new_pod_name(cluster, rs)
        tpl = copy.deepcopy(rs["spec"]["template"])
        meta = tpl.get("metadata") or {}
        pod = {"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": name, "namespace": ns, "generateName": rs["metadata"]["name"] + "-",
                            "labels": dict(meta.get("labels") or {}), "ownerReferences": [owner_ref(rs)]},
               "spec": tpl["spec"]}
        if meta.get("annotations"):
            pod["metadata"]["annotations"] = dict(meta["annotations"])
        cluster.create_pod(pod)
        pods.append(pod)
    if len(pods) > want:
        # The ReplicaSet controller removes not-ready pods first, then the youngest.
        ranked = sorted(pods, key=lambda p: (cluster.kubelet.is_ready(p), -cluster.pod_serial(p)))
        for pod in ranked[: len(pods) - want]:
            cluster.remove_pod(pod)
    ready = [p for p in cluster.store.list("Pod", ns) if owned_by(p, rs) and cluster.kubelet.is_ready(p)]
    rs["status"] = {"replicas": want if want <= len(pods) else len(pods), "fullyLabeledReplicas": min(want, len(pods)),
                    "readyReplicas": len(ready), "availableReplicas": len(ready),
                    "observedGeneration": rs["metadata"].get("generation", 1)}
    if not ready:
        rs["status"].pop("readyReplicas")
        rs["status"].pop("availableReplicas")


def _new_pod_name(cluster: "Cluster", rs: dict) -> str:
    base = rs["metadata"]["name"]
    while True:
        cluster.name_serial[base] = cluster.name_serial.get(base, 0) + 1
        name = f"{base}-{suffix(f'{base}/{cluster.name_serial[base]}')}"
        if cluster.store.get("Pod", rs["metadata"]["namespace"], name) is None:
            return name


def deployment_status(cluster: "Cluster", dep: dict) -> None:
    """Fill a Deployment's status from its ReplicaSets."""
    ns = dep["metadata"]["namespace"]
    owned = [rs for rs in cluster.store.list("ReplicaSet", ns) if owned_by(rs, dep)]
    current = pod_template_hash(dep["spec"]["template"])
    total = sum(int((rs.get("status") or {}).get("replicas", 0)) for rs in owned)
    ready = sum(int((rs.get("status") or {}).get("readyReplicas", 0)) for rs in owned)
    updated = sum(int((rs.get("status") or {}).get("replicas", 0)) for rs in owned
                  if rs["metadata"]["name"].endswith("-" + current))
    status = {"observedGeneration": dep["metadata"].get("generation", 1), "replicas": total,
              "updatedReplicas": updated, "readyReplicas": ready, "availableReplicas": ready,
              "unavailableReplicas": max(0, total - ready)}
    status = {k: v for k, v in status.items() if v or k == "observedGeneration"}
    want = int(dep["spec"].get("replicas", 1))
    status["conditions"] = [
        {"type": "Available", "status": "True" if ready >= want else "False",
         "reason": "MinimumReplicasAvailable" if ready >= want else "MinimumReplicasUnavailable"},
        {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"},
    ]
    dep["status"] = status

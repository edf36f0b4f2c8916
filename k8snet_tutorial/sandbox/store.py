"""The sandbox's API object store: what the API server and etcd keep, as plain API dicts."""
from __future__ import annotations

import time
from typing import Iterator

from .naming import uid

# kind -> (apiVersion, namespaced, plural)
KINDS: dict[str, tuple[str, bool, str]] = {
    "Namespace": ("v1", False, "namespaces"),
    "Node": ("v1", False, "nodes"),
    "Pod": ("v1", True, "pods"),
    "Service": ("v1", True, "services"),
    "Endpoints": ("v1", True, "endpoints"),
    "ConfigMap": ("v1", True, "configmaps"),
    "Secret": ("v1", True, "secrets"),
    "ServiceAccount": ("v1", True, "serviceaccounts"),
    "EndpointSlice": ("discovery.k8s.io/v1", True, "endpointslices"),
    "Deployment": ("apps/v1", True, "deployments"),
    "ReplicaSet": ("apps/v1", True, "replicasets"),
    "NetworkPolicy": ("networking.k8s.io/v1", True, "networkpolicies"),
    "Ingress": ("networking.k8s.io/v1", True, "ingresses"),
}

Key = tuple[str, str, str]  # (kind, namespace or "", name)


def rfc3339(t: float) -> str:
    """An API timestamp."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


class Store:
    """Objects by (kind, namespace, name), with resourceVersions and deterministic UIDs."""

    def __init__(self) -> None:
        self.objects: dict[Key, dict] = {}
        self.version = 0

    @staticmethod
    def key(kind: str, namespace: str | None, name: str) -> Key:
        """The store key of an object (cluster-scoped kinds have no namespace)."""
        return (kind, namespace or "" if KINDS[kind][1] else "", name)

    def get(self, kind: str, namespace: str | None, name: str) -> dict | None:
        """The stored object, or None."""
        return self.objects.get(self.key(kind, namespace, name))

    def list(self, kind: str, namespace: str | None = None) -> list[dict]:
        """Objects of a kind, in one namespace or all, sorted by namespace then name."""
        out = [o for (k, ns, _), o in self.objects.items() if k == kind and (namespace is None or ns == namespace)]
        return sorted(out, key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"]))

    def put(self, obj: dict) -> dict:
        """Create or replace an object, filling in metadata the API server would."""
        kind = obj["kind"]
        api_version, namespaced, _ = KINDS[kind]
        obj.setdefault("apiVersion", api_version)
        meta = obj.setdefault("metadata", {})
        if namespaced:
            meta.setdefault("namespace", "default")
        else:
            meta.pop("namespace", None)
        key = self.key(kind, meta.get("namespace"), meta["name"])
        old = self.objects.get(key)
        self.version += 1
        if old is not None:
            meta["uid"] = old["metadata"]["uid"]
            meta["creationTimestamp"] = old["metadata"]["creationTimestamp"]
            meta.setdefault("generation", old["metadata"].get("generation", 1))
        else:
            meta["uid"] = uid(f"{kind}/{meta.get('namespace', '')}/{meta['name']}/{self.version}")
            meta["creationTimestamp"] = rfc3339(time.time())
            meta.setdefault("generation", 1)
        meta["resourceVersion"] = str(self.version)
        self.objects[key] = obj
        return obj

    def remove(self, kind: str, namespace: str | None, name: str) -> dict | None:
        """Delete an object and return it."""
        return self.objects.pop(self.key(kind, namespace, name), None)

    def __iter__(self) -> Iterator[dict]:
        return iter(list(self.objects.values()))

"""The cluster DNS: CoreDNS's Deployment and kube-dns Service, and the real DNS servers its pods run."""
from __future__ import annotations

import socket
from typing import TYPE_CHECKING

from . import nsutil
from .dns import ClusterRecords, DnsServer

if TYPE_CHECKING:
    from .cluster import Cluster
    from .workloads import Running

COREDNS_IMAGE = "registry.k8s.io/coredns/coredns:v1.12.1"
DNS_PORTS = [{"name": "dns", "containerPort": 53, "protocol": "UDP"},
             {"name": "dns-tcp", "containerPort": 53, "protocol": "TCP"},
             {"name": "metrics", "containerPort": 9153, "protocol": "TCP"}]


def objects(dns_ip: str) -> list[dict]:
    """The kube-system objects kubeadm creates for the cluster DNS, as kind shows them."""
    labels = {"k8s-app": "kube-dns"}
    deployment = {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "coredns", "namespace": "kube-system", "labels": dict(labels)},
        "spec": {"replicas": 2, "selector": {"matchLabels": dict(labels)},
                 "template": {"metadata": {"labels": dict(labels)}, "spec": {
                     "priorityClassName": "system-cluster-critical", "serviceAccountName": "coredns",
                     "nodeSelector": {"kubernetes.io/os": "linux"},
                     "tolerations": [{"key": "CriticalAddonsOnly", "operator": "Exists"},
                                     {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}],
                     "containers": [{"name": "coredns", "image": COREDNS_IMAGE, "args": ["-conf", "/etc/coredns/Corefile"],
                                     "ports": [dict(p) for p in DNS_PORTS],
                                     "readinessProbe": {"httpGet": {"path": "/ready", "port": 8181, "scheme": "HTTP"},
                                                        "periodSeconds": 10, "timeoutSeconds": 1,
                                                        "successThreshold": 1, "failureThreshold": 3}}]}}}}
    service = {
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "kube-dns", "namespace": "kube-system",
                     "labels": {"k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true",
                                "kubernetes.io/name": "CoreDNS"},
                     "annotations": {"prometheus.io/port": "9153", "prometheus.io/scrape": "true"}},
        "spec": {"clusterIP": dns_ip, "selector": dict(labels),
                 "ports": [{"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53},
                           {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53},
                           {"name": "metrics", "port": 9153, "protocol": "TCP", "targetPort": 9153}]}}
    return [deployment, service]


def start_server(cluster: "Cluster", run: "Running", netns: str) -> None:
    """Open port 53 (UDP and TCP) inside the CoreDNS pod's namespace and serve the cluster's records there."""
    with nsutil.netns(netns):
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    udp.bind(("0.0.0.0", 53))
    tcp.bind(("0.0.0.0", 53))
    tcp.listen(128)
    udp.setblocking(False)
    tcp.setblocking(False)
    server = DnsServer(get_records=lambda: cluster.dns_records, log=run.log.write)

    async def start() -> None:
        import asyncio
        asyncio.get_running_loop().create_task(server.serve(udp, tcp))
    cluster.workloads.call(start())
    run.servers.append(server)


def records(cluster: "Cluster") -> ClusterRecords:
    """A fresh snapshot of the records the DNS serves."""
    objs = [*cluster.store.list("Namespace"), *cluster.store.list("Service"), *cluster.store.list("EndpointSlice"),
            *cluster.store.list("Pod")]
    return ClusterRecords.from_objects(objs, "cluster.local")

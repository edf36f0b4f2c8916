"""The sandbox's kubectl view: kubectl's tables, describe layout, JSONPath, selectors and error texts."""
from __future__ import annotations

import copy
import textwrap
from datetime import datetime, timezone

import pytest
import yaml

from k8snet_tutorial.errors import NotModelledError
from k8snet_tutorial.sandbox import kubectl as kv
from k8snet_tutorial.labels import Requirement, SelectorError, label_selector_matches, parse_selector, selector_matches
from k8snet_tutorial.sandbox.kubectl import human_duration, run_kubectl, tabwrite

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone.utc).timestamp()


def ago(seconds: float) -> str:
    """An RFC 3339 timestamp `seconds` before NOW."""
    return datetime.fromtimestamp(NOW - seconds, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


H = 3600
PLURALS = {"Pod": "pods", "Service": "services", "Endpoints": "endpoints", "EndpointSlice": "endpointslices",
           "Deployment": "deployments", "ReplicaSet": "replicasets", "Node": "nodes", "Namespace": "namespaces",
           "NetworkPolicy": "networkpolicies", "Ingress": "ingresses", "ConfigMap": "configmaps"}
GROUPS = {"Deployment": "apps", "ReplicaSet": "apps", "EndpointSlice": "discovery.k8s.io",
          "NetworkPolicy": "networking.k8s.io", "Ingress": "networking.k8s.io"}


def node(name: str, ip: str, age: float, role: str | None = None) -> dict:
    labels = {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux"}
    if role:
        labels[f"node-role.kubernetes.io/{role}"] = ""
    return {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": labels, "creationTimestamp": ago(age), "uid": f"uid-{name}"},
        "spec": {"podCIDR": f"10.244.{ip.split('.')[-1]}.0/24", "podCIDRs": [f"10.244.{ip.split('.')[-1]}.0/24"]},
        "status": {
            "addresses": [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": name}],
            "capacity": {"cpu": "4", "memory": "8Gi", "pods": "110", "ephemeral-storage": "100Gi"},
            "allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110", "ephemeral-storage": "100Gi"},
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                            "message": "kubelet is posting ready status", "lastHeartbeatTime": ago(10),
                            "lastTransitionTime": ago(age - 20)}],
            "nodeInfo": {"kubeletVersion": "v1.30.0", "kubeProxyVersion": "v1.30.0",
                         "osImage": "Debian GNU/Linux 12 (bookworm)", "kernelVersion": "6.5.0-1025-azure",
                         "containerRuntimeVersion": "containerd://1.7.15", "operatingSystem": "linux",
                         "architecture": "amd64", "machineID": "m1", "systemUUID": "s1", "bootID": "b1"},
        },
    }


def pod(name: str, node_name: str | None, ip: str | None, age: float, labels: dict, *, ns: str = "default",
        image: str = "nginx:1.25", ready: bool = True, owner: str | None = None, port: int | None = 80,
        restarts: int = 0, last_exit_ago: float | None = None, waiting: str | None = None) -> dict:
    container = {"name": name.split("-")[0], "image": image}
    if port:
        container["ports"] = [{"containerPort": port, "protocol": "TCP"}]
    state = {"waiting": {"reason": waiting}} if waiting else {"running": {"startedAt": ago(age - 5)}}
    status_c = {"name": container["name"], "image": image, "imageID": f"docker.io/library/{image}@sha256:abc",
                "containerID": f"containerd://{name}", "ready": ready and not waiting,
                "restartCount": restarts, "started": not waiting, "state": state}
    if last_exit_ago is not None:
        status_c["lastState"] = {"terminated": {"exitCode": 1, "reason": "Error", "startedAt": ago(last_exit_ago + 60),
                                                "finishedAt": ago(last_exit_ago)}}
    meta = {"name": name, "namespace": ns, "labels": labels, "creationTimestamp": ago(age), "uid": f"uid-{name}"}
    if owner:
        meta["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": owner,
                                    "uid": f"uid-{owner}", "controller": True, "blockOwnerDeletion": True}]
    ready_str = "True" if ready and not waiting else "False"
    status = {"phase": "Pending" if waiting else "Running", "qosClass": "BestEffort", "startTime": ago(age),
              "conditions": [{"type": "Initialized", "status": "True"}, {"type": "Ready", "status": ready_str},
                             {"type": "ContainersReady", "status": ready_str},
                             {"type": "PodScheduled", "status": "True"}],
              "containerStatuses": [status_c]}
    if node_name:
        status["hostIP"] = {"kind-control-plane": "172.18.0.2", "kind-worker": "172.18.0.3",
                            "kind-worker2": "172.18.0.4"}[node_name]
    if ip:
        status["podIP"] = ip
        status["podIPs"] = [{"ip": ip}]
    spec = {"containers": [container], "nodeName": node_name, "serviceAccountName": "default", "priority": 0,
            "restartPolicy": "Always",
            "tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute",
                             "tolerationSeconds": 300},
                            {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute",
                             "tolerationSeconds": 300}]}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec, "status": status}


def service(name: str, svc_type: str, cluster_ip: str | None, ports: list[dict], age: float, *,
            selector: dict | None = None, labels: dict | None = None, **extra) -> dict:
    spec = {"type": svc_type, "ports": ports, "sessionAffinity": "None"}
    if cluster_ip is not None:
        spec.update(clusterIP=cluster_ip, clusterIPs=[cluster_ip], ipFamilies=["IPv4"],
                    ipFamilyPolicy="SingleStack", internalTrafficPolicy="Cluster")
    if selector:
        spec["selector"] = selector
    if svc_type in ("NodePort", "LoadBalancer"):
        spec["externalTrafficPolicy"] = "Cluster"
    spec.update(extra.pop("spec", {}))
    obj = {"apiVersion": "v1", "kind": "Service",
           "metadata": {"name": name, "namespace": "default", "creationTimestamp": ago(age), "labels": labels or {}},
           "spec": spec, "status": extra.pop("status", {"loadBalancer": {}})}
    return obj


def tcp(port: int, target: int | str | None = None, node_port: int | None = None, name: str | None = None) -> dict:
    p = {"port": port, "protocol": "TCP", "targetPort": port if target is None else target}
    if node_port:
        p["nodePort"] = node_port
    if name:
        p["name"] = name
    return p


WEB_TEMPLATE = {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.25",
                                         "ports": [{"containerPort": 80, "protocol": "TCP"}]}]}}


def objects() -> list[dict]:
    rs_template = copy.deepcopy(WEB_TEMPLATE)
    rs_template["metadata"]["labels"]["pod-template-hash"] = "7d9c8b7f5d"
    web_labels = {"app": "web", "pod-template-hash": "7d9c8b7f5d"}
    return [
        node("kind-control-plane", "172.18.0.2", 3 * H + 4 * 60 + 10, role="control-plane"),
        node("kind-worker", "172.18.0.3", 3 * H + 3 * 60 + 50),
        node("kind-worker2", "172.18.0.4", 3 * H + 3 * 60 + 50),
        {"apiVersion": "v1", "kind": "Namespace",
         "metadata": {"name": "default", "creationTimestamp": ago(3 * H + 4 * 60 + 15),
                      "labels": {"kubernetes.io/metadata.name": "default"}}, "status": {"phase": "Active"}},
        {"apiVersion": "v1", "kind": "Namespace",
         "metadata": {"name": "kube-system", "creationTimestamp": ago(3 * H + 4 * 60 + 15),
                      "labels": {"kubernetes.io/metadata.name": "kube-system"}}, "status": {"phase": "Active"}},
        pod("web-7d9c8b7f5d-x2vq8", "kind-worker", "10.244.1.2", 125, web_labels, owner="web-7d9c8b7f5d"),
        pod("web-7d9c8b7f5d-lk4jd", "kind-worker2", "10.244.2.3", 124, web_labels, owner="web-7d9c8b7f5d"),
        pod("client", "kind-worker", "10.244.1.5", 45, {"run": "client"}, image="busybox:1.36", port=None,
            restarts=2, last_exit_ago=30),
        pod("broken", "kind-worker2", "10.244.2.9", 600, {"app": "broken"}, image="nginx:nope",
            waiting="ImagePullBackOff"),
        pod("coredns-5d78c9869d-8mr5x", "kind-control-plane", "10.244.0.2", 3 * H + 4 * 60, {"k8s-app": "kube-dns"},
            ns="kube-system", image="registry.k8s.io/coredns/coredns:v1.11.1", port=53),
        {"apiVersion": "apps/v1", "kind": "Deployment",
         "metadata": {"name": "web", "namespace": "default", "creationTimestamp": ago(130), "uid": "uid-web",
                      "labels": {"app": "web"}, "annotations": {"deployment.kubernetes.io/revision": "1"}},
         "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}}, "template": copy.deepcopy(WEB_TEMPLATE),
                  "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}}},
         "status": {"replicas": 2, "updatedReplicas": 2, "readyReplicas": 2, "availableReplicas": 2,
                    "conditions": [{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"},
                                   {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"}]}},
        {"apiVersion": "apps/v1", "kind": "ReplicaSet",
         "metadata": {"name": "web-7d9c8b7f5d", "namespace": "default", "creationTimestamp": ago(130),
                      "uid": "uid-web-7d9c8b7f5d", "labels": web_labels,
                      "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web",
                                           "uid": "uid-web", "controller": True}]},
         "spec": {"replicas": 2, "selector": {"matchLabels": web_labels}, "template": rs_template},
         "status": {"replicas": 2, "readyReplicas": 2, "availableReplicas": 2}},
        service("kubernetes", "ClusterIP", "10.96.0.1", [tcp(443, 6443, name="https")], 3 * H + 4 * 60 + 5,
                labels={"component": "apiserver", "provider": "kubernetes"}),
        service("web", "ClusterIP", "10.96.12.34", [tcp(80)], 100, selector={"app": "web"}, labels={"app": "web"}),
        service("web-np", "NodePort", "10.96.45.6", [tcp(80, node_port=30080)], 90, selector={"app": "web"}),
        service("web-lb", "LoadBalancer", "10.96.78.9", [tcp(80, 8080, node_port=31234)], 80, selector={"app": "web"}),
        service("web-lb2", "LoadBalancer", "10.96.78.10", [tcp(80, node_port=31235), tcp(443, node_port=31236)], 70,
                selector={"app": "web"}, status={"loadBalancer": {"ingress": [{"ip": "172.18.255.200"}]}}),
        service("web-headless", "ClusterIP", "None", [tcp(80)], 60, selector={"app": "web"}),
        service("db", "ExternalName", None, [], 50, spec={"externalName": "db.example.com"}),
        {"apiVersion": "v1", "kind": "Endpoints",
         "metadata": {"name": "web", "namespace": "default", "creationTimestamp": ago(100), "labels": {"app": "web"}},
         "subsets": [{"addresses": [{"ip": ip} for ip in ("10.244.1.2", "10.244.2.3", "10.244.1.7", "10.244.2.8")],
                      "notReadyAddresses": [{"ip": "10.244.2.9"}],
                      "ports": [{"port": 80, "protocol": "TCP"}]}]},
        {"apiVersion": "v1", "kind": "Endpoints",
         "metadata": {"name": "kubernetes", "namespace": "default", "creationTimestamp": ago(3 * H + 4 * 60 + 5)},
         "subsets": [{"addresses": [{"ip": "172.18.0.2"}], "ports": [{"name": "https", "port": 6443,
                                                                      "protocol": "TCP"}]}]},
        {"apiVersion": "v1", "kind": "Endpoints",
         "metadata": {"name": "web-np", "namespace": "default", "creationTimestamp": ago(90)}},
        {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
         "metadata": {"name": "web-abc12", "namespace": "default", "creationTimestamp": ago(100),
                      "labels": {"kubernetes.io/service-name": "web"}},
         "ports": [{"name": "", "port": 80, "protocol": "TCP"}],
         "endpoints": [{"addresses": [ip], "conditions": {"ready": True}}
                       for ip in ("10.244.1.2", "10.244.2.3", "10.244.1.7", "10.244.2.8")]
         + [{"addresses": ["10.244.2.9"], "conditions": {"ready": False}}]},
        {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
         "metadata": {"name": "allow-client", "namespace": "default", "creationTimestamp": ago(30)},
         "spec": {"podSelector": {"matchLabels": {"app": "web"}}, "policyTypes": ["Ingress"],
                  "ingress": [{"from": [{"podSelector": {"matchLabels": {"run": "client"}}}],
                               "ports": [{"port": 80, "protocol": "TCP"}]}]}},
        {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
         "metadata": {"name": "default-deny", "namespace": "default", "creationTimestamp": ago(40)},
         "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}},
        {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
         "metadata": {"name": "web", "namespace": "default", "creationTimestamp": ago(20)},
         "spec": {"ingressClassName": "nginx",
                  "rules": [{"host": "web.example.com", "http": {"paths": [{"path": "/", "pathType": "Prefix",
                             "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}}]},
         "status": {"loadBalancer": {"ingress": [{"ip": "172.18.0.3"}]}}},
        {"apiVersion": "v1", "kind": "ConfigMap",
         "metadata": {"name": "kube-root-ca.crt", "namespace": "default", "creationTimestamp": ago(3 * H)},
         "data": {"ca.crt": "-----BEGIN CERTIFICATE-----"}},
    ]


class FakeAPI:
    """An in-memory ClusterAPI over hand-built objects, with a fixed clock."""

    def __init__(self, objs: list[dict] | None = None, manifests: dict[str, list[dict]] | None = None) -> None:
        self.objects = copy.deepcopy(objects() if objs is None else objs)
        self.manifests = manifests or {}
        self.calls: list[tuple] = []

    def _ns(self, obj: dict) -> str | None:
        return obj["metadata"].get("namespace")

    def list(self, kind, namespace=None, selector=None):
        reqs = parse_selector(selector) if selector else []
        return [copy.deepcopy(o) for o in self.objects if o["kind"] == kind
                and (namespace is None or self._ns(o) in (namespace, None))
                and selector_matches(reqs, o["metadata"].get("labels"))]

    def _find(self, kind, namespace, name):
        for o in self.objects:
            if o["kind"] == kind and o["metadata"]["name"] == name and self._ns(o) in (namespace, None):
                return o
        return None

    def get(self, kind, namespace, name):
        found = self._find(kind, namespace, name)
        return copy.deepcopy(found) if found else None

    def _ref(self, kind, name):
        group = GROUPS.get(kind)
        return f"{kind.lower()}.{group}/{name}" if group else f"{kind.lower()}/{name}"

    def apply(self, objs):
        self.calls.append(("apply", copy.deepcopy(objs)))
        return [self._ref(o["kind"], o["metadata"]["name"]) + " created" for o in objs]

    def delete(self, kind, namespace, name):
        self.calls.append(("delete", kind, namespace, name))
        self.objects.remove(self._find(kind, namespace, name))
        group = GROUPS.get(kind)
        return f'{kind.lower()}{"." + group if group else ""} "{name}" deleted'

    def scale(self, kind, namespace, name, replicas):
        self.calls.append(("scale", kind, namespace, name, replicas))
        self._find(kind, namespace, name)["spec"]["replicas"] = replicas
        return self._ref(kind, name) + " scaled"

    def patch(self, kind, namespace, name, patch):
        self.calls.append(("patch", kind, namespace, name, copy.deepcopy(patch)))
        return self._ref(kind, name) + " patched"

    def label(self, kind, namespace, name, labels, overwrite):
        self.calls.append(("label", kind, namespace, name, dict(labels), overwrite))
        obj = self._find(kind, namespace, name)
        current = obj["metadata"].setdefault("labels", {})
        for key, value in labels.items():
            if value is None:
                current.pop(key, None)
            else:
                current[key] = value
        return self._ref(kind, name) + " labeled"

    def logs(self, namespace, pod_name, container, tail):
        self.calls.append(("logs", namespace, pod_name, container, tail))
        lines = [f"line {i} from {pod_name}/{container}\n" for i in range(1, 6)]
        return "".join(lines[-tail:] if tail else lines)

    def expose(self, kind, namespace, name, *, port, target_port, type, service_name, protocol):
        self.calls.append(("expose", kind, namespace, name, port, target_port, type, service_name, protocol))
        return f"service/{service_name or name} exposed"

    def now(self):
        return NOW

    def load_manifests(self, paths):
        return copy.deepcopy([o for p in paths for o in self.manifests[p]])


def k(cmd: str, api: FakeAPI | None = None):
    """Run a kubectl command line against the fake API."""
    import shlex

    return run_kubectl(shlex.split(cmd), api or FakeAPI())


def out(text: str) -> str:
    """A dedented expected output, ending with one newline."""
    return textwrap.dedent(text).lstrip("\n")


# ------------------------------------------------------------------------------------------
# get: tables
# ------------------------------------------------------------------------------------------


def test_get_pods_default_table():
    r = k("get pods")
    assert r.returncode == 0 and r.stderr == ""
    assert r.stdout == out("""
        NAME                   READY   STATUS             RESTARTS      AGE
        broken                 0/1     ImagePullBackOff   0             10m
        client                 1/1     Running            2 (30s ago)   45s
        web-7d9c8b7f5d-lk4jd   1/1     Running            0             2m4s
        web-7d9c8b7f5d-x2vq8   1/1     Running            0             2m5s
        """)


def test_get_pods_wide():
    assert k("get pods -o wide").stdout == out("""
        NAME                   READY   STATUS             RESTARTS      AGE    IP           NODE           NOMINATED NODE   READINESS GATES
        broken                 0/1     ImagePullBackOff   0             10m    10.244.2.9   kind-worker2   <none>           <none>
        client                 1/1     Running            2 (30s ago)   45s    10.244.1.5   kind-worker    <none>           <none>
        web-7d9c8b7f5d-lk4jd   1/1     Running            0             2m4s   10.244.2.3   kind-worker2   <none>           <none>
        web-7d9c8b7f5d-x2vq8   1/1     Running            0             2m5s   10.244.1.2   kind-worker    <none>           <none>
        """)


def test_get_pods_all_namespaces_adds_namespace_column():
    assert k("get pods -A").stdout == out("""
        NAMESPACE     NAME                       READY   STATUS             RESTARTS      AGE
        default       broken                     0/1     ImagePullBackOff   0             10m
        default       client                     1/1     Running            2 (30s ago)   45s
        default       web-7d9c8b7f5d-lk4jd       1/1     Running            0             2m4s
        default       web-7d9c8b7f5d-x2vq8       1/1     Running            0             2m5s
        kube-system   coredns-5d78c9869d-8mr5x   1/1     Running            0             3h4m
        """)
    assert k("get pods --all-namespaces").stdout == k("get pods -A").stdout


def test_get_pods_namespace_flag_anywhere():
    expected = out("""
        NAME                       READY   STATUS    RESTARTS   AGE
        coredns-5d78c9869d-8mr5x   1/1     Running   0          3h4m
        """)
    assert k("get pods -n kube-system").stdout == expected
    assert k("-n kube-system get pods").stdout == expected
    assert k("get --namespace=kube-system po").stdout == expected


def test_get_pods_label_selector():
    assert k("get pods -l app=web").stdout == out("""
        NAME                   READY   STATUS    RESTARTS   AGE
        web-7d9c8b7f5d-lk4jd   1/1     Running   0          2m4s
        web-7d9c8b7f5d-x2vq8   1/1     Running   0          2m5s
        """)
    assert k("get pods --selector 'app in (web,broken),!nope'").stdout.count("\n") == 4


def test_get_pods_show_labels():
    assert k("get pods --show-labels").stdout == out("""
        NAME                   READY   STATUS             RESTARTS      AGE    LABELS
        broken                 0/1     ImagePullBackOff   0             10m    app=broken
        client                 1/1     Running            2 (30s ago)   45s    run=client
        web-7d9c8b7f5d-lk4jd   1/1     Running            0             2m4s   app=web,pod-template-hash=7d9c8b7f5d
        web-7d9c8b7f5d-x2vq8   1/1     Running            0             2m5s   app=web,pod-template-hash=7d9c8b7f5d
        """)


def test_get_pods_no_headers_keeps_tabwriter_min_width():
    # READY is three characters wide: tabwriter's minwidth of 6 still pads it to 6.
    assert k("get pods --no-headers").stdout == out("""
        broken                 0/1   ImagePullBackOff   0             10m
        client                 1/1   Running            2 (30s ago)   45s
        web-7d9c8b7f5d-lk4jd   1/1   Running            0             2m4s
        web-7d9c8b7f5d-x2vq8   1/1   Running            0             2m5s
        """)


def test_get_pods_label_columns():
    lines = k("get pods -L app").stdout.splitlines()
    assert lines[0] == "NAME                   READY   STATUS             RESTARTS      AGE    APP"
    assert lines[1].endswith("10m    broken")


def test_get_services_every_type():
    assert k("get svc").stdout == out("""
        NAME           TYPE           CLUSTER-IP    EXTERNAL-IP      PORT(S)                      AGE
        db             ExternalName   <none>        db.example.com   <none>                       50s
        kubernetes     ClusterIP      10.96.0.1     <none>           443/TCP                      3h4m
        web            ClusterIP      10.96.12.34   <none>           80/TCP                       100s
        web-headless   ClusterIP      None          <none>           80/TCP                       60s
        web-lb         LoadBalancer   10.96.78.9    <pending>        80:31234/TCP                 80s
        web-lb2        LoadBalancer   10.96.78.10   172.18.255.200   80:31235/TCP,443:31236/TCP   70s
        web-np         NodePort       10.96.45.6    <none>           80:30080/TCP                 90s
        """)


def test_get_services_wide_has_selector():
    lines = k("get services -o wide").stdout.splitlines()
    assert lines[0].split() == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE", "SELECTOR"]
    assert lines[1].endswith("50s    <none>")
    assert lines[3].endswith("100s   app=web")


def test_get_endpoints_more_than_three_and_none():
    assert k("get ep").stdout == out("""
        NAME         ENDPOINTS                                               AGE
        kubernetes   172.18.0.2:6443                                         3h4m
        web          10.244.1.2:80,10.244.2.3:80,10.244.1.7:80 + 1 more...   100s
        web-np       <none>                                                  90s
        """)


def test_get_endpointslices_counts_every_address():
    assert k("get endpointslices").stdout == out("""
        NAME        ADDRESSTYPE   PORTS   ENDPOINTS                                      AGE
        web-abc12   IPv4          80      10.244.1.2,10.244.2.3,10.244.1.7 + 2 more...   100s
        """)


def test_get_nodes_wide():
    assert k("get nodes -o wide").stdout == out("""
        NAME                 STATUS   ROLES           AGE    VERSION   INTERNAL-IP   EXTERNAL-IP   OS-IMAGE                         KERNEL-VERSION     CONTAINER-RUNTIME
        kind-control-plane   Ready    control-plane   3h4m   v1.30.0   172.18.0.2    <none>        Debian GNU/Linux 12 (bookworm)   6.5.0-1025-azure   containerd://1.7.15
        kind-worker          Ready    <none>          3h3m   v1.30.0   172.18.0.3    <none>        Debian GNU/Linux 12 (bookworm)   6.5.0-1025-azure   containerd://1.7.15
        kind-worker2         Ready    <none>          3h3m   v1.30.0   172.18.0.4    <none>        Debian GNU/Linux 12 (bookworm)   6.5.0-1025-azure   containerd://1.7.15
        """)


def test_get_node_not_ready_and_cordoned():
    objs = [node("n1", "172.18.0.9", 60)]
    objs[0]["status"]["conditions"][0]["status"] = "False"
    objs[0]["spec"]["unschedulable"] = True
    assert k("get no", FakeAPI(objs)).stdout.splitlines()[1].split()[:2] == ["n1", "NotReady,SchedulingDisabled"]


def test_get_deployments_wide():
    assert k("get deploy -o wide").stdout == out("""
        NAME   READY   UP-TO-DATE   AVAILABLE   AGE     CONTAINERS   IMAGES       SELECTOR
        web    2/2     2            2           2m10s   web          nginx:1.25   app=web
        """)


def test_get_replicasets():
    assert k("get rs").stdout == out("""
        NAME             DESIRED   CURRENT   READY   AGE
        web-7d9c8b7f5d   2         2         2       2m10s
        """)
    assert k("get rs -o wide").stdout.splitlines()[1].endswith(
        "web          nginx:1.25   app=web,pod-template-hash=7d9c8b7f5d")


def test_get_namespaces():
    assert k("get ns").stdout == out("""
        NAME          STATUS   AGE
        default       Active   3h4m
        kube-system   Active   3h4m
        """)


def test_get_networkpolicies_ingresses_configmaps():
    assert k("get netpol").stdout == out("""
        NAME           POD-SELECTOR   AGE
        allow-client   app=web        30s
        default-deny   <none>         40s
        """)
    assert k("get ing").stdout == out("""
        NAME   CLASS   HOSTS             ADDRESS      PORTS   AGE
        web    nginx   web.example.com   172.18.0.3   80      20s
        """)
    assert k("get cm").stdout == out("""
        NAME               DATA   AGE
        kube-root-ca.crt   1      3h
        """)


def test_get_several_types_prefixes_kinds_and_separates_tables():
    assert k("get deploy,rs").stdout == out("""
        NAME                  READY   UP-TO-DATE   AVAILABLE   AGE
        deployment.apps/web   2/2     2            2           2m10s

        NAME                             DESIRED   CURRENT   READY   AGE
        replicaset.apps/web-7d9c8b7f5d   2         2         2       2m10s
        """)
    assert k("get pod/client svc/web").stdout.splitlines()[1].startswith("pod/client   ")
    assert k("get all").stdout.count("\n\n") == 3


def test_get_by_name_and_type_slash_name():
    expected = out("""
        NAME     READY   STATUS    RESTARTS      AGE
        client   1/1     Running   2 (30s ago)   45s
        """)
    assert k("get pod client").stdout == expected
    assert k("get pods/client").stdout == expected
    assert k("get po client").stdout == expected


def test_get_empty_says_no_resources_found_on_stderr():
    r = k("get pods -n nope")
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "No resources found in nope namespace.\n")
    assert k("get pods -A -l app=nope").stderr == "No resources found\n"
    assert k("get nodes -l nope").stderr == "No resources found\n"


def test_get_not_found_and_partial_results():
    r = k("get pods nope")
    assert (r.returncode, r.stdout, r.stderr) == (1, "", 'Error from server (NotFound): pods "nope" not found\n')
    r = k("get pods client nope")
    assert r.returncode == 1 and r.stdout.splitlines()[1].startswith("client")
    assert k("get deploy nope").stderr == 'Error from server (NotFound): deployments.apps "nope" not found\n'
    assert k("get pods nope --ignore-not-found").returncode == 0


def test_get_field_selector_and_sort_by():
    assert [line.split()[0] for line in k("get pods --field-selector spec.nodeName=kind-worker").stdout.splitlines()] \
        == ["NAME", "client", "web-7d9c8b7f5d-x2vq8"]
    assert [line.split()[0] for line in k("get pods --sort-by=.metadata.creationTimestamp").stdout.splitlines()] \
        == ["NAME", "broken", "web-7d9c8b7f5d-x2vq8", "web-7d9c8b7f5d-lk4jd", "client"]
    r = k("get pods --field-selector spec.foo=bar")
    assert r.returncode == 1 and r.stderr.endswith("field label not supported: spec.foo\n")


def test_pod_status_reasons():
    p = pod("crash", "kind-worker", "10.244.1.9", 300, {}, waiting="CrashLoopBackOff", restarts=4, last_exit_ago=20)
    done = pod("job", "kind-worker", "10.244.1.8", 300, {})
    done["status"]["phase"] = "Succeeded"
    done["status"]["containerStatuses"][0]["state"] = {"terminated": {"exitCode": 0, "reason": "Completed"}}
    done["status"]["containerStatuses"][0]["ready"] = False
    going = pod("going", "kind-worker", "10.244.1.7", 300, {})
    going["metadata"]["deletionTimestamp"] = ago(1)
    pending = pod("new", None, None, 3, {}, waiting="ContainerCreating")
    rows = {line.split()[0]: line.split()[1:] for line in
            k("get pods", FakeAPI([p, done, going, pending])).stdout.splitlines()[1:]}
    assert rows["crash"][:4] == ["0/1", "CrashLoopBackOff", "4", "(20s"]
    assert rows["job"][:3] == ["0/1", "Completed", "0"]
    assert rows["going"][:2] == ["1/1", "Terminating"]
    assert rows["new"][:2] == ["0/1", "ContainerCreating"]


# ------------------------------------------------------------------------------------------
# get: other output formats
# ------------------------------------------------------------------------------------------


def test_output_name():
    assert k("get deploy,svc -o name").stdout == out("""
        deployment.apps/web
        service/db
        service/kubernetes
        service/web
        service/web-headless
        service/web-lb
        service/web-lb2
        service/web-np
        """)


@pytest.mark.parametrize("template, expected", [
    ("{.items[*].metadata.name}", "broken client web-7d9c8b7f5d-lk4jd web-7d9c8b7f5d-x2vq8"),
    ("{.items[0].status.podIP}", "10.244.2.9"),
    ('{range .items[*]}{.metadata.name}{"\\t"}{.status.podIP}{"\\n"}{end}',
     "broken\t10.244.2.9\nclient\t10.244.1.5\nweb-7d9c8b7f5d-lk4jd\t10.244.2.3\nweb-7d9c8b7f5d-x2vq8\t10.244.1.2\n"),
    ('{.items[?(@.metadata.name=="client")].spec.nodeName}', "kind-worker"),
    ('{.items[*].status.conditions[?(@.type=="Ready")].status}', "False True True True"),
    ("{.items[-1:].metadata.name}", "web-7d9c8b7f5d-x2vq8"),
    (r"{.items[2].metadata.labels.pod-template-hash}", "7d9c8b7f5d"),
    ("{.kind}", "List"),
    ("{.items[0].spec.containers[0].ports}", '[{"containerPort":80,"protocol":"TCP"}]'),
    ("names: {.items[*].metadata.name}", "names: broken client web-7d9c8b7f5d-lk4jd web-7d9c8b7f5d-x2vq8"),
    ("{.items[0].nope}", ""),
])
def test_output_jsonpath_on_lists(template, expected):
    r = run_kubectl(["get", "pods", "-o", f"jsonpath={template}"], FakeAPI())
    assert (r.returncode, r.stdout, r.stderr) == (0, expected, "")


def test_output_jsonpath_on_one_object_and_escaped_dots():
    assert k("get pod client -o jsonpath='{.status.podIP}'").stdout == "10.244.1.5"
    assert k(r"get node kind-worker -o jsonpath='{.metadata.labels.kubernetes\.io/hostname}'").stdout == "kind-worker"
    assert k("get svc web -o=jsonpath='{.spec.ports[0].port}'").stdout == "80"
    assert k("get pod client -o jsonpath='{$.metadata.name}'").stdout == "client"


def test_output_jsonpath_errors():
    r = k("get pods -o jsonpath='{.items[9]}'")
    assert r.returncode == 1
    assert r.stderr.startswith('error: error executing jsonpath "{.items[9]}": Error executing template: array index '
                               "out of bounds: index 9, length 4.")
    assert k("get pods -o jsonpath").stderr == "error: template format specified but no template given\n"
    r = k("get pods -o jsonpath='{.items[0].nope}' --allow-missing-template-keys=false")
    assert r.returncode == 1 and "nope is not found" in r.stderr


def test_output_custom_columns():
    assert k("get nodes -o custom-columns=NAME:.metadata.name,IP:.status.addresses[0].address,TAINTS:.spec.taints"
             ).stdout == out("""
        NAME                 IP           TAINTS
        kind-control-plane   172.18.0.2   <none>
        kind-worker          172.18.0.3   <none>
        kind-worker2         172.18.0.4   <none>
        """)


def test_output_yaml_of_one_object():
    assert k("get svc web -o yaml").stdout == out("""
        apiVersion: v1
        kind: Service
        metadata:
          creationTimestamp: "2024-05-01T11:58:20Z"
          labels:
            app: web
          name: web
          namespace: default
        spec:
          clusterIP: 10.96.12.34
          clusterIPs:
          - 10.96.12.34
          internalTrafficPolicy: Cluster
          ipFamilies:
          - IPv4
          ipFamilyPolicy: SingleStack
          ports:
          - port: 80
            protocol: TCP
            targetPort: 80
          selector:
            app: web
          sessionAffinity: None
          type: ClusterIP
        status:
          loadBalancer: {}
        """)


def test_output_yaml_of_a_list():
    assert k("get ns -o yaml").stdout == out("""
        apiVersion: v1
        items:
        - apiVersion: v1
          kind: Namespace
          metadata:
            creationTimestamp: "2024-05-01T08:55:45Z"
            labels:
              kubernetes.io/metadata.name: default
            name: default
          status:
            phase: Active
        - apiVersion: v1
          kind: Namespace
          metadata:
            creationTimestamp: "2024-05-01T08:55:45Z"
            labels:
              kubernetes.io/metadata.name: kube-system
            name: kube-system
          status:
            phase: Active
        kind: List
        metadata:
          resourceVersion: ""
        """)
    # A type query is a List even with one item; an empty one prints an empty List.
    assert yaml.safe_load(k("get deploy -o yaml").stdout)["kind"] == "List"
    assert k("get pods -l app=nope -o yaml").stdout == out("""
        apiVersion: v1
        items: []
        kind: List
        metadata:
          resourceVersion: ""
        """)


def test_output_yaml_quotes_like_go_yaml():
    cm = {"apiVersion": "v1", "kind": "ConfigMap",
          "metadata": {"name": "c", "namespace": "default", "creationTimestamp": ago(5)},
          "data": {"port": "80", "flag": "true", "empty": "", "text": "hello", "script": "a\nb\n", "colon": "a: b"}}
    text = k("get cm c -o yaml", FakeAPI([cm])).stdout
    assert 'port: "80"' in text and 'flag: "true"' in text and 'empty: ""' in text and "text: hello" in text
    assert "script: |\n    a\n    b\n" in text and "colon: 'a: b'" in text


def test_output_json():
    r = k("get svc web -o json")
    assert r.stdout.startswith('{\n    "apiVersion": "v1",\n    "kind": "Service",\n    "metadata": {\n')
    assert r.stdout.endswith("}\n")
    assert k("get ns -o json").stdout.count('"kind": "List"') == 1


def test_output_unknown_format():
    r = k("get pods -o table")
    assert r.returncode == 1 and r.stderr.startswith(
        'error: unable to match a printer suitable for the output format "table", allowed formats are: ')
    with pytest.raises(NotModelledError, match="go-template"):
        k("get pods -o go-template={{.kind}}")


# ------------------------------------------------------------------------------------------
# describe
# ------------------------------------------------------------------------------------------


def test_describe_pod():
    r = k("describe pod web-7d9c8b7f5d-x2vq8")
    assert r.returncode == 0
    assert r.stdout == out("""
        Name:             web-7d9c8b7f5d-x2vq8
        Namespace:        default
        Priority:         0
        Service Account:  default
        Node:             kind-worker/172.18.0.3
        Start Time:       Wed, 01 May 2024 11:57:55 +0000
        Labels:           app=web
                          pod-template-hash=7d9c8b7f5d
        Annotations:      <none>
        Status:           Running
        IP:               10.244.1.2
        IPs:
          IP:           10.244.1.2
        Controlled By:  ReplicaSet/web-7d9c8b7f5d
        Containers:
          web:
            Container ID:   containerd://web-7d9c8b7f5d-x2vq8
            Image:          nginx:1.25
            Image ID:       docker.io/library/nginx:1.25@sha256:abc
            Port:           80/TCP
            Host Port:      0/TCP
            State:          Running
              Started:      Wed, 01 May 2024 11:58:00 +0000
            Ready:          True
            Restart Count:  0
            Environment:    <none>
            Mounts:         <none>
        Conditions:
          Type              Status
          Initialized       True \n          Ready             True \n          ContainersReady   True \n          PodScheduled      True \n        Volumes:            <none>
        QoS Class:          BestEffort
        Node-Selectors:     <none>
        Tolerations:        node.kubernetes.io/not-ready:NoExecute op=Exists for 300s
                            node.kubernetes.io/unreachable:NoExecute op=Exists for 300s
        Events:             <none>
        """).replace("\\n", "\n")


def test_describe_pod_last_state_env_and_probe():
    p = pod("client", "kind-worker", "10.244.1.5", 45, {"run": "client"}, restarts=2, last_exit_ago=30)
    c = p["spec"]["containers"][0]
    c["env"] = [{"name": "MODE", "value": "demo"},
                {"name": "MY_IP", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "status.podIP"}}}]
    c["readinessProbe"] = {"httpGet": {"path": "/healthz", "port": 80, "scheme": "HTTP"}, "periodSeconds": 5}
    c["volumeMounts"] = [{"name": "data", "mountPath": "/data"}]
    p["spec"]["volumes"] = [{"name": "data", "emptyDir": {}}]
    text = k("describe pod client", FakeAPI([p])).stdout
    assert "    Last State:     Terminated\n      Reason:       Error\n      Exit Code:    1\n" in text
    assert "    Readiness:      http-get http://:80/healthz delay=0s timeout=1s period=5s #success=1 #failure=3\n" in text
    # "Environment:" has no tab, so it ends the column block: the variables align among themselves
    assert "    Environment:\n      MODE:   demo\n      MY_IP:  10.244.1.5 (v1:status.podIP)\n" in text
    assert "    Mounts:\n      /data from data (rw)\n" in text
    assert ("Volumes:\n  data:\n    Type:        EmptyDir (a temporary directory that shares a pod's lifetime)\n"
            "    Medium:      \n    SizeLimit:   <unset>\nQoS Class:       BestEffort\n") in text


def test_describe_service():
    assert k("describe svc web").stdout == out("""
        Name:                     web
        Namespace:                default
        Labels:                   app=web
        Annotations:              <none>
        Selector:                 app=web
        Type:                     ClusterIP
        IP Family Policy:         SingleStack
        IP Families:              IPv4
        IP:                       10.96.12.34
        IPs:                      10.96.12.34
        Port:                     <unset>  80/TCP
        TargetPort:               80/TCP
        Endpoints:                10.244.1.2:80,10.244.2.3:80,10.244.1.7:80 + 1 more...
        Session Affinity:         None
        Internal Traffic Policy:  Cluster
        Events:                   <none>
        """)


def test_describe_service_nodeport_and_loadbalancer_lines():
    text = k("describe service web-lb2").stdout
    assert "LoadBalancer Ingress:     172.18.255.200\n" in text
    assert "Port:                     <unset>  443/TCP\nTargetPort:               443/TCP\n" in text
    assert "NodePort:                 <unset>  31236/TCP\nEndpoints:                <none>\n" in text
    assert "External Traffic Policy:  Cluster\n" in text


def test_describe_endpoints_and_namespace():
    assert k("describe endpoints web").stdout == out("""
        Name:         web
        Namespace:    default
        Labels:       app=web
        Annotations:  <none>
        Subsets:
          Addresses:          10.244.1.2,10.244.2.3,10.244.1.7,10.244.2.8
          NotReadyAddresses:  10.244.2.9
          Ports:
            Name     Port  Protocol
            ----     ----  --------
            <unset>  80    TCP

        Events:  <none>
        """)
    assert k("describe ns default").stdout == out("""
        Name:         default
        Labels:       kubernetes.io/metadata.name=default
        Annotations:  <none>
        Status:       Active

        No resource quota.

        No LimitRange resource.
        """)


def test_describe_deployment():
    assert k("describe deploy web").stdout == out("""
        Name:                   web
        Namespace:              default
        CreationTimestamp:      Wed, 01 May 2024 11:57:50 +0000
        Labels:                 app=web
        Annotations:            deployment.kubernetes.io/revision: 1
        Selector:               app=web
        Replicas:               2 desired | 2 updated | 2 total | 2 available | 0 unavailable
        StrategyType:           RollingUpdate
        MinReadySeconds:        0
        RollingUpdateStrategy:  25% max unavailable, 25% max surge
        Pod Template:
          Labels:  app=web
          Containers:
           web:
            Image:         nginx:1.25
            Port:          80/TCP
            Host Port:     0/TCP
            Environment:   <none>
            Mounts:        <none>
          Volumes:         <none>
          Node-Selectors:  <none>
          Tolerations:     <none>
        Conditions:
          Type           Status  Reason
          ----           ------  ------
          Available      True    MinimumReplicasAvailable
          Progressing    True    NewReplicaSetAvailable
        OldReplicaSets:  <none>
        NewReplicaSet:   web-7d9c8b7f5d (2/2 replicas created)
        Events:          <none>
        """)


def test_describe_node_key_lines():
    text = k("describe node kind-worker").stdout
    assert text.startswith("Name:               kind-worker\nRoles:              <none>\n"
                           "Labels:             kubernetes.io/hostname=kind-worker\n")
    assert "Addresses:\n  InternalIP:  172.18.0.3\n  Hostname:    kind-worker\n" in text
    assert "PodCIDRs:                     10.244.3.0/24\nNon-terminated Pods:          (2 in total)\n" in text
    assert "  default                     client                  0 (0%)        0 (0%)      0 (0%)" in text
    assert "  Ready   True    Wed, 01 May 2024 11:59:50 +0000   Wed, 01 May 2024 08:56:30 +0000   KubeletReady   " \
           "kubelet is posting ready status\n" in text
    assert text.endswith("Events:              <none>\n")


def test_describe_networkpolicy():
    assert k("describe netpol allow-client").stdout == out("""
        Name:         allow-client
        Namespace:    default
        Created on:   2024-05-01 11:59:30 +0000 UTC
        Labels:       <none>
        Annotations:  <none>
        Spec:
          PodSelector:     app=web
          Allowing ingress traffic:
            To Port: 80/TCP
            From:
              PodSelector: run=client
          Not affecting egress traffic
          Policy Types: Ingress
        """)


def test_describe_prefix_match_selector_and_errors():
    r = k("describe pod web")
    assert r.stdout.count("Name:             web-7d9c8b7f5d-") == 2 and "\n\n\nName:" in r.stdout
    assert k("describe pods -l run=client").stdout.startswith("Name:             client\n")
    r = k("describe pod nope")
    assert (r.returncode, r.stderr) == (1, 'Error from server (NotFound): pods "nope" not found\n')
    assert k("describe pods -n nope").stderr == "No resources found in nope namespace.\n"
    with pytest.raises(NotModelledError, match="describe ingresses"):
        k("describe ingress web")


# ------------------------------------------------------------------------------------------
# changing verbs
# ------------------------------------------------------------------------------------------


def test_label_refuses_to_overwrite_without_flag():
    api = FakeAPI()
    r = k("label pod client run=other", api)
    assert (r.returncode, r.stdout, r.stderr) == (
        1, "", "error: 'run' already has a value (client), and --overwrite is false\n")
    assert not [c for c in api.calls if c[0] == "label"]
    r = k("label pod client run=other --overwrite", api)
    assert (r.returncode, r.stdout) == (0, "pod/client labeled\n")
    assert api.calls[-1] == ("label", "Pod", "default", "client", {"run": "other"}, True)
    assert api.get("Pod", "default", "client")["metadata"]["labels"] == {"run": "other"}


def test_label_add_remove_same_value_and_selector():
    api = FakeAPI()
    assert k("label pod client run=client tier=front", api).stdout == "pod/client labeled\n"
    r = k("label pod/client tier- nope-", api)
    assert r.stdout == 'label "nope" not found.\npod/client labeled\n'
    assert api.calls[-1] == ("label", "Pod", "default", "client", {"tier": None, "nope": None}, False)
    assert k("label pods -l app=web zone=a", api).stdout == \
        "pod/web-7d9c8b7f5d-lk4jd labeled\npod/web-7d9c8b7f5d-x2vq8 labeled\n"
    assert k("label pod client", api).stderr == "error: at least one label update is required\n"
    assert k("label pod client a=b=c", api).stderr == "error: invalid label spec: a=b=c\n"
    assert k("label pod client x=1 x-", api).stderr == \
        "error: can not both modify and remove a label in the same command\n"
    assert k("label pod nope a=b", api).stderr == 'Error from server (NotFound): pods "nope" not found\n'


def test_delete():
    api = FakeAPI()
    r = k("delete pod nope", api)
    assert (r.returncode, r.stdout, r.stderr) == (1, "", 'Error from server (NotFound): pods "nope" not found\n')
    r = k("delete pod client nope", api)
    assert (r.returncode, r.stdout) == (1, 'pod "client" deleted\n')
    assert api.get("Pod", "default", "client") is None
    assert k("delete pods -l app=web", api).stdout == \
        'pod "web-7d9c8b7f5d-lk4jd" deleted\npod "web-7d9c8b7f5d-x2vq8" deleted\n'
    assert k("delete pods -l app=web", api).stdout == "No resources found\n"
    assert k("delete deploy/web", api).stdout == 'deployment.apps "web" deleted\n'
    assert k("delete pod", api).stderr == "error: resource(s) were provided, but no name was specified\n"
    assert k("delete pod nope --ignore-not-found", api).returncode == 0
    r = k("delete pod broken --force --grace-period=0", api)
    assert r.stdout == 'pod "broken" force deleted\n' and r.stderr.startswith("Warning: Immediate deletion")


def test_delete_and_apply_from_files(tmp_path):
    path = tmp_path / "app.yaml"
    path.write_text("# read by the fake loader\n")
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}, "data": {"a": "1"}}
    api = FakeAPI(manifests={str(path): [cm]})
    assert k(f"apply -f {path}", api).stdout == "configmap/settings created\n"
    k(f"apply -f {path} -n team-a", api)
    assert api.calls[-1][1][0]["metadata"]["namespace"] == "team-a"
    other = copy.deepcopy(cm)
    other["metadata"]["namespace"] = "team-b"
    api.manifests[str(path)] = [other]
    r = k(f"apply -f {path} -n team-a", api)
    assert r.returncode == 1 and r.stderr.startswith('error: the namespace from the provided object "team-b" does '
                                                     'not match the namespace "team-a".')
    r = k(f"delete -f {path}", api)
    assert r.stderr == f'Error from server (NotFound): error when deleting "{path}": configmaps "settings" not found\n'
    assert k("apply -f /nope/x.yaml", api).stderr == 'error: the path "/nope/x.yaml" does not exist\n'
    assert k("apply", api).stderr == "error: must specify one of -f and -k\n"


def test_scale():
    api = FakeAPI()
    assert k("scale deploy/web --replicas=3", api).stdout == "deployment.apps/web scaled\n"
    assert k("scale deployment web --replicas 1", api).stdout == "deployment.apps/web scaled\n"
    assert api.calls[-1] == ("scale", "Deployment", "default", "web", 1)
    assert k("scale rs web-7d9c8b7f5d --replicas=0", api).stdout == "replicaset.apps/web-7d9c8b7f5d scaled\n"
    assert k("scale deploy web", api).stderr == 'error: required flag(s) "replicas" not set\n'
    assert k("scale deploy nope --replicas=2", api).stderr == \
        'Error from server (NotFound): deployments.apps "nope" not found\n'
    assert k("scale deploy web --replicas=2 --current-replicas=5", api).stderr == \
        "error: Expected replicas to be 5, was 1\n"
    assert k("scale deploy web --replicas=x", api).stderr.startswith(
        'error: invalid argument "x" for "--replicas" flag: strconv.ParseInt')


def test_patch_merge_and_strategic():
    api = FakeAPI()
    assert k("""patch svc web -p '{"spec":{"type":"NodePort"}}'""", api).stdout == "service/web patched\n"
    assert api.calls[-1] == ("patch", "Service", "default", "web", {"spec": {"type": "NodePort"}})
    k("""patch svc web --type merge -p '{"spec":{"ports":[{"port":80,"nodePort":30001}]}}'""", api)
    assert api.calls[-1][4] == {"spec": {"ports": [{"port": 80, "nodePort": 30001}]}}
    # strategic: ports merge by port, containers by name; the merge patch sent carries the merged lists
    k("""patch svc web -p '{"spec":{"ports":[{"port":80,"nodePort":30001}]}}'""", api)
    assert api.calls[-1][4] == {"spec": {"ports": [{"port": 80, "protocol": "TCP", "targetPort": 80,
                                                    "nodePort": 30001}]}}
    k("""patch deploy web -p '{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"nginx:1.26"}]}}}}'""",
      api)
    assert api.calls[-1][4]["spec"]["template"]["spec"]["containers"] == [
        {"name": "web", "image": "nginx:1.26", "ports": [{"containerPort": 80, "protocol": "TCP"}]}]
    with pytest.raises(NotModelledError, match="--type json"):
        k("""patch svc web --type json -p '[{"op":"remove","path":"/spec/selector"}]'""", api)
    assert k("patch svc web", api).stderr == \
        "error: must specify --patch or --patch-file containing the contents of the patch\n"
    assert k("patch svc nope -p '{}'", api).stderr == 'Error from server (NotFound): services "nope" not found\n'


def test_expose():
    api = FakeAPI()
    assert k("expose deploy web --port 8080 --target-port 80 --type NodePort --name web2", api).stdout == \
        "service/web2 exposed\n"
    assert api.calls[-1] == ("expose", "Deployment", "default", "web", 8080, 80, "NodePort", "web2", "TCP")
    assert k("expose deployment/web", api).stdout == "service/web exposed\n"
    assert api.calls[-1][4:7] == (80, None, "ClusterIP")
    assert k("expose pod client", api).stderr.startswith("error: couldn't find port via --port flag or introspection")
    assert k("expose deploy web --type Foo", api).stderr.startswith(
        'error: The Service "web" is invalid: spec.type: Unsupported value: "Foo"')
    assert k("expose node kind-worker --port 80", api).stderr == "error: cannot expose a Node\n"


def test_logs():
    api = FakeAPI()
    assert k("logs client --tail 2", api).stdout == "line 4 from client/client\nline 5 from client/client\n"
    assert api.calls[-1] == ("logs", "default", "client", "client", 2)
    r = k("logs deploy/web", api)
    assert r.stderr == "Found 2 pods, using pod/web-7d9c8b7f5d-x2vq8\n"
    assert r.stdout.startswith("line 1 from web-7d9c8b7f5d-x2vq8/web\n")
    assert k("logs nope", api).stderr == 'Error from server (NotFound): pods "nope" not found\n'
    assert k("logs client -c nope", api).stderr == "error: container nope is not valid for pod client\n"
    assert k("logs broken", api).stderr == ('Error from server (BadRequest): container "broken" in pod "broken" is '
                                            "waiting to start: ImagePullBackOff\n")
    k("logs -l app=web", api)
    assert api.calls[-1][-1] == 10  # kubectl's default --tail with a selector


def test_logs_defaults_to_first_container_of_several():
    p = pod("duo", "kind-worker", "10.244.1.4", 60, {"app": "duo"})
    p["spec"]["containers"].append({"name": "sidecar", "image": "busybox:1.36"})
    p["status"]["containerStatuses"].append({**p["status"]["containerStatuses"][0], "name": "sidecar"})
    api = FakeAPI([p])
    r = k("logs duo", api)
    assert r.stderr == 'Defaulted container "duo" out of: duo, sidecar\n'
    assert k("logs duo -c sidecar", api).stderr == ""
    assert k("logs duo sidecar", api).stdout.startswith("line 1 from duo/sidecar")


# ------------------------------------------------------------------------------------------
# errors: kubectl's and the sandbox's own
# ------------------------------------------------------------------------------------------


def test_unknown_flags_and_resources_are_kubectl_errors():
    r = k("get pods --foo")
    assert (r.returncode, r.stderr) == (1, "error: unknown flag: --foo\nSee 'kubectl get --help' for usage.\n")
    assert k("get pods -z").stderr == "error: unknown shorthand flag: 'z' in -z\nSee 'kubectl get --help' for usage.\n"
    assert k("get pods -n").stderr == "error: flag needs an argument: 'n' in -n\nSee 'kubectl get --help' for usage.\n"
    assert k("get foo").stderr == 'error: the server doesn\'t have a resource type "foo"\n'
    assert k("get").stderr.startswith("You must specify the type of resource to get.")
    assert k("gett pods").stderr == 'error: unknown command "gett" for "kubectl"\n\nDid you mean this?\n\tget\n\tset\n'
    assert k("frobnicate").stderr == 'error: unknown command "frobnicate" for "kubectl"\n'
    assert k("get pods --watch=false").returncode == 0  # a refused flag turned off is harmless
    assert k("get pod client -A").stderr == "error: a resource cannot be retrieved by name across all namespaces\n"


@pytest.mark.parametrize("cmd, needle", [
    ("version", "kubectl version"), ("cluster-info", "kubectl cluster-info"), ("top pods", "metrics-server"),
    ("exec client -- ip addr", "k8snet exec"), ("port-forward svc/web 8080:80", "kubectl port-forward"),
    ("debug client", "kubectl debug"), ("cp client:/etc/hosts hosts", "kubectl cp"),
    ("get pods -w", "--watch"), ("get secrets", "secrets"), ("get pods --context kind-kind", "--context"),
    ("logs client -f", "--follow"), ("annotate pod client a=b", "kubectl annotate"),
])
def test_what_the_sandbox_does_not_answer_raises_not_modelled(cmd, needle):
    with pytest.raises(NotModelledError) as info:
        k(cmd)
    assert needle in str(info.value) and "K8SNET_BACKEND=kind" in str(info.value)


def test_args_must_be_a_list():
    with pytest.raises(TypeError):
        run_kubectl("get pods", FakeAPI())
    assert run_kubectl(["kubectl", "get", "ns"], FakeAPI()).command == ["kubectl", "get", "ns"]


# ------------------------------------------------------------------------------------------
# label selectors
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("selector, labels, expected", [
    ("", {"a": "1"}, True),
    ("app=web", {"app": "web"}, True),
    ("app==web", {"app": "web"}, True),
    ("app=web", {"app": "db"}, False),
    ("app!=web", {}, True),  # != matches when the key is absent
    ("app!=web", {"app": "web"}, False),
    ("app in (web, db)", {"app": "db"}, True),
    ("app notin (web,db)", {}, True),
    ("app notin (web,db)", {"app": "web"}, False),
    ("app", {"app": ""}, True),
    ("!app", {"app": "x"}, False),
    ("!app", {}, True),
    ("app=", {"app": ""}, True),
    ("tier=front,app in (web)", {"app": "web", "tier": "front"}, True),
    ("tier=front,app in (web)", {"app": "web"}, False),
    ("replicas>2", {"replicas": "3"}, True),
    ("replicas<2", {"replicas": "3"}, False),
    ("replicas>2", {"replicas": "many"}, False),
    ("app.kubernetes.io/name=web", {"app.kubernetes.io/name": "web"}, True),
])
def test_selector_matching(selector, labels, expected):
    assert selector_matches(parse_selector(selector), labels) is expected


def test_selector_parsing():
    assert parse_selector(" app = web , !legacy , env in (prod,dev)") == [
        Requirement("app", "=", ("web",)), Requirement("legacy", "!", ()), Requirement("env", "in", ("prod", "dev"))]
    assert [str(r) for r in parse_selector("env in (prod,dev),x!=1,y,!z")] == ["env in (dev,prod)", "x!=1", "y", "!z"]
    for bad in ("=x", "app=web=db", "app in web", "app in (web", "a b", "app=web,", "-app=x", "x>y"):
        with pytest.raises(SelectorError):
            parse_selector(bad)
    assert parse_selector(None) == []


def test_label_selector_dicts():
    labels = {"app": "web", "tier": "front"}
    assert label_selector_matches({}, labels) is True
    assert label_selector_matches(None, labels) is False
    assert label_selector_matches({"matchLabels": {"app": "web"}}, labels) is True
    assert label_selector_matches({"matchLabels": {"app": "db"}}, labels) is False
    exprs = [{"key": "tier", "operator": "In", "values": ["front", "edge"]},
             {"key": "legacy", "operator": "DoesNotExist"},
             {"key": "app", "operator": "Exists"},
             {"key": "zone", "operator": "NotIn", "values": ["b"]}]
    assert label_selector_matches({"matchLabels": {"app": "web"}, "matchExpressions": exprs}, labels) is True
    assert label_selector_matches({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["front"]}]},
                                  labels) is False
    with pytest.raises(SelectorError):
        label_selector_matches({"matchExpressions": [{"key": "a", "operator": "Like", "values": ["x"]}]}, labels)
    with pytest.raises(SelectorError):
        label_selector_matches({"matchExpressions": [{"key": "a", "operator": "In", "values": []}]}, labels)
    assert kv.format_label_selector({"matchLabels": {"b": "2", "a": "1"},
                                     "matchExpressions": [{"key": "c", "operator": "NotIn", "values": ["y", "x"]}]}
                                    ) == "a=1,b=2,c notin (x,y)"
    assert kv.format_label_selector({}) == "<none>"


# ------------------------------------------------------------------------------------------
# building blocks
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seconds, expected", [
    (-5, "<invalid>"), (-1, "0s"), (0, "0s"), (59, "59s"), (119, "119s"), (123, "2m3s"), (300, "5m"),
    (600, "10m"), (179 * 60 + 59, "179m"), (3 * H + 4 * 60, "3h4m"), (5 * H, "5h"), (10 * H, "10h"),
    (47 * H, "47h"), (48 * H, "2d"), (5 * 24 * H + 3 * H, "5d3h"), (8 * 24 * H, "8d"), (400 * 24 * H, "400d"),
    (730 * 24 * H, "2y"), (3 * 365 * 24 * H + 10 * 24 * H, "3y10d"), (9 * 365 * 24 * H, "9y"),
])
def test_age_formatting(seconds, expected):
    assert human_duration(seconds) == expected


def test_tabwriter_matches_go_column_blocks():
    # a line without tabs ends the column block; the last cell is never padded
    text = "a\tbbb\tc\naaaa\tb\tc\nplain\nx\ty\n"
    assert tabwrite(text, minwidth=0, padding=2) == "a     bbb  c\naaaa  b    c\nplain\nx  y\n"
    assert tabwrite("NAME\tX\nab\tyy\n") == "NAME   X\nab     yy\n"

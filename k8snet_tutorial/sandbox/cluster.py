"""The sandbox's control plane: the API objects, the controllers and the kubelet, over the real data plane."""
from __future__ import annotations

import copy
import ipaddress
import json
import os
import platform
import threading
import time

from ..config import ClusterConfig
from ..errors import NotModelledError, UsageError
from ..i18n import N_, _
from ..results import CommandResult
from . import controllers, coredns, nsutil, services
from .policy_agent import PolicyAgent
from .proxy import KubeProxy
from ..policy import validate_policy
from .ipam import HostLocal, node_pod_cidrs
from .kubelet import BASE_ENV, Kubelet, container_ports
from .network import Fabric
from .scheduler import pick_node
from .store import KINDS, Store, rfc3339
from .validation import KIND_HINT, check_pod_annotations, check_pod_spec
from .workloads import WorkloadHost

KUBE_VERSION = "v1.37.0"
SYSTEM_NAMESPACES = ("default", "kube-node-lease", "kube-public", "kube-system")
# Kinds the sandbox stores but whose behaviour is not built yet: refused so nothing is silently ignored.
NOT_YET = {"Ingress": N_("Ingress controllers")}
WORKLOAD_KINDS = ("Deployment", "ReplicaSet", "Pod")


def resource_name(kind: str) -> str:
    """kubectl's name for a kind in result lines: `deployment.apps`, `pod`, `networkpolicy.networking.k8s.io`."""
    group = KINDS[kind][0].rpartition("/")[0]
    return kind.lower() + (f".{group}" if group else "")


LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def _subset(want, have) -> bool:
    """Whether every value a manifest sets is what the live object holds (defaults the API added don't count)."""
    if isinstance(want, dict):
        return isinstance(have, dict) and all(k in have and _subset(v, have[k]) for k, v in want.items())
    if isinstance(want, list):
        return isinstance(have, list) and len(want) == len(have) and all(map(_subset, want, have))
    return want == have


def _spec_of(obj: dict) -> dict:
    """What `apply` compares to tell `configured` from `unchanged`."""
    meta = obj.get("metadata") or {}
    return {"labels": meta.get("labels"), "annotations": meta.get("annotations"),
            **{k: v for k, v in obj.items() if k not in ("metadata", "status", "apiVersion", "kind")}}


class Cluster:
    """One lab's cluster: call `boot()` once, then apply/delete objects; every method takes the lock."""

    def __init__(self, config: ClusterConfig, root: str) -> None:
        self.config = config
        self.root = root
        self.lock = threading.RLock()
        self.store = Store()
        self.fabric = Fabric(root, config.name, config.pod_subnet)
        self.workloads = WorkloadHost()
        self.kubelet = Kubelet(self)
        self.ipam: dict[str, HostLocal] = {}
        self.name_serial: dict[str, int] = {}
        self.serial = 0
        self.notes: dict[tuple[str, str], str] = {}
        self.alloc = services.Allocator(config.service_subnet)
        self.proxy = KubeProxy(self)
        self.policy = PolicyAgent(self)
        self.dns_records = None

    # -- boot ------------------------------------------------------------------
    def boot(self) -> None:
        """Build the node network and the nodes, and register them and the system namespaces."""
        nodes = self.config.nodes
        cidrs = node_pod_cidrs(self.config.pod_subnet, len(nodes))
        self.fabric.build_node_network()
        node_objects = []
        for i, (spec, cidr) in enumerate(zip(nodes, cidrs)):
            ip = str(ipaddress.ip_address("172.18.0.2") + i)
            self.fabric.add_node(spec.name, ip, cidr)
            self.ipam[spec.name] = HostLocal(cidr)
            node_objects.append(self._node_object(spec, ip, cidr))
        self.fabric.route_nodes()
        for ns in SYSTEM_NAMESPACES:
            self.store.put({"kind": "Namespace", "metadata": {"name": ns, "labels": {
                "kubernetes.io/metadata.name": ns}}, "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}})
        self._api_server(node_objects[0])
        # As on kind, the cluster DNS starts while only the control-plane has joined: its pods land there.
        self.store.put(node_objects[0])
        self.apply(coredns.objects(self.config.dns_ip))
        for node in node_objects[1:]:
            self.store.put(node)
        self.kubelet.start()

    def _api_server(self, control_plane: dict) -> None:
        """The `kubernetes` Service and its endpoint: the API server on the control-plane, port 6443."""
        ip = control_plane["status"]["addresses"][0]["address"]
        node_ns = self.fabric.nodes[control_plane["metadata"]["name"]].netns
        self.workloads.start_servers("kube-system/kube-apiserver", "kube-apiserver", "tcp", [(6443, "TCP")],
                                     f"kube-apiserver-{control_plane['metadata']['name']}", ip, node_ns)
        svc = {"kind": "Service", "metadata": {"name": "kubernetes", "namespace": "default", "labels": {
            "component": "apiserver", "provider": "kubernetes"}},
               "spec": {"clusterIP": self.config.api_ip, "ports": [{"name": "https", "port": 443, "protocol": "TCP",
                                                                     "targetPort": 6443}]}}
        services.prepare(svc, None, self.alloc)
        self.store.put(svc)
        uid = svc["metadata"]["uid"]
        self.store.put({"kind": "Endpoints", "metadata": {"name": "kubernetes", "namespace": "default", "labels": {
            "endpointslice.kubernetes.io/skip-mirror": "true"}},
                        "subsets": [{"addresses": [{"ip": ip}], "ports": [{"name": "https", "port": 6443,
                                                                           "protocol": "TCP"}]}]})
        self.store.put({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
                        "metadata": {"name": "kubernetes", "namespace": "default",
                                     "labels": {"kubernetes.io/service-name": "kubernetes"},
                                     "ownerReferences": [{"apiVersion": "v1", "kind": "Service", "name": "kubernetes",
                                                          "uid": uid}]},
                        "endpoints": [{"addresses": [ip], "conditions": {"ready": True, "serving": True,
                                                                          "terminating": False}}],
                        "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}]})

    def _node_object(self, spec, ip: str, cidr: str) -> dict:
        labels = {"beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
                  "kubernetes.io/hostname": spec.name, "kubernetes.io/os": "linux", **spec.labels}
        taints = []
        if spec.role == "control-plane":
            labels["node-role.kubernetes.io/control-plane"] = ""
            labels["node.kubernetes.io/exclude-from-external-load-balancers"] = ""
            taints = [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]
        return {"kind": "Node", "metadata": {"name": spec.name, "labels": labels},
                "spec": {"podCIDR": cidr, "podCIDRs": [cidr], "providerID": f"kind://sandbox/{self.config.name}/{spec.name}",
                         **({"taints": taints} if taints else {})},
                "status": {"addresses": [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": spec.name}],
                           "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                                           "message": "kubelet is posting ready status",
                                           "lastHeartbeatTime": rfc3339(time.time()),
                                           "lastTransitionTime": rfc3339(time.time())}],
                           "nodeInfo": {"kubeletVersion": KUBE_VERSION, "kubeProxyVersion": KUBE_VERSION,
                                        "osImage": "k8snet sandbox (host tools)", "operatingSystem": "linux",
                                        "architecture": "amd64", "kernelVersion": platform.release(),
                                        "containerRuntimeVersion": "sandbox://k8snet"}}}

    # -- apply / delete --------------------------------------------------------
    def apply(self, objects: list[dict], sources: list[str | None] | None = None) -> list[str]:
        """Create or update objects in order (namespaces first), then reconcile; return kubectl's lines."""
        with self.lock:
            for obj, source in zip(objects, sources or [None] * len(objects)):  # check all before changing any
                self._check(obj, source)
            ordered = sorted(objects, key=lambda o: 0 if o.get("kind") == "Namespace" else 1)
            lines = [self._apply_one(copy.deepcopy(dict(o))) for o in ordered]
            self.reconcile()
            return lines

    def _check(self, obj: dict, source: str | None = None) -> None:
        kind = obj.get("kind")
        name = (obj.get("metadata") or {}).get("name", "?")
        where = f"{source}, {str(kind).lower()}/{name}" if source else f"{str(kind).lower()}/{name}"
        if kind in NOT_YET:
            raise NotModelledError(_("{where}: {feature} is not built into the sandbox yet.").format(
                where=where, feature=_(NOT_YET[kind])), hint=_(KIND_HINT))
        if kind not in KINDS or kind in ("Node", "Endpoints", "EndpointSlice"):
            raise NotModelledError(_("{where}: the sandbox does not accept objects of kind {kind}.").format(
                where=where, kind=kind), hint=_(KIND_HINT))
        if kind == "Pod":
            check_pod_annotations(obj["metadata"], where)
            check_pod_spec(obj.get("spec") or {}, where)
        elif kind == "NetworkPolicy":
            try:
                validate_policy(obj)
            except UsageError as e:
                raise UsageError(f"{where}: {e}") from None
        elif kind in ("Deployment", "ReplicaSet"):
            tpl = obj.get("spec", {}).get("template", {})
            check_pod_annotations(tpl.get("metadata") or {}, where)
            check_pod_spec(tpl.get("spec") or {}, where, "spec.template.spec")

    def _apply_one(self, obj: dict) -> str:
        kind = obj["kind"]
        meta = obj.setdefault("metadata", {})
        namespaced = KINDS[kind][1]
        ns = meta.get("namespace") or "default"
        if namespaced and self.store.get("Namespace", None, ns) is None:
            raise UsageError(f'Error from server (NotFound): namespaces "{ns}" not found ({kind}/{meta["name"]})')
        old = self.store.get(kind, ns, meta["name"])
        ref = f"{resource_name(kind)}/{meta['name']}"
        # Like `kubectl apply`: remember what was applied; nothing to patch means "unchanged".
        raw = {k: v for k, v in obj.items() if k != "status"}
        applied = json.dumps(raw, sort_keys=True, separators=(",", ":")) + "\n"
        if old is not None and (old["metadata"].get("annotations") or {}).get(LAST_APPLIED) == applied \
                and _subset(raw, old):
            return f"{ref} unchanged"
        meta.setdefault("annotations", {})[LAST_APPLIED] = applied
        if kind == "Pod":
            if old is not None:
                raise UsageError(_("{ref}: a pod's spec cannot be changed once created (delete it first)").format(ref=ref))
            self.create_pod(obj)
            return f"{ref} created"
        if kind == "Namespace":
            meta.setdefault("labels", {})["kubernetes.io/metadata.name"] = meta["name"]
            obj["status"] = {"phase": "Active"}
        elif kind == "Deployment":
            spec = obj.setdefault("spec", {})
            spec.setdefault("replicas", 1)
            spec.setdefault("strategy", {"type": "RollingUpdate",
                                         "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}})
            spec.setdefault("revisionHistoryLimit", 10)
            spec.setdefault("progressDeadlineSeconds", 600)
        if old is not None:
            obj["status"] = old.get("status", {})
            if old.get("spec") != obj.get("spec"):
                meta["generation"] = old["metadata"].get("generation", 1) + 1
        if kind == "Service":
            services.prepare(obj, old, self.alloc)
        self.store.put(obj)
        return f"{ref} {'configured' if old is not None else 'created'}"

    def delete(self, kind: str, namespace: str | None, name: str) -> str:
        """Delete one object (and what it owns); kubectl's line or NotFound."""
        with self.lock:
            obj = self.store.get(kind, namespace, name)
            plural = KINDS[kind][2] if kind in KINDS else kind.lower()
            if obj is None:
                raise UsageError(f'Error from server (NotFound): {plural} "{name}" not found')
            if kind == "Namespace" and name in SYSTEM_NAMESPACES:
                raise UsageError(f'Error from server (Forbidden): namespaces "{name}" is forbidden: this namespace may not be deleted')
            self._delete_tree(obj)
            self.reconcile()
            return f'{resource_name(kind)} "{name}" deleted'

    def _delete_tree(self, obj: dict) -> None:
        kind, meta = obj["kind"], obj["metadata"]
        if kind == "Namespace":
            for other in list(self.store):
                if other["metadata"].get("namespace") == meta["name"] and other["kind"] not in ("Pod",):
                    self.store.remove(other["kind"], meta["name"], other["metadata"]["name"])
            for pod in self.store.list("Pod", meta["name"]):
                self.remove_pod(pod)
        elif kind == "Pod":
            self.remove_pod(obj)
            return
        for child in list(self.store):
            if controllers.owned_by(child, obj):
                self._delete_tree(child)
        self.store.remove(kind, meta.get("namespace"), meta["name"])
        if kind == "Service":
            self.alloc.release(f"{meta['namespace']}/{meta['name']}")
            self.store.remove("Endpoints", meta["namespace"], meta["name"])

    # -- kubectl verbs that change objects ----------------------------------------
    def _existing(self, kind: str, namespace: str | None, name: str) -> dict:
        obj = self.store.get(kind, namespace, name)
        if obj is None:
            raise UsageError(f'Error from server (NotFound): {KINDS[kind][2]} "{name}" not found')
        return obj

    def scale(self, kind: str, namespace: str, name: str, replicas: int) -> str:
        """Set a Deployment's or ReplicaSet's replica count and let the controllers act."""
        with self.lock:
            if kind not in ("Deployment", "ReplicaSet"):
                raise UsageError(f"error: cannot scale a {kind}")
            if replicas < 0:
                raise UsageError("error: --replicas must be zero or more")
            obj = self._existing(kind, namespace, name)
            obj["spec"]["replicas"] = replicas
            self.store.put(obj)
            self.reconcile()
            return f"{resource_name(kind)}/{name} scaled"

    def patch(self, kind: str, namespace: str | None, name: str, patch: dict) -> str:
        """Apply a JSON merge patch (labels, selectors, replicas, ports …) and reconcile."""
        with self.lock:
            obj = self._existing(kind, namespace, name)
            new = merge_patch(copy.deepcopy(obj), patch)
            if kind == "Pod" and new.get("spec") != obj.get("spec"):
                raise UsageError(f'The Pod "{name}" is invalid: spec: Forbidden: pod updates may not change fields'
                                 " other than labels and annotations here (the sandbox models these)")
            if new == obj:
                return f"{resource_name(kind)}/{name} patched (no change)"
            if kind == "Service":
                services.prepare(new, obj, self.alloc)
            if kind in ("Deployment", "ReplicaSet", "Pod"):
                self._check(new)
            new["metadata"]["generation"] = obj["metadata"].get("generation", 1) + int(new.get("spec") != obj.get("spec"))
            self.store.put(new)
            self.reconcile()
            return f"{resource_name(kind)}/{name} patched"

    def label(self, kind: str, namespace: str | None, name: str, labels: dict[str, str | None], overwrite: bool) -> str:
        """Add, change (with overwrite) or remove (value None) labels."""
        with self.lock:
            obj = self._existing(kind, namespace, name)
            current = obj["metadata"].setdefault("labels", {})
            for key, value in labels.items():
                if value is not None and key in current and current[key] != value and not overwrite:
                    raise UsageError(f"error: '{key}' already has a value ({current[key]}), and --overwrite is false")
            for key, value in labels.items():
                if value is None:
                    current.pop(key, None)
                else:
                    current[key] = value
            self.store.put(obj)
            self.reconcile()
            return f"{resource_name(kind)}/{name} labeled" if any(v is not None for v in labels.values()) else \
                f"{resource_name(kind)}/{name} unlabeled"

    # -- pods ------------------------------------------------------------------
    def create_pod(self, pod: dict) -> None:
        """Store a pod, schedule it and let the kubelet start it."""
        meta = pod["metadata"]
        meta.setdefault("namespace", "default")
        spec = pod["spec"]
        spec.setdefault("restartPolicy", "Always")
        spec.setdefault("dnsPolicy", "ClusterFirst")
        spec.setdefault("schedulerName", "default-scheduler")
        spec.setdefault("terminationGracePeriodSeconds", 30)
        spec.setdefault("serviceAccountName", "default")
        spec.setdefault("serviceAccount", spec["serviceAccountName"])
        spec.setdefault("priority", 2000000000 if spec.get("priorityClassName") == "system-cluster-critical" else 0)
        spec.setdefault("enableServiceLinks", True)
        spec.setdefault("tolerations", [
            {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
            {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute",
             "tolerationSeconds": 300}])
        spec["nodeName"] = pick_node(pod, self.store.list("Node"), self.store.list("Pod"))
        self.serial += 1
        meta.setdefault("annotations", {})
        meta["annotations"]["k8snet.dev/serial"] = str(self.serial)
        pod["status"] = {"phase": "Pending"}
        self.store.put(pod)
        self.kubelet.start_pod(pod)

    def pod_serial(self, pod: dict) -> int:
        """The order in which pods were created (for the ReplicaSet controller's ranking)."""
        return int(pod["metadata"].get("annotations", {}).get("k8snet.dev/serial", 0))

    def remove_pod(self, pod: dict) -> None:
        """Stop a pod and forget it."""
        meta = pod["metadata"]
        key = f"{meta['namespace']}/{meta['name']}"
        self.kubelet.stop_pod(key)
        self.notes = {k: v for k, v in self.notes.items() if k[0] != key}
        self.store.remove("Pod", meta["namespace"], meta["name"])
        self.changed()

    def note(self, pod: dict, container: str, message: str) -> None:
        """Remember why a container could not start (shown by describe and status)."""
        self.notes[(f"{pod['metadata']['namespace']}/{pod['metadata']['name']}", container)] = message

    def readiness_changed(self, pod: dict) -> None:
        """Called by the kubelet when a pod's Ready condition flips."""
        self.reconcile()

    def resolve_port(self, container: dict, port: int | str | None) -> int:
        """A probe's or Service's port: a number, or the name of one of the container's ports."""
        if isinstance(port, int) or (isinstance(port, str) and port.isdigit()):
            return int(port)
        for p in container.get("ports") or []:
            if p.get("name") == port:
                return int(p["containerPort"])
        ports = container_ports(container)
        if port is None and ports:
            return ports[0][0]
        raise UsageError(_("container {container}: no port named {port}").format(container=container["name"],
                                                                               port=repr(port)))

    # -- services --------------------------------------------------------------
    def service_env(self, namespace: str) -> dict[str, str]:
        """The Docker-links-style variables the kubelet injects: Services of the pod's namespace, plus `kubernetes`."""
        env: dict[str, str] = {}
        found = self.store.list("Service", namespace)
        if namespace != "default":
            found += [s for s in self.store.list("Service", "default") if s["metadata"]["name"] == "kubernetes"]
        for svc in found:
            ip = svc["spec"].get("clusterIP")
            ports = svc["spec"].get("ports") or []
            if not ip or ip == "None" or not ports:
                continue
            n = svc["metadata"]["name"].upper().replace("-", "_")
            env[f"{n}_SERVICE_HOST"] = ip
            env[f"{n}_SERVICE_PORT"] = str(ports[0]["port"])
            env[f"{n}_PORT"] = f"{ports[0].get('protocol', 'TCP').lower()}://{ip}:{ports[0]['port']}"
            for p in ports:
                proto, port = p.get("protocol", "TCP"), p["port"]
                if p.get("name"):
                    env[f"{n}_SERVICE_PORT_{p['name'].upper().replace('-', '_')}"] = str(port)
                base = f"{n}_PORT_{port}_{proto}"
                env[base] = f"{proto.lower()}://{ip}:{port}"
                env[f"{base}_PROTO"], env[f"{base}_PORT"], env[f"{base}_ADDR"] = proto.lower(), str(port), ip
        return env

    # -- reconcile -------------------------------------------------------------
    def reconcile(self) -> None:
        """Run the controllers: deployments, replicasets, endpoints, then kube-proxy, policies and DNS."""
        with self.lock:
            for dep in self.store.list("Deployment"):
                controllers.sync_deployment(self, dep)
            for rs in self.store.list("ReplicaSet"):
                controllers.sync_replicaset(self, rs)
            for dep in self.store.list("Deployment"):
                controllers.deployment_status(self, dep)
            self.sync_endpoints()
            self.changed()

    def sync_endpoints(self) -> None:
        """The Endpoints and EndpointSlice controllers: follow selectors, pod IPs and readiness."""
        pods = self.store.list("Pod")
        live = {(s["metadata"]["namespace"], s["metadata"]["name"]) for s in self.store.list("Service")}
        for kind in ("Endpoints", "EndpointSlice"):
            for obj in self.store.list(kind):
                meta = obj["metadata"]
                owner = meta["name"] if kind == "Endpoints" else (meta.get("labels") or {}).get(
                    "kubernetes.io/service-name")
                if (meta["namespace"], owner) not in live and not meta.get("annotations", {}).get("k8snet.dev/static"):
                    self.store.remove(kind, meta["namespace"], meta["name"])
        for svc in self.store.list("Service"):
            if not svc["spec"].get("selector"):
                continue  # endpoints of selector-less Services are written by hand (or by the API server)
            ep, slices = services.endpoints_for(svc, services.selected_pods(svc, pods), self.kubelet.is_ready)
            self._put_if_changed(ep)
            wanted = {s["metadata"]["name"] for s in slices}
            for old in self.store.list("EndpointSlice", svc["metadata"]["namespace"]):
                if (old["metadata"].get("labels") or {}).get("kubernetes.io/service-name") == svc["metadata"]["name"] \
                        and old["metadata"]["name"] not in wanted:
                    self.store.remove("EndpointSlice", old["metadata"]["namespace"], old["metadata"]["name"])
            for sl in slices:
                self._put_if_changed(sl)

    def _put_if_changed(self, obj: dict) -> None:
        old = self.store.get(obj["kind"], obj["metadata"].get("namespace"), obj["metadata"]["name"])
        if old is None or _spec_of(old) != _spec_of(obj):
            self.store.put(obj)

    def changed(self) -> None:
        """Bring kube-proxy's rules, the NetworkPolicy tables and the DNS records up to date."""
        self.proxy.sync()
        self.policy.sync()
        self.dns_records = coredns.records(self)

    # -- reads -----------------------------------------------------------------
    def list(self, kind: str, namespace: str | None = None) -> list[dict]:
        """Snapshots of objects of a kind."""
        with self.lock:
            return [copy.deepcopy(o) for o in self.store.list(kind, namespace)]

    def get(self, kind: str, namespace: str | None, name: str) -> dict | None:
        """A snapshot of one object."""
        with self.lock:
            obj = self.store.get(kind, namespace, name)
            return copy.deepcopy(obj) if obj is not None else None

    # -- exec --------------------------------------------------------------------
    def exec(self, command: list[str], *, pod: str | None, namespace: str = "default", container: str | None = None,
             node: str | None = None, timeout: float = 30) -> CommandResult:
        """Run a host tool in a pod's namespaces (with its resolv.conf, hosts and volumes) or in a node's."""
        if not command:
            raise UsageError(_("exec: no command given"))
        with self.lock:
            if node is not None:
                n = self.fabric.nodes.get(node)
                if n is None:
                    raise UsageError(f'Error from server (NotFound): nodes "{node}" not found')
                hosts = os.path.join(self.root, "nodes", node, "hosts")
                if not os.path.exists(hosts):
                    os.makedirs(os.path.dirname(hosts), exist_ok=True)
                    with open(hosts, "w") as f:
                        f.write(f"127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n{n.ip}\t{node}\n")
                env = dict(BASE_ENV)
                binds = [(hosts, "/etc/hosts"), (self.fabric.pod_ns_dir(node), "/run/netns")]
                setup = nsutil.child_setup(n.netns, binds, new_session=True, hostname=node, own_pids=True,
                                           workdir="/")
            else:
                obj = self.store.get("Pod", namespace, pod or "")
                if obj is None:
                    raise UsageError(f'Error from server (NotFound): pods "{pod}" not found'
                                     + (f" in namespace {namespace!r}" if namespace != "default" else ""))
                containers = obj["spec"]["containers"]
                c = containers[0] if container is None else next((x for x in containers if x["name"] == container), None)
                if c is None:
                    raise UsageError(f"container {container} is not valid for pod {pod}: choose one of "
                                     f"[{' '.join(x['name'] for x in containers)}]")
                rt = self.kubelet.pods.get(f"{namespace}/{pod}")
                if rt is None:
                    raise UsageError(_("pod {name} is not running").format(name=pod))
                setup, env = self.kubelet.setup_for(obj, c, own_pids=True), self.kubelet.env(obj, c)
        return self.kubelet.exec(command, setup=setup, env=env, timeout=timeout)

    def kill(self, namespace: str, pod: str, container: str | None) -> str:
        """Crash one container: its servers close (or its process is killed); the kubelet notices and restarts it."""
        with self.lock:
            obj = self.store.get("Pod", namespace, pod)
            if obj is None:
                raise UsageError(f'Error from server (NotFound): pods "{pod}" not found')
            names = [c["name"] for c in obj["spec"]["containers"]]
            name = container or names[0]
            if name not in names:
                raise UsageError(f"container {name} is not valid for pod {pod}: choose one of [{' '.join(names)}]")
            self.workloads.stop(f"{namespace}/{pod}", name)
            self.kubelet.tick()
            return _('container "{container}" of pod "{pod}" crashed; the kubelet will restart it').format(
                container=name, pod=pod)

    def logs(self, namespace: str, pod: str, container: str | None, tail: int | None = None) -> str:
        """A container's log."""
        with self.lock:
            obj = self.store.get("Pod", namespace, pod)
            if obj is None:
                raise UsageError(f'Error from server (NotFound): pods "{pod}" not found')
            names = [c["name"] for c in obj["spec"]["containers"]]
            if container is None:
                if len(names) > 1:
                    raise UsageError(f"error: a container name must be specified for pod {pod}, choose one of: "
                                     f"[{' '.join(names)}]")
                container = names[0]
            log = self.workloads.log(f"{namespace}/{pod}", container)
            return log.text(tail) if log else ""

    def shutdown(self) -> None:
        """Stop every pod's servers and processes."""
        self.kubelet.stopping.set()
        with self.lock:
            for key in list(self.kubelet.pods):
                self.workloads.stop(key)
        self.workloads.shutdown()

    def now(self) -> float:
        """Wall-clock time, for ages."""
        return time.time()


def merge_patch(target: dict, patch: dict) -> dict:
    """RFC 7386 JSON merge patch: maps merge, null removes, everything else replaces."""
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            merge_patch(target[key], value)
        else:
            target[key] = copy.deepcopy(value)
    return target

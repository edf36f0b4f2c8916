"""The kubelet's share of the work: start a pod's network and containers, run readiness probes, exec into pods."""
from __future__ import annotations

import base64
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from ..results import CommandResult
from ..i18n import _
from . import coredns, nsutil
from .images import workload_for
from .network import PodNet
from .store import rfc3339

if TYPE_CHECKING:
    from .cluster import Cluster

BASE_ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root", "TERM": "xterm"}
HOSTS_HEADER = """# Kubernetes-managed hosts file.
127.0.0.1\tlocalhost
::1\tlocalhost ip6-localhost ip6-loopback
fe00::0\tip6-localnet
fe00::0\tip6-mcastprefix
fe00::1\tip6-allnodes
fe00::2\tip6-allrouters
"""


@dataclass
class ProbeState:
    """Where one container's readiness probe stands."""

    spec: dict
    due: float
    successes: int = 0
    failures: int = 0
    runs: int = 0


@dataclass
class PodRuntime:
    """What the kubelet keeps for a running pod."""

    key: str  # namespace/name
    net: PodNet
    dir: str
    probes: dict[str, ProbeState] = field(default_factory=dict)
    restart_at: dict[str, float] = field(default_factory=dict)
    service_env: dict[str, str] = field(default_factory=dict)  # fixed when the pod starts, as the kubelet does


def container_ports(c: dict) -> list[tuple[int, str]]:
    """A container's declared (port, protocol) pairs."""
    return [(int(p["containerPort"]), str(p.get("protocol", "TCP")).upper()) for p in c.get("ports") or []]


class Kubelet:
    """Runs pods on the lab's nodes (one kubelet serves them all; each pod lands in its node's namespaces)."""

    def __init__(self, cluster: "Cluster") -> None:
        self.cluster = cluster
        self.pods: dict[str, PodRuntime] = {}
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="kubelet", daemon=True)

    # -- pod lifecycle -----------------------------------------------------
    def start_pod(self, pod: dict) -> None:
        """Network first (the CNI ADD), then the pod's files, then its containers."""
        meta, spec = pod["metadata"], pod["spec"]
        key = f"{meta['namespace']}/{meta['name']}"
        node = spec["nodeName"]
        ip = self.cluster.ipam[node].allocate(key)
        net = self.cluster.fabric.add_pod(key, node, ip, meta["uid"])
        pdir = os.path.join(self.cluster.root, "pods", meta["uid"])
        os.makedirs(os.path.join(pdir, "volumes"), exist_ok=True)
        os.makedirs(os.path.join(pdir, "rootfs"), exist_ok=True)
        rt = PodRuntime(key=key, net=net, dir=pdir, service_env=self.cluster.service_env(meta["namespace"])
                        if spec.get("enableServiceLinks", True) else {})
        self.pods[key] = rt
        self._write_files(pod, rt)
        now = time.time()
        pod["status"] = {
            "phase": "Running", "hostIP": self.cluster.fabric.nodes[node].ip, "podIP": ip, "podIPs": [{"ip": ip}],
            "startTime": rfc3339(now), "qosClass": "BestEffort",
            "hostIPs": [{"ip": self.cluster.fabric.nodes[node].ip}],
            "conditions": [], "containerStatuses": [],
        }
        for c in spec["containers"]:
            self._start_container(pod, rt, c)
            if c.get("readinessProbe"):
                rp = c["readinessProbe"]
                rt.probes[c["name"]] = ProbeState(rp, now + float(rp.get("initialDelaySeconds", 0)))
        self._refresh_status(pod)

    def _write_files(self, pod: dict, rt: PodRuntime) -> None:
        meta, spec = pod["metadata"], pod["spec"]
        cfg = self.cluster.config
        domain = "cluster.local"
        policy = spec.get("dnsPolicy", "ClusterFirst")
        dns_cfg = spec.get("dnsConfig") or {}
        if policy == "None":
            servers, search, options = dns_cfg.get("nameservers", []), dns_cfg.get("searches", []), []
        elif policy == "Default":
            servers, search, options = ["172.18.0.1"], [], []
        else:
            ns = meta["namespace"]
            servers = [cfg.dns_ip] + dns_cfg.get("nameservers", [])
            search = [f"{ns}.svc.{domain}", f"svc.{domain}", domain] + dns_cfg.get("searches", [])
            options = ["ndots:5"]
        for o in dns_cfg.get("options", []):
            options.append(o["name"] + (f":{o['value']}" if o.get("value") is not None else ""))
        lines = [f"search {' '.join(search)}"] if search else []
        lines += [f"nameserver {s}" for s in servers]
        if options:
            lines.append(f"options {' '.join(options)}")
        with open(os.path.join(rt.dir, "resolv.conf"), "w") as f:
            f.write("\n".join(lines) + "\n")
        host_line = rt.net.ip + "\t"
        if spec.get("hostname") and spec.get("subdomain"):
            host_line += f"{spec['hostname']}.{spec['subdomain']}.{meta['namespace']}.svc.{domain}\t{spec['hostname']}"
        else:
            host_line += spec.get("hostname") or meta["name"]
        aliases = spec.get("hostAliases") or []
        extra = "\n# Entries added by HostAliases.\n" + "".join(
            a["ip"] + "\t" + "\t".join(a.get("hostnames", [])) + "\n" for a in aliases) if aliases else ""
        with open(os.path.join(rt.dir, "hosts"), "w") as f:
            f.write(HOSTS_HEADER + host_line + "\n" + extra)
        for vol in spec.get("volumes") or []:
            vdir = os.path.join(rt.dir, "volumes", vol["name"])
            os.makedirs(vdir, exist_ok=True)
            source = vol.get("configMap") or vol.get("secret")
            if source is not None:
                kind = "ConfigMap" if "configMap" in vol else "Secret"
                ref = source.get("name") or source.get("secretName")
                obj = self.cluster.store.get(kind, meta["namespace"], ref) or {}
                data = dict(obj.get("data") or {})
                if kind == "Secret":
                    data = {k: base64.b64decode(v).decode(errors="replace") for k, v in data.items()}
                    data.update(obj.get("stringData") or {})
                for k, v in data.items():
                    with open(os.path.join(vdir, k), "w") as f:
                        f.write(v)

    def setup_for(self, pod: dict, container: dict, own_pids: bool = False) -> Callable[[], None]:
        """The preexec_fn that puts a process inside a container: pod netns, hostname, files and volumes."""
        rt = self.pods[f"{pod['metadata']['namespace']}/{pod['metadata']['name']}"]
        return nsutil.child_setup(rt.net.netns, self.binds(pod, container), new_session=True,
                                  hostname=pod["spec"].get("hostname") or pod["metadata"]["name"],
                                  scratch=os.path.join(rt.dir, "rootfs"), own_pids=own_pids,
                                  workdir=container.get("workingDir") or "/")

    def binds(self, pod: dict, container: dict | None) -> list[tuple]:
        """The files and volumes a container sees over the host's filesystem."""
        rt = self.pods[f"{pod['metadata']['namespace']}/{pod['metadata']['name']}"]
        out = [(os.path.join(rt.dir, "resolv.conf"), "/etc/resolv.conf"), (os.path.join(rt.dir, "hosts"), "/etc/hosts")]
        if os.path.isdir("/run/netns"):  # the host's named namespaces are none of the pod's business
            out.append((os.path.join(rt.dir, "volumes"), "/run/netns", True))
        for m in (container or {}).get("volumeMounts") or []:
            out.append((os.path.join(rt.dir, "volumes", m["name"]), m["mountPath"], bool(m.get("readOnly"))))
        return out

    def env(self, pod: dict, container: dict) -> dict[str, str]:
        """The container's environment: the spec's env plus what the kubelet adds."""
        env = dict(BASE_ENV, HOSTNAME=pod["spec"].get("hostname") or pod["metadata"]["name"])
        rt = self.pods.get(f"{pod['metadata']['namespace']}/{pod['metadata']['name']}")
        env.update(rt.service_env if rt else {})
        for e in container.get("env") or []:
            if "value" in e:
                env[e["name"]] = str(e["value"])
            elif "valueFrom" in e:
                env[e["name"]] = self._value_from(pod, e["valueFrom"])
        return env

    def _value_from(self, pod: dict, src: dict) -> str:
        if "fieldRef" in src:
            path = src["fieldRef"]["fieldPath"]
            values = {"metadata.name": pod["metadata"]["name"], "metadata.namespace": pod["metadata"]["namespace"],
                      "status.podIP": (pod.get("status") or {}).get("podIP", ""), "spec.nodeName": pod["spec"]["nodeName"],
                      "status.hostIP": (pod.get("status") or {}).get("hostIP", "")}
            return values.get(path, "")
        for kind, key in (("ConfigMap", "configMapKeyRef"), ("Secret", "secretKeyRef")):
            if key in src:
                obj = self.cluster.store.get(kind, pod["metadata"]["namespace"], src[key]["name"]) or {}
                value = (obj.get("data") or {}).get(src[key]["key"], "")
                if kind == "Secret" and value:
                    value = base64.b64decode(value).decode(errors="replace")
                return value
        return ""

    def _start_container(self, pod: dict, rt: PodRuntime, c: dict) -> None:
        wl = workload_for(c.get("image", ""), container_ports(c))
        name = pod["metadata"]["name"]
        if wl.kind == "tools":
            argv = list(c.get("command") or []) + list(c.get("args") or [])
            if not argv:
                argv = ["sh"]  # busybox/netshoot's default command: a shell that exits at once without a terminal
            if not shutil.which(argv[0], path=BASE_ENV["PATH"]) and not os.path.isabs(argv[0]):
                self.cluster.note(pod, c["name"], _("{program} is not installed on this machine; the sandbox runs the"
                                                    " host's own binaries for tools images").format(
                    program=repr(argv[0])))
                return
            log = os.path.join(rt.dir, f"{c['name']}.log")
            self.cluster.workloads.start_process(rt.key, c["name"], argv, setup=self.setup_for(pod, c),
                                                 env=self.env(pod, c), log_path=log)
        elif wl.kind == "dns":
            # CoreDNS: the DNS itself on 53, and plain HTTP for its health (8080), ready (8181) and metrics ports.
            others = sorted({(p, proto) for p, proto in wl.ports if p != 53} | {(8080, "TCP"), (8181, "TCP")})
            run = self.cluster.workloads.start_servers(rt.key, c["name"], "http", others, name, rt.net.ip, rt.net.netns)
            coredns.start_server(self.cluster, run, rt.net.netns)
        else:
            self.cluster.workloads.start_servers(rt.key, c["name"], wl.kind, list(wl.ports), name, rt.net.ip,
                                                 rt.net.netns)

    def stop_pod(self, key: str) -> None:
        """Stop the containers, then the CNI DEL: veth gone, namespace unpinned, IP released."""
        rt = self.pods.pop(key, None)
        if rt is None:
            return
        self.cluster.workloads.stop(key)
        self.cluster.fabric.remove_pod(rt.net)
        self.cluster.ipam[rt.net.node].release(rt.net.ip)
        shutil.rmtree(rt.dir, ignore_errors=True)

    # -- status ------------------------------------------------------------
    def _refresh_status(self, pod: dict) -> bool:
        """Recompute containerStatuses and the Ready condition; return True when readiness changed."""
        key = f"{pod['metadata']['namespace']}/{pod['metadata']['name']}"
        rt = self.pods.get(key)
        if rt is None:
            return False
        status = pod["status"]
        old_ready = self.is_ready(pod)
        old = {s["name"]: s for s in status.get("containerStatuses", [])}
        statuses = []
        for c in pod["spec"]["containers"]:
            prev = old.get(c["name"], {})
            alive = self.cluster.workloads.alive(key, c["name"])
            probe = rt.probes.get(c["name"])
            ready = alive and (probe is None or probe.successes >= int(probe.spec.get("successThreshold", 1)))
            if probe is not None and alive and prev.get("ready") and probe.failures == 0:
                ready = True
            s = {"name": c["name"], "image": c.get("image", ""), "imageID": "", "containerID":
                 f"sandbox://{pod['metadata']['uid'][:8]}-{c['name']}", "ready": ready,
                 "restartCount": prev.get("restartCount", 0), "started": alive}
            if alive:
                s["state"] = {"running": {"startedAt": prev.get("state", {}).get("running", {}).get(
                    "startedAt", status.get("startTime"))}}
            elif (key, c["name"]) in self.cluster.notes:  # the container could not even start
                s["state"] = {"waiting": {"reason": "RunContainerError",
                                          "message": self.cluster.notes[(key, c["name"])]}}
            elif c["name"] in rt.restart_at:
                s["state"] = {"waiting": {"reason": "CrashLoopBackOff"}}
            else:
                code = self.cluster.workloads.exit_code(key, c["name"])
                s["state"] = {"terminated": {"exitCode": code, "reason": "Completed" if code == 0 else "Error"}}
            statuses.append(s)
        status["containerStatuses"] = statuses
        all_ready = bool(statuses) and all(s["ready"] for s in statuses)
        t = rfc3339(time.time())
        prev_conditions = {c["type"]: c for c in status.get("conditions", [])}

        def cond(kind: str, value: bool) -> dict:
            p = prev_conditions.get(kind)
            v = "True" if value else "False"
            return p if p and p["status"] == v else {"type": kind, "status": v, "lastProbeTime": None,
                                                     "lastTransitionTime": t}
        status["conditions"] = [cond("PodReadyToStartContainers", True), cond("Initialized", True),
                                cond("Ready", all_ready), cond("ContainersReady", all_ready), cond("PodScheduled", True)]
        return old_ready != all_ready

    def settled(self, key: str) -> bool:
        """Whether every readiness probe of a running pod has given its first answer."""
        rt = self.pods.get(key)
        return rt is None or all(p.runs > 0 for p in rt.probes.values())

    @staticmethod
    def is_ready(pod: dict) -> bool:
        """The pod's Ready condition."""
        return any(c["type"] == "Ready" and c["status"] == "True" for c in (pod.get("status") or {}).get("conditions", []))

    # -- probes and restarts -------------------------------------------------
    def start(self) -> None:
        """Start the probe/restart loop."""
        self.thread.start()

    def _loop(self) -> None:
        while not self.stopping.wait(0.2):
            try:
                self.tick()
            except Exception as e:  # keep probing; the error goes to the supervisor log
                print(f"kubelet: {e!r}", flush=True)

    def tick(self) -> None:
        """Run due readiness probes and restart exited containers."""
        now = time.time()
        due: list[tuple[dict, dict, ProbeState, PodRuntime]] = []
        with self.cluster.lock:
            for key, rt in list(self.pods.items()):
                pod = self.cluster.store.get("Pod", *key.split("/", 1))
                if pod is None:
                    continue
                for c in pod["spec"]["containers"]:
                    name = c["name"]
                    if not self.cluster.workloads.alive(key, name) and name not in rt.restart_at:
                        if pod["spec"].get("restartPolicy", "Always") == "Never" or (
                                pod["spec"].get("restartPolicy") == "OnFailure"
                                and self.cluster.workloads.exit_code(key, name) == 0):
                            continue
                        restarts = next((s["restartCount"] for s in pod["status"]["containerStatuses"]
                                         if s["name"] == name), 0)
                        rt.restart_at[name] = now + min(300.0, 10.0 * (2 ** restarts))
                        self._changed(pod)
                    elif name in rt.restart_at and now >= rt.restart_at[name]:
                        del rt.restart_at[name]
                        for s in pod["status"]["containerStatuses"]:
                            if s["name"] == name:
                                s["restartCount"] += 1
                                s.pop("state", None)
                        self.cluster.workloads.stop(key, name)
                        self._start_container(pod, rt, c)
                        if name in rt.probes:
                            rt.probes[name].successes = 0
                        self._changed(pod)
                    state = rt.probes.get(name)
                    if state and now >= state.due:
                        state.due = now + float(state.spec.get("periodSeconds", 10))
                        due.append((pod, c, state, rt))
        for pod, c, state, rt in due:
            ok = self.run_probe(pod, c, state.spec, rt)
            with self.cluster.lock:
                state.runs += 1
                if ok:
                    state.successes, state.failures = state.successes + 1, 0
                else:
                    state.failures += 1
                    if state.failures >= int(state.spec.get("failureThreshold", 3)):
                        state.successes = 0
                if self.cluster.store.get("Pod", *rt.key.split("/", 1)) is pod:
                    self._changed(pod)

    def _changed(self, pod: dict) -> None:
        if self._refresh_status(pod):
            self.cluster.readiness_changed(pod)

    def run_probe(self, pod: dict, c: dict, spec: dict, rt: PodRuntime) -> bool:
        """One readiness probe, sent for real from the pod's node like the kubelet does."""
        timeout = float(spec.get("timeoutSeconds", 1))
        node_ns = self.cluster.fabric.nodes[rt.net.node].netns
        if "exec" in spec:
            try:
                proc = subprocess.run(spec["exec"]["command"], capture_output=True, timeout=timeout,
                                      env=self.env(pod, c), preexec_fn=self.setup_for(pod, c))
                return proc.returncode == 0
            except (OSError, subprocess.TimeoutExpired):
                return False
        action = spec.get("tcpSocket") or spec.get("httpGet") or {}
        port = self.cluster.resolve_port(c, action.get("port"))
        host = action.get("host") or rt.net.ip
        with nsutil.netns(node_ns):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            sock.connect((host, port))
            if "httpGet" in spec:
                path = spec["httpGet"].get("path", "/")
                sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUser-Agent: kube-probe/1.37\r\n"
                             "Connection: close\r\n\r\n".encode())
                head = sock.recv(64).decode("latin-1")
                code = int(head.split(" ")[1]) if head.startswith("HTTP/") else 0
                return 200 <= code < 400
            return True
        except (OSError, ValueError, IndexError):
            return False
        finally:
            sock.close()

    # -- exec ----------------------------------------------------------------
    def exec(self, argv: list[str], *, setup: Callable[[], None], env: dict[str, str], timeout: float) -> CommandResult:
        """Run a host binary inside the given namespaces, bounded in time."""
        if not shutil.which(argv[0], path=env.get("PATH")) and not os.path.isabs(argv[0]):
            return CommandResult(argv, 127, "", _('error: "{program}" is not installed on this machine: the sandbox'
                                                  " runs the host's own tools inside pods and nodes (see `k8snet"
                                                  " doctor`)").format(program=argv[0]) + "\n")
        try:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    env=env, preexec_fn=setup)
        except OSError as e:
            return CommandResult(argv, 126, "", _("error: cannot run {program}: {error}").format(program=argv[0],
                                                                                               error=e) + "\n")
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # the command's own session: only what we started
            out, err = proc.communicate()
            err += ("\n" + _("error: command timed out after {seconds} s and was stopped").format(
                seconds=f"{timeout:g}") + "\n").encode()
            return CommandResult(argv, 124, out.decode(errors="replace"), err.decode(errors="replace"))
        return CommandResult(argv, proc.returncode, out.decode(errors="replace"), err.decode(errors="replace"))

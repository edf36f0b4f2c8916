"""The sandbox backend, client side: starts the lab's supervisor under `unshare` and talks to it over its socket."""
from __future__ import annotations

import json
import os
import platform
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from .. import errors
from ..i18n import N_, _, language, ngettext
from ..results import CommandResult, ProbeResult, Status
from .base import Backend, Capabilities, Detection, Progress, no_progress

UNSHARE = ["unshare", "--mount", "--net", "--pid", "--fork", "--mount-proc", "--kill-child"]
START_TIMEOUT = 60.0
SETTLE_TIMEOUT = 30.0


def runtime_dir() -> Path:
    """Where labs keep their socket and log: $XDG_RUNTIME_DIR/k8snet, else /tmp/k8snet-<uid>."""
    base = os.environ.get("XDG_RUNTIME_DIR")
    if base and os.path.isdir(base) and os.access(base, os.W_OK):
        return Path(base) / "k8snet"
    return Path(f"/tmp/k8snet-{os.getuid()}")


def absolute_file_args(args: list[str]) -> list[str]:
    """Make `-f PATH` arguments absolute: the supervisor does not share the caller's working folder."""
    out, expect = [], False
    for arg in args:
        if expect and arg != "-":
            arg = os.path.abspath(arg)
        elif arg.startswith(("-f=", "--filename=")):
            flag, _, path = arg.partition("=")
            arg = f"{flag}={os.path.abspath(path)}"
        expect = arg in ("-f", "--filename")
        out.append(arg)
    return out


def _gone(pid: int, seconds: float) -> bool:
    """Wait (bounded) for a process we started to end, reaping it if it is our child."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not Path(f"/proc/{pid}").exists():
            return True
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        time.sleep(0.05)
    return not Path(f"/proc/{pid}").exists()


class SandboxBackend(Backend):
    """A cluster's data plane in unprivileged namespaces, run by a per-lab supervisor process."""

    name = "sandbox"
    capabilities = Capabilities(
        service_types=frozenset({"ClusterIP", "NodePort", "LoadBalancer", "ExternalName", "headless"}),
        proxy_modes=frozenset({"iptables", "nftables"}),
        network_policy=True,
        ingress=False,
        load_balancer=True,
        notes={"ipvs": N_("this kernel has no IPVS inside an unprivileged namespace")},
    )

    def __init__(self, config, *, context: str | None = None) -> None:
        super().__init__(config, context=context)
        self.state = runtime_dir() / config.name
        self.sock = self.state / "supervisor.sock"
        self.pidfile = self.state / "unshare.pid"
        self.logfile = self.state / "supervisor.log"

    @classmethod
    def detect(cls) -> Detection:
        """Linux, the `unshare` and `ip` tools, and unprivileged user namespaces."""
        if platform.system() != "Linux":
            return Detection(False, _("the sandbox needs Linux network namespaces"))
        for tool in ("unshare", "ip"):
            if shutil.which(tool) is None:
                return Detection(False, _("the `{tool}` tool is missing (apt-get install util-linux iproute2)").format(
                    tool=tool))
        try:
            probe = subprocess.run(["unshare", "--user", "--map-root-user", "--net", "true"], capture_output=True,
                                   timeout=10)
        except (OSError, subprocess.TimeoutExpired) as e:
            return Detection(False, _("cannot create a user namespace: {error}").format(error=e))
        if probe.returncode != 0:
            return Detection(False, _("this kernel does not let an ordinary user create user namespaces ({error});"
                                      " try `sysctl kernel.unprivileged_userns_clone=1`").format(
                error=probe.stderr.decode().strip()))
        return Detection(True, _("Linux user and network namespaces are available"))

    # -- talking to the supervisor ------------------------------------------------
    def call(self, op: str, *, timeout: float = 120, **args):
        """Send one request to the supervisor and return its result (or raise its error).

        The request carries the caller's language: the supervisor answers (errors, probe details) in it.
        """
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(timeout)
                s.connect(str(self.sock))
                s.sendall((json.dumps({"op": op, "args": args, "lang": language()}) + "\n").encode())
                data = b""
                while not data.endswith(b"\n"):
                    chunk = s.recv(1 << 20)
                    if not chunk:
                        break
                    data += chunk
        except (FileNotFoundError, ConnectionRefusedError, ConnectionResetError, BrokenPipeError):
            raise errors.LabNotRunning(_("the sandbox lab {name} is not running").format(name=repr(self.config.name)),
                                       hint=_("start it with `k8snet up` (or Lab.up() in a notebook)")) from None
        except socket.timeout:
            raise errors.EnvironmentProblem(_("the sandbox lab {name} did not answer within {seconds} s; its log is"
                                              " {log}").format(name=repr(self.config.name), seconds=f"{timeout:g}",
                                                               log=self.logfile)) from None
        if not data:
            raise errors.EnvironmentProblem(_("the sandbox lab {name} closed the connection; see {log}").format(
                name=repr(self.config.name), log=self.logfile))
        resp = json.loads(data)
        if resp["ok"]:
            return resp["result"]
        err = resp["error"]
        cls = getattr(errors, err["type"], errors.K8snetError)
        raise cls(err["message"], hint=err.get("hint"))

    def running(self) -> bool:
        """Whether the supervisor answers."""
        try:
            self.call("ping", timeout=5)
            return True
        except errors.K8snetError:
            return False

    # -- lifecycle ---------------------------------------------------------------
    def up(self, progress: Progress = no_progress) -> str:
        """Start the lab's supervisor under `unshare` (a no-op when it already answers) and wait until it serves."""
        if self.running():
            return _("sandbox lab {name} is already running: nothing to do").format(name=repr(self.config.name))
        self._clean_stale()
        self.state.mkdir(parents=True, exist_ok=True, mode=0o700)
        # The launcher makes the user namespace (with as many IDs as this user may map), `unshare` the rest.
        cmd = [sys.executable, "-m", "k8snet_tutorial.sandbox.launcher", "--", *UNSHARE,
               sys.executable, "-m", "k8snet_tutorial.sandbox.supervisor", "--name", self.config.name,
                         "--state", str(self.state), "--host-netns", str(os.stat("/proc/self/ns/net").st_ino)]
        if self.config.path:
            cmd += ["--config", str(Path(self.config.path).resolve())]
        progress(ngettext("starting sandbox lab {name} ({n} node)…", "starting sandbox lab {name} ({n} nodes)…",
                          len(self.config.nodes)).format(name=repr(self.config.name), n=len(self.config.nodes)))
        env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]) + os.pathsep
                   + os.environ.get("PYTHONPATH", ""))
        with open(self.logfile, "wb") as log:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True, env=env)
        self.pidfile.write_text(f"{proc.pid}\n{shlex.join(cmd)}\n")
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                tail = self.logfile.read_text(errors="replace")[-2000:]
                self._clean_stale()
                raise errors.EnvironmentProblem(_("the sandbox supervisor exited during start-up (status {status}):")
                                                .format(status=proc.returncode) + f"\n{tail}")
            if self.sock.exists() and self.running():
                nodes = ", ".join(n.name for n in self.config.nodes)
                return _("sandbox lab {name} is up: {nodes} (kube-proxy mode {mode})").format(
                    name=repr(self.config.name), nodes=nodes, mode=self.config.proxy_mode)
            time.sleep(0.05)
        self._kill(proc.pid)
        raise errors.EnvironmentProblem(_("the sandbox lab did not start within {seconds} s; see {log}").format(
            seconds=f"{START_TIMEOUT:g}", log=self.logfile))

    def down(self) -> str:
        """Stop the supervisor (or a stuck one, by the exact PID this backend recorded) and remove the lab's state."""
        found = []
        pid = self._recorded_pid()
        if self.running():
            self.call("shutdown", timeout=30)
            found.append(_("a running supervisor"))
        if pid is not None and self._is_ours(pid):
            self._wait_or_kill(pid)
            if not found:
                found.append(_("a stuck supervisor (pid {pid}), stopped").format(pid=pid))
        if self.state.exists():
            shutil.rmtree(self.state, ignore_errors=True)
            if not found:
                found.append(_("state left by a crashed lab, removed"))
        if not found:
            return _("sandbox lab {name} was not running: nothing to do").format(name=repr(self.config.name))
        return _("sandbox lab {name} is down ({what})").format(name=repr(self.config.name), what="; ".join(found))

    def reset(self, progress: Progress = no_progress) -> str:
        """A fresh lab is cheaper than cleaning one: stop it and start it again (names and IPs start over)."""
        self.down()
        return self.up(progress)

    def _recorded_pid(self) -> int | None:
        try:
            return int(self.pidfile.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def _is_ours(self, pid: int) -> bool:
        """The pid still runs the exact unshare command this backend started (never a lookalike)."""
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            recorded = shlex.split(self.pidfile.read_text().split("\n", 1)[1])
        except (OSError, IndexError, ValueError):
            return False
        return [c.decode() for c in cmdline if c] == recorded

    def _wait_or_kill(self, pid: int, grace: float = 10) -> None:
        if not _gone(pid, grace):
            self._kill(pid)

    @staticmethod
    def _kill(pid: int) -> None:
        """SIGTERM then SIGKILL to the unshare process; --kill-child takes the supervisor, pid 1 of the lab, with it."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                return
            if _gone(pid, 2):
                return

    def _clean_stale(self) -> None:
        pid = self._recorded_pid()
        if pid is not None and self._is_ours(pid):
            self._kill(pid)
        if self.state.exists():
            shutil.rmtree(self.state, ignore_errors=True)

    def status(self) -> Status:
        """Whether the lab answers, with its nodes and kube-proxy mode."""
        try:
            st = self.call("status", timeout=10)
        except errors.LabNotRunning:
            return Status(self.config.name, self.name, False)
        return Status(self.config.name, self.name, True, nodes=st["nodes"], proxy_mode=st["proxy_mode"])

    # -- objects ------------------------------------------------------------------
    def apply(self, objects: list[dict], progress: Progress = no_progress) -> list[str]:
        """Apply objects, then wait until every new pod's readiness probes have answered once."""
        lines = self.call("apply", objects=[dict(o) for o in objects],
                          sources=[getattr(o, "location", None) for o in objects])
        # Like `kubectl rollout status`: come back once every readiness probe has answered once.
        for key in self.call("settle", timeout=SETTLE_TIMEOUT + 10, within=SETTLE_TIMEOUT):
            progress(_("pod {pod} is not Ready yet").format(pod=key))
        return lines

    def delete(self, objects: list[dict]) -> list[str]:
        """Delete objects."""
        return self.call("delete", objects=[dict(o) for o in objects])

    def list_objects(self, kind: str, namespace: str | None = None, selector: str | None = None) -> list[dict]:
        """Objects of a kind, optionally filtered by a label selector."""
        items = self.call("list", kind=kind, namespace=namespace)
        if selector:
            from ..labels import parse_selector, selector_matches
            reqs = parse_selector(selector)
            items = [o for o in items if selector_matches(reqs, o["metadata"].get("labels") or {})]
        return items

    def kubectl(self, args: list[str]) -> CommandResult:
        """Answer kubectl through the sandbox's view (file paths made absolute for the supervisor)."""
        return CommandResult(**self.call("kubectl", args=absolute_file_args(args)))

    def exec(self, pod: str | None, command: list[str], *, namespace: str = "default", container: str | None = None,
             node: str | None = None, timeout: float = 30) -> CommandResult:
        """Run a command in a pod's or a node's namespaces."""
        return CommandResult(**self.call("exec", timeout=timeout + 10, command=list(command), pod=pod,
                                         namespace=namespace, container=container, node=node, exec_timeout=timeout))

    def kill(self, pod: str, *, namespace: str = "default", container: str | None = None) -> str:
        """Crash a container on purpose."""
        return self.call("kill", pod=pod, namespace=namespace, container=container)

    def probe(self, source: str, target: str, *, namespace: str = "default", port: int | None = None,
              protocol: str = "tcp", timeout: float = 2.0) -> ProbeResult:
        """Send a real connection from a pod and report what happened."""
        return ProbeResult(**self.call("probe", timeout=timeout + 30, source=source, target=target,
                                       namespace=namespace, port=port, protocol=protocol, probe_timeout=timeout))

"""The lab's supervisor: pid 1 of the lab's namespaces, serving the control plane over a Unix socket."""
from __future__ import annotations

import argparse
import json
import os
import signal
import socketserver
import sys
import threading
import traceback

from .. import errors
from ..config import load_config
from ..i18n import _, using
from . import nsutil
from .rpc import Handlers


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    request_queue_size = 256  # the matrix sends many probes at once


def serve(name: str, config_path: str | None, state: str, host_netns: int) -> int:
    """Build the cluster inside the lab's namespaces, then answer requests until asked to stop."""
    if os.stat("/proc/self/ns/net").st_ino == host_netns:
        print("refusing to start: this process is in the host's network namespace", file=sys.stderr)
        return 3
    lab_dir = os.path.join(state, "lab")
    os.makedirs(lab_dir, exist_ok=True)
    nsutil.mount("tmpfs", lab_dir, "tmpfs", 0, "mode=0700")  # visible inside the lab only
    from .cluster import Cluster  # imported after the namespaces are ours
    cluster = Cluster(load_config(config_path, name=name), lab_dir)
    cluster.boot()
    handlers = Handlers(cluster)
    stop = threading.Event()
    handlers.on_shutdown = stop.set

    class Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            line = self.rfile.readline()
            req: dict = {}
            try:
                req = json.loads(line)
                # Messages made while handling this request (errors, probe details) speak the caller's language,
                # for this thread only: other callers may be served in another language at the same time.
                with using(req.get("lang")):
                    result = handlers.dispatch(req["op"], req.get("args") or {})
                resp = {"ok": True, "result": result}
            except errors.K8snetError as e:
                resp = {"ok": False, "error": {"type": type(e).__name__, "message": e.message, "hint": e.hint}}
            except Exception as e:  # a bug: report it whole rather than hang the caller
                traceback.print_exc()
                with using(req.get("lang") if isinstance(req, dict) else None):
                    message = _("sandbox supervisor error: {error}").format(error=repr(e))
                resp = {"ok": False, "error": {"type": "K8snetError", "message": message, "hint": None}}
            self.wfile.write((json.dumps(resp) + "\n").encode())

    sock_path = os.path.join(state, "supervisor.sock")
    if os.path.exists(sock_path):
        os.unlink(sock_path)
    server = _Server(sock_path, Handler)
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    threading.Thread(target=server.serve_forever, name="rpc", daemon=True).start()
    print("ready", flush=True)
    stop.wait()
    server.shutdown()
    cluster.shutdown()
    os.unlink(sock_path)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point, run under `unshare` by the sandbox backend."""
    p = argparse.ArgumentParser(prog="k8snet-supervisor")
    p.add_argument("--name", required=True)
    p.add_argument("--config")
    p.add_argument("--state", required=True)
    p.add_argument("--host-netns", type=int, required=True)
    a = p.parse_args(argv)
    return serve(a.name, a.config, a.state, a.host_netns)


if __name__ == "__main__":
    sys.exit(main())

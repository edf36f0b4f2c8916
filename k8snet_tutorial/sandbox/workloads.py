"""The servers that stand in for containers: one asyncio loop serving every pod's sockets from their own namespaces."""
from __future__ import annotations

import asyncio
import collections
import os
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from . import nsutil


def greeting(pod: str, pod_ip: str, peer: tuple) -> str:
    """The line every stand-in server answers with: who answered, and which source address it saw."""
    return f"pod={pod} ip={pod_ip} client={peer[0]}:{peer[1]}\n"


class ContainerLog:
    """A container's log, kept in memory with a bound, like the kubelet's rotated files."""

    def __init__(self, limit: int = 2000) -> None:
        self.lines: collections.deque[str] = collections.deque(maxlen=limit)
        self.path: str | None = None  # set when a real process writes the log

    def write(self, line: str) -> None:
        """Append one line."""
        self.lines.append(line.rstrip("\n"))

    def text(self, tail: int | None = None) -> str:
        """The log's content, optionally only the last `tail` lines."""
        lines = list(self.lines)
        if self.path and os.path.exists(self.path):
            with open(self.path, errors="replace") as f:
                lines = f.read().splitlines() + lines
        if tail is not None:
            lines = lines[-tail:] if tail else []
        return "\n".join(lines) + ("\n" if lines else "")


class _Http(asyncio.Protocol):
    """A tiny HTTP/1.1 server: every path answers 200 with the greeting line; logs like nginx."""

    def __init__(self, pod: str, pod_ip: str, log: ContainerLog) -> None:
        self.pod, self.pod_ip, self.log = pod, pod_ip, log
        self.buf = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.peer = transport.get_extra_info("peername")

    def data_received(self, data: bytes) -> None:
        self.buf += data
        if b"\r\n\r\n" not in self.buf and b"\n\n" not in self.buf:
            if len(self.buf) > 65536:
                self.transport.close()
            return
        head = self.buf.split(b"\n", 1)[0].decode("latin-1").strip()
        agent = "-"
        for line in self.buf.decode("latin-1").split("\n")[1:]:
            if line.lower().startswith("user-agent:"):
                agent = line.split(":", 1)[1].strip()
        method = head.split(" ", 1)[0] if head else "GET"
        body = greeting(self.pod, self.pod_ip, self.peer).encode()
        payload = b"" if method == "HEAD" else body
        self.transport.write(
            b"HTTP/1.1 200 OK\r\nServer: k8snet-sandbox\r\nContent-Type: text/plain\r\n"
            + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + payload)
        stamp = time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime())
        self.log.write(f'{self.peer[0]} - - [{stamp}] "{head}" 200 {len(body)} "-" "{agent}"')
        self.transport.close()


class _Greeter(asyncio.Protocol):
    """A TCP listener for database-like images: greets with who it is, then holds the connection briefly."""

    def __init__(self, pod: str, pod_ip: str) -> None:
        self.pod, self.pod_ip = pod, pod_ip

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport.write(greeting(self.pod, self.pod_ip, transport.get_extra_info("peername")).encode())
        asyncio.get_running_loop().call_later(30, transport.close)

    def data_received(self, data: bytes) -> None:
        pass


class _Udp(asyncio.DatagramProtocol):
    """A UDP responder: every datagram gets the greeting back."""

    def __init__(self, pod: str, pod_ip: str) -> None:
        self.pod, self.pod_ip = pod, pod_ip

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: tuple) -> None:
        self.transport.sendto(greeting(self.pod, self.pod_ip, addr).encode(), addr)


@dataclass
class Running:
    """What runs for one container of one pod."""

    servers: list = field(default_factory=list)
    process: subprocess.Popen | None = None
    log: ContainerLog = field(default_factory=ContainerLog)


class WorkloadHost:
    """Owns the event loop thread that serves every pod's stand-in servers."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="workloads", daemon=True)
        self.thread.start()
        self.running: dict[tuple[str, str], Running] = {}

    def call(self, coro, timeout: float = 10):
        """Run a coroutine on the workload loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def start_servers(self, key: str, container: str, kind: str, ports: list[tuple[int, str]],
                      pod: str, pod_ip: str, netns: str) -> Running:
        """Open the container's listening sockets inside the pod's namespace and serve them."""
        run = self.running.setdefault((key, container), Running())

        async def start() -> None:
            loop = asyncio.get_running_loop()
            for port, proto in ports:
                with nsutil.netns(netns):  # the socket keeps the namespace it was born in
                    if proto == "UDP":
                        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    else:
                        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind(("0.0.0.0", port))
                sock.setblocking(False)
                if proto == "UDP":
                    transport, _ = await loop.create_datagram_endpoint(lambda: _Udp(pod, pod_ip), sock=sock)
                    run.servers.append(transport)
                elif proto == "TCP":
                    factory = (lambda: _Http(pod, pod_ip, run.log)) if kind == "http" else (lambda: _Greeter(pod, pod_ip))
                    sock.listen(128)
                    run.servers.append(await loop.create_server(factory, sock=sock))
        self.call(start())
        return run

    def start_process(self, key: str, container: str, argv: list[str], *, setup: Callable[[], None],
                      env: dict[str, str], log_path: str) -> Running:
        """Run a tools container's own command with the host's binaries, inside the pod's namespaces."""
        run = self.running.setdefault((key, container), Running())
        run.log.path = log_path
        with open(log_path, "ab") as out:
            run.process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                           env=env, preexec_fn=setup)
        return run

    def stop(self, key: str, container: str | None = None) -> None:
        """Close a pod's (or one container's) sockets and end its processes."""
        for (k, c), run in list(self.running.items()):
            if k != key or (container and c != container):
                continue
            self._close(run)
            if container is None:
                del self.running[(k, c)]

    def _close(self, run: Running) -> None:
        async def close() -> None:
            for s in run.servers:
                s.close()
            run.servers.clear()
        self.call(close())
        if run.process and run.process.poll() is None:
            os.killpg(run.process.pid, signal.SIGKILL)  # its own session, started by us: we know exactly whom we kill
            run.process.wait(5)

    def log(self, key: str, container: str) -> ContainerLog | None:
        """The log of a running container, if any."""
        run = self.running.get((key, container))
        return run.log if run else None

    def exit_code(self, key: str, container: str) -> int | None:
        """The exit status of a container's process once it has ended."""
        run = self.running.get((key, container))
        return run.process.poll() if run and run.process else None

    def alive(self, key: str, container: str) -> bool:
        """Whether the container's servers or process are still up."""
        run = self.running.get((key, container))
        if run is None:
            return False
        if run.process is not None:
            return run.process.poll() is None
        return bool(run.servers)

    def shutdown(self) -> None:
        """Stop everything and the loop."""
        for key, container in list(self.running):
            self.stop(key, container)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)

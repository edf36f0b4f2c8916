"""Probes: real connections opened from inside a pod's network namespace, and what came back."""
from __future__ import annotations

import errno
import re
import socket
import time

from ..results import ProbeResult
from ..i18n import _
from . import nsutil

_GREETING = re.compile(r"pod=(\S+) ip=(\S+) client=(\S+):(\d+)")


def send(netns: str, address: str, port: int, protocol: str = "TCP", timeout: float = 2.0) -> dict:
    """Open one connection (or send one datagram) from `netns` and classify the outcome."""
    proto = protocol.upper()
    with nsutil.netns(netns):  # the socket belongs to the namespace it was created in
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if proto == "UDP" else socket.SOCK_STREAM)
    sock.settimeout(timeout)
    start = time.monotonic()
    result: dict = {"outcome": "error", "latency_ms": None, "responder": None, "seen_source": None, "detail": ""}
    try:
        if proto == "UDP":
            sock.connect((address, port))
            sock.send(b"k8snet probe\n")
            data = sock.recv(512)
        else:
            sock.connect((address, port))
            result["latency_ms"] = (time.monotonic() - start) * 1000
            sock.sendall(f"GET / HTTP/1.0\r\nHost: {address}\r\nUser-Agent: k8snet-probe\r\n\r\n".encode())
            data = _read_some(sock)
        if result["latency_ms"] is None:
            result["latency_ms"] = (time.monotonic() - start) * 1000
        result["outcome"] = "connected"
        m = _GREETING.search(data.decode("latin-1"))
        if m:
            result["responder"], result["seen_source"] = m.group(1), m.group(3)
    except socket.timeout:
        result["outcome"], result["detail"] = "timeout", _("no answer within {seconds} s").format(seconds=f"{timeout:g}")
    except ConnectionRefusedError:
        result["outcome"], result["detail"] = "refused", _("connection refused (nothing listens there)")
    except OSError as e:
        if e.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
            result["outcome"], result["detail"] = "unreachable", e.strerror
        else:
            result["detail"] = str(e)
    finally:
        sock.close()
    return result


def resolve(netns: str, name: str, *, nameserver: str, search: list[str], ndots: int = 5,
            timeout: float = 2.0) -> tuple[str | None, str]:
    """Look a name up the way a pod's resolver does (search path, ndots), with real queries from the pod's namespace.

    Returns the first A record and the name that answered, or None and why not.
    """
    import dns.exception
    import dns.message
    import dns.query
    import dns.rcode
    import dns.rdatatype

    absolute = name.endswith(".")
    bare = name.rstrip(".")
    candidates = [bare] if absolute else (
        [f"{bare}.{d}" for d in search] + [bare] if bare.count(".") < ndots else [bare] + [f"{bare}.{d}" for d in search])
    last = _("no answer")
    for fqdn in candidates:
        with nsutil.netns(netns):
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.setblocking(False)
            q = dns.message.make_query(fqdn + ".", dns.rdatatype.A)
            r = dns.query.udp(q, nameserver, timeout=timeout, sock=sock)
        except dns.exception.Timeout:
            return None, _("the DNS server {server} did not answer within {seconds} s").format(
                server=nameserver, seconds=f"{timeout:g}")
        except OSError as e:
            return None, _("cannot reach the DNS server {server}: {error}").format(server=nameserver,
                                                                                  error=e.strerror or e)
        finally:
            sock.close()
        if r.rcode() == dns.rcode.NOERROR:
            for rrset in r.answer:
                if rrset.rdtype == dns.rdatatype.A:
                    return rrset[0].address, fqdn
            last = _("{name}: no A record").format(name=fqdn)
        else:
            last = f"{fqdn}: {dns.rcode.to_text(r.rcode())}"
    return None, last


def _read_some(sock: socket.socket, limit: int = 4096) -> bytes:
    """Read until the peer closes, the limit is reached, or the greeting line is complete."""
    data = b""
    try:
        while len(data) < limit:
            chunk = sock.recv(limit - len(data))
            if not chunk:
                break
            data += chunk
            if _GREETING.search(data.decode("latin-1")) and data.endswith(b"\n"):
                break
    except socket.timeout:
        pass  # connected, but the server said nothing: still a connection
    return data


def to_result(source: str, target: str, address: str, port: int, protocol: str, raw: dict) -> ProbeResult:
    """Wrap a raw probe outcome as a ProbeResult."""
    return ProbeResult(source=source, target=target, address=address, port=port, protocol=protocol.upper(),
                       outcome=raw["outcome"], responder=raw["responder"], seen_source=raw["seen_source"],
                       latency_ms=raw["latency_ms"], detail=raw["detail"])

"""The documented table that decides, from a container's image, what the sandbox runs for it."""
from __future__ import annotations

from dataclasses import dataclass

# image repository (last path element, without tag) -> (workload, default ports)
HTTP_IMAGES = {"nginx": (80,), "nginx-unprivileged": (8080,), "httpd": (80,), "caddy": (80,), "agnhost": (),
               "http-echo": (5678,), "echoserver": (8080,), "whoami": (80,), "podinfo": (9898,), "httpbin": (80,)}
TCP_IMAGES = {"postgres": (5432,), "postgresql": (5432,), "mysql": (3306,), "mariadb": (3306,), "redis": (6379,),
              "mongo": (27017,), "memcached": (11211,), "rabbitmq": (5672,)}
DNS_IMAGES = {"coredns": (53,)}
TOOL_IMAGES = {"busybox", "alpine", "netshoot", "curl", "ubuntu", "debian", "dnsutils", "toolbox", "nicolaka/netshoot"}


@dataclass(frozen=True)
class Workload:
    """What runs for a container: `http`, `tcp` (a listener that greets), `dns` (the cluster DNS), `tools` (its
    command only) or `listen` (a greeting listener on every declared port)."""

    kind: str
    ports: tuple[tuple[int, str], ...]  # (port, protocol)


def repository(image: str) -> str:
    """The image's repository name without registry, tag or digest: `docker.io/library/nginx:1.27` -> `nginx`."""
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    return last.split(":", 1)[0].lower()


def workload_for(image: str, declared: list[tuple[int, str]]) -> Workload:
    """Pick the workload for an image; declared containerPorts win over an image's default ports."""
    repo = repository(image)
    if repo in TOOL_IMAGES:
        return Workload("tools", tuple(declared))
    for table, kind in ((DNS_IMAGES, "dns"), (HTTP_IMAGES, "http"), (TCP_IMAGES, "tcp")):
        for key, defaults in table.items():
            if repo == key or repo.startswith(key + "-"):
                ports = tuple(declared) or tuple((p, "TCP") for p in defaults)
                return Workload(kind, ports)
    return Workload("listen", tuple(declared))

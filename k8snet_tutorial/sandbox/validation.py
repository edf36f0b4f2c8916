"""What the sandbox refuses: fields that would change behaviour but that it does not model."""
from __future__ import annotations

from ..errors import NotModelledError
from ..i18n import N_, _

# Translated where it is raised: hint=_(KIND_HINT).
KIND_HINT = N_("Run this on the kind backend (K8SNET_BACKEND=kind, or `k8snet up --backend kind`) to get it.")
_RISKY_CAPS = {"NET_ADMIN", "NET_RAW", "SYS_ADMIN", "NET_BIND_SERVICE", "ALL"}
SUPPORTED_VOLUMES = {"emptyDir", "configMap", "secret"}


def refuse(where: str, field: str, why: str) -> NotModelledError:
    """The error for a field the sandbox does not model (`why` is already in the learner's language)."""
    return NotModelledError(_("{where}: {field}: {what} — the sandbox does not model this.").format(
        where=where, field=field, what=why), hint=_(KIND_HINT))


def check_pod_spec(spec: dict, where: str, prefix: str = "spec") -> None:
    """Raise NotModelledError on the first pod-spec field the sandbox would otherwise silently ignore."""
    for flag in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(flag):
            raise refuse(where, f"{prefix}.{flag}", _("pods sharing the node's namespaces"))
    if spec.get("initContainers"):
        raise refuse(where, f"{prefix}.initContainers", _("init containers"))
    policy = spec.get("dnsPolicy", "ClusterFirst")
    if policy not in ("ClusterFirst", "None", "Default"):
        raise refuse(where, f"{prefix}.dnsPolicy", f"dnsPolicy {policy}")
    if spec.get("runtimeClassName"):
        raise refuse(where, f"{prefix}.runtimeClassName", _("runtime classes"))
    for v_i, vol in enumerate(spec.get("volumes") or []):
        kinds = set(vol) - {"name"}
        if not kinds <= SUPPORTED_VOLUMES:
            raise refuse(where, f"{prefix}.volumes[{v_i}]",
                         _("volume type {types} (emptyDir, configMap and secret are modelled)").format(
                             types=", ".join(sorted(kinds - SUPPORTED_VOLUMES))))
    for c_i, c in enumerate(spec.get("containers") or []):
        here = f"{prefix}.containers[{c_i}]"
        for p_i, port in enumerate(c.get("ports") or []):
            if port.get("hostPort"):
                raise refuse(where, f"{here}.ports[{p_i}].hostPort", _("host ports"))
            if str(port.get("protocol", "TCP")).upper() == "SCTP":
                raise refuse(where, f"{here}.ports[{p_i}].protocol", _("SCTP (this kernel has no SCTP in a namespace)"))
        caps = ((c.get("securityContext") or {}).get("capabilities") or {})
        for verb in ("add", "drop"):
            risky = sorted(set(caps.get(verb) or []) & _RISKY_CAPS)
            if risky:
                raise refuse(where, f"{here}.securityContext.capabilities.{verb}",
                             _("{capabilities} (every sandbox container runs the host's tools with full capabilities)")
                             .format(capabilities=", ".join(risky)))
        if (c.get("securityContext") or {}).get("privileged"):
            raise refuse(where, f"{here}.securityContext.privileged", _("privileged containers"))
        for probe in ("livenessProbe", "startupProbe"):
            if c.get(probe):
                raise refuse(where, f"{here}.{probe}", _("liveness and startup probes (readiness probes are modelled)"))
        rp = c.get("readinessProbe") or {}
        if rp and not ({"tcpSocket", "httpGet", "exec"} & set(rp)):
            raise refuse(where, f"{here}.readinessProbe", _("this probe type (tcpSocket, httpGet and exec are modelled)"))


def check_pod_annotations(meta: dict, where: str) -> None:
    """Refuse annotations that ask a CNI plugin for something the sandbox's plugin does not do."""
    for key in (meta.get("annotations") or {}):
        if key.startswith(("k8s.v1.cni.cncf.io/", "cni.projectcalico.org/", "kubernetes.io/ingress-bandwidth",
                           "kubernetes.io/egress-bandwidth")):
            raise refuse(where, f"metadata.annotations[{key}]", _("CNI-specific pod annotations"))

"""NetworkPolicy (networking.k8s.io/v1) evaluated from the policies alone: who may talk to whom, and why.

This is the lab's own evaluator, independent of any backend and of any packet: the matrix shows its
verdicts beside the observed ones, and the explainer names the policy, rule, peer and port that
allow a flow (or the default deny that drops it). Semantics follow the API exactly:

- a policy selects pods of its own namespace only (`podSelector: {}` selects all of them);
- `policyTypes` defaults to Ingress, plus Egress when the policy has egress rules;
- a pod selected for a direction is isolated in that direction: only what some rule of some
  selecting policy allows gets through (policies add up, none can deny what another allows);
- a rule without `from`/`to` matches every peer, a rule without `ports` every port and protocol;
- in a peer, `podSelector` alone means pods of the policy's namespace, `namespaceSelector` alone
  every pod of the selected namespaces, both together the selected pods of the selected namespaces;
- `ipBlock` matches by address, pod IPs included (as kind's kube-network-policies and the e2e suite do);
- a named port resolves against the destination pod's container ports, in both directions;
- a connection needs the source's egress AND the destination's ingress to allow it.
"""
from __future__ import annotations

import hashlib
import ipaddress
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Mapping, Sequence

from .labels import (DNS1123_SUBDOMAIN_RE, LABEL_NAME_RE, NAME_MSG, VALUE_MSG, SelectorError,
                     label_selector_matches)
from .errors import UsageError
from .i18n import _

PROTOCOLS = ("TCP", "UDP", "SCTP")
POLICY_TYPES = ("Ingress", "Egress")
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
COMMENT_MAX = 128  # nft refuses longer rule comments

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


# --------------------------------------------------------------------------------------------
# Inputs and results
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PodInfo:
    """What policies look at in a pod: namespace, name, labels, IP and named container ports."""

    namespace: str
    name: str
    labels: Mapping[str, str] = field(hash=False)
    ip: str
    ports: tuple[tuple[str, int, str], ...] = ()  # (name, containerPort, protocol)

    @property
    def key(self) -> str:
        """`namespace/name`."""
        return f"{self.namespace}/{self.name}"

    def named_port(self, name: str, protocol: str) -> int | None:
        """The containerPort called `name` with this protocol, or None."""
        for port_name, number, proto in self.ports:
            if port_name == name and (proto or "TCP").upper() == protocol:
                return int(number)
        return None


@dataclass(frozen=True)
class RuleRef:
    """One allow rule: policy, direction, rule index, and the peer and port entries that matched (None = absent)."""

    namespace: str
    policy: str
    direction: str  # "ingress" | "egress"
    rule: int
    peer: int | None = None
    port: int | None = None

    @property
    def comment(self) -> str:
        """`ns/policy ingress[0] from[1] ports[0]`: the text the netfilter rule carries, at most 128 characters."""
        return rule_comment(self.namespace, self.policy, self.direction, self.rule, self.peer, self.port)

    def __str__(self) -> str:
        return self.comment


@dataclass(frozen=True)
class Side:
    """One direction of a flow: which policies select the pod for it and which rules allow the flow."""

    direction: str  # "egress" (of the source) | "ingress" (of the destination)
    pod: str  # "ns/name", or the address when the endpoint is not a pod
    policies: tuple[str, ...] = ()  # "ns/name" of every policy selecting the pod for this direction
    allowed_by: tuple[RuleRef, ...] = ()  # every rule that allows the flow, in evaluation order
    external: bool = False  # the endpoint is an address outside the pods: no policy applies to it

    @property
    def isolated(self) -> bool:
        """Whether some policy selects the pod for this direction (so only what a rule allows passes)."""
        return bool(self.policies)

    @property
    def allowed(self) -> bool:
        """Whether this direction lets the flow through."""
        return not self.isolated or bool(self.allowed_by)

    @property
    def rule(self) -> RuleRef | None:
        """The first rule that allows the flow (the one whose netfilter counter the packet bumps)."""
        return self.allowed_by[0] if self.allowed_by else None

    @property
    def default_deny(self) -> tuple[str, ...]:
        """The policies whose implicit default deny drops the flow (empty when the flow passes)."""
        return () if self.allowed else self.policies

    def explain(self) -> str:
        """One sentence on this direction."""
        egress = self.direction == "egress"
        if self.external:
            text = _("egress from {pod}: not a pod, no NetworkPolicy applies") if egress else \
                _("ingress to {pod}: not a pod, no NetworkPolicy applies")
        elif not self.isolated:
            text = _("egress from {pod}: not isolated (no NetworkPolicy selects it for egress), allowed") if egress \
                else _("ingress to {pod}: not isolated (no NetworkPolicy selects it for ingress), allowed")
        elif self.allowed:
            text = _("egress from {pod}: allowed by {rule}") if egress else _("ingress to {pod}: allowed by {rule}")
        else:
            text = _("egress from {pod}: denied, no rule allows it; default deny of {policies} (selecting the pod"
                     " for egress)") if egress else \
                _("ingress to {pod}: denied, no rule allows it; default deny of {policies} (selecting the pod"
                  " for ingress)")
        return text.format(pod=self.pod, rule=self.rule, policies=", ".join(self.policies))


@dataclass(frozen=True)
class Verdict:
    """The evaluator's answer for one flow: allowed when both the source's egress and the destination's ingress allow."""

    allowed: bool
    egress: Side
    ingress: Side
    port: int = 0
    protocol: str = "TCP"

    @property
    def reason(self) -> str:
        """Why, in one line: the rule that allowed it, or the side and default deny that dropped it."""
        if self.allowed:
            rules = [str(s.rule) for s in (self.egress, self.ingress) if s.rule]
            if len(rules) == 2:
                return _("allowed by {rule} and {other}").format(rule=rules[0], other=rules[1])
            return _("allowed by {rule}").format(rule=rules[0]) if rules else \
                _("allowed: no policy isolates either end")
        side = self.egress if not self.egress.allowed else self.ingress
        text = _("denied at egress of {pod}: default deny of {policies}") if side.direction == "egress" else \
            _("denied at ingress of {pod}: default deny of {policies}")
        return text.format(pod=side.pod, policies=", ".join(side.default_deny))

    def __str__(self) -> str:
        head = f"{self.egress.pod} -> {self.ingress.pod} {self.protocol}/{self.port}: " \
               f"{_('ALLOWED') if self.allowed else _('DENIED')}"
        return "\n".join([head, "  " + self.egress.explain(), "  " + self.ingress.explain()])

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(str(self))


# --------------------------------------------------------------------------------------------
# Small helpers shared with the netfilter rule generator
# --------------------------------------------------------------------------------------------


def rule_comment(namespace: str, policy: str, direction: str, rule: int,
                 peer: int | None = None, port: int | None = None) -> str:
    """`ns/policy ingress[0] from[1] ports[0]`, the policy part shortened with a hash when over 128 characters."""
    peer_word = "from" if direction == "ingress" else "to"
    tail = f" {direction}[{rule}]"
    if peer is not None:
        tail += f" {peer_word}[{peer}]"
    if port is not None:
        tail += f" ports[{port}]"
    return shorten(f"{namespace}/{policy}", COMMENT_MAX - len(tail)) + tail


def shorten(text: str, limit: int) -> str:
    """`text` itself when it fits, else its head and an 8-hex-digit hash of the whole, `limit` characters long."""
    if len(text) <= limit:
        return text
    digest = hashlib.sha256(text.encode()).hexdigest()[:8]
    return text[:max(limit - 9, 0)] + "~" + digest


def policy_namespace(policy: Mapping) -> str:
    """The namespace a policy lives in (`default` when the manifest names none)."""
    return (policy.get("metadata") or {}).get("namespace") or "default"


def policy_name(policy: Mapping) -> str:
    """The policy's metadata.name."""
    return str((policy.get("metadata") or {}).get("name") or "")


def policy_types(policy: Mapping) -> tuple[str, ...]:
    """spec.policyTypes as the API server defaults it: Ingress, plus Egress when there are egress rules."""
    spec = policy.get("spec") or {}
    given = spec.get("policyTypes")
    if given:
        return tuple(given)
    return ("Ingress", "Egress") if spec.get("egress") else ("Ingress",)


def sorted_policies(policies: Iterable[Mapping]) -> list[Mapping]:
    """Policies in a stable order: by namespace, then name."""
    return sorted(policies, key=lambda p: (policy_namespace(p), policy_name(p)))


def selector_matches(selector: Mapping | None, labels: Mapping[str, str]) -> bool:
    """LabelSelector semantics: matchLabels AND matchExpressions; `{}` matches everything, None nothing."""
    try:
        return label_selector_matches(dict(selector) if selector is not None else None, dict(labels))
    except SelectorError:
        return False  # validate_policy rejects unknown operators before a policy is ever enforced


def namespace_labels(namespaces: Mapping[str, Mapping[str, str]], name: str) -> dict[str, str]:
    """A namespace's labels, with the `kubernetes.io/metadata.name` label the API server always sets."""
    labels = dict(namespaces.get(name) or {})
    labels.setdefault(NAMESPACE_NAME_LABEL, name)
    return labels


def selects(policy: Mapping, pod: PodInfo) -> bool:
    """Whether a policy's podSelector selects this pod (never a pod of another namespace)."""
    if pod.namespace != policy_namespace(policy):
        return False
    return selector_matches((policy.get("spec") or {}).get("podSelector") or {}, pod.labels)


def parse_cidr(text: str) -> IPNetwork:
    """A CIDR as the API server reads it (Go's ParseCIDR: host bits allowed and cleared, IPv4 leading zeros tolerated)."""
    text = str(text).strip()
    addr, slash, length = text.partition("/")
    if not slash or not length.isdigit():
        raise ValueError(f"invalid CIDR {text!r}")
    if ":" not in addr and re.fullmatch(r"\d+(\.\d+){3}", addr):
        addr = ".".join(str(int(part)) for part in addr.split("."))
    return ipaddress.ip_network(f"{addr}/{int(length)}", strict=False)


def ip_block_matches(block: Mapping, ip: str) -> bool:
    """Whether an address lies in the block's cidr and in none of its excepts."""
    try:
        addr = ipaddress.ip_address(ip)
        if addr not in parse_cidr(block.get("cidr", "")):
            return False
        return not any(addr in parse_cidr(e) for e in block.get("except") or [])
    except ValueError:
        return False


def _is_int(value: Any) -> bool:
    """An int that is not a bool."""
    return isinstance(value, int) and not isinstance(value, bool)


def port_matches(entry: Mapping, port: int, protocol: str, dst: PodInfo | None) -> bool:
    """Whether a NetworkPolicyPort matches; a named port resolves against the destination pod (None: never)."""
    if str(entry.get("protocol") or "TCP") != protocol:
        return False
    want = entry.get("port")
    if want is None:
        return True
    if _is_int(want):
        end = entry.get("endPort")
        return port == want or (_is_int(end) and want <= port <= end)
    if dst is None:
        return False
    return dst.named_port(str(want), protocol) == port


def peer_matches(peer: Mapping, policy_ns: str, other: PodInfo | str,
                 namespaces: Mapping[str, Mapping[str, str]]) -> bool:
    """Whether a NetworkPolicyPeer of a policy in `policy_ns` matches a pod (or a bare address)."""
    if "ipBlock" in peer and peer["ipBlock"] is not None:
        return ip_block_matches(peer["ipBlock"], other.ip if isinstance(other, PodInfo) else other)
    if not isinstance(other, PodInfo):
        return False
    pod_sel, ns_sel = peer.get("podSelector"), peer.get("namespaceSelector")
    if pod_sel is None and ns_sel is None:
        return False  # an empty peer is invalid
    if ns_sel is None:
        ns_ok = other.namespace == policy_ns
    else:
        ns_ok = selector_matches(ns_sel, namespace_labels(namespaces, other.namespace))
    return ns_ok and (pod_sel is None or selector_matches(pod_sel, other.labels))


def rules_of(policy: Mapping, direction: str) -> list[Mapping]:
    """The policy's ingress or egress rules (an absent list is no rule)."""
    return list((policy.get("spec") or {}).get(direction) or [])


# --------------------------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------------------------


def _side(direction: str, pod: PodInfo, other: PodInfo | str, port: int, protocol: str,
          policies: Sequence[Mapping], namespaces: Mapping[str, Mapping[str, str]]) -> Side:
    """Evaluate one direction for `pod` (egress: `other` is the destination; ingress: the source)."""
    ptype = "Egress" if direction == "egress" else "Ingress"
    peer_key = "to" if direction == "egress" else "from"
    dst = other if direction == "egress" else pod
    dst_pod = dst if isinstance(dst, PodInfo) else None
    selecting: list[str] = []
    allowed: list[RuleRef] = []
    for policy in sorted_policies(policies):
        if ptype not in policy_types(policy) or not selects(policy, pod):
            continue
        ns, name = policy_namespace(policy), policy_name(policy)
        selecting.append(f"{ns}/{name}")
        for r_i, rule in enumerate(rules_of(policy, direction)):
            rule = rule or {}
            peers = rule.get(peer_key) or []
            ports = rule.get("ports") or []
            peer_i = None
            if peers:
                peer_i = next((i for i, p in enumerate(peers) if peer_matches(p or {}, ns, other, namespaces)), -1)
                if peer_i < 0:
                    continue
            port_i = None
            if ports:
                port_i = next((i for i, p in enumerate(ports) if port_matches(p or {}, port, protocol, dst_pod)), -1)
                if port_i < 0:
                    continue
            allowed.append(RuleRef(ns, name, direction, r_i, peer_i, port_i))
    return Side(direction, pod.key, tuple(selecting), tuple(allowed))


def _protocol(protocol: str) -> str:
    """TCP, UDP or SCTP from any case; UsageError otherwise."""
    proto = str(protocol).upper()
    if proto not in PROTOCOLS:
        raise UsageError(f"unknown protocol {protocol!r}: use TCP, UDP or SCTP")
    return proto


def evaluate(src: PodInfo, dst: PodInfo, port: int, protocol: str, policies: Sequence[Mapping],
             namespaces: Mapping[str, Mapping[str, str]]) -> Verdict:
    """Whether `src` may open a connection to `dst` on port/protocol, and which rules decide it."""
    proto = _protocol(protocol)
    egress = _side("egress", src, dst, port, proto, policies, namespaces)
    ingress = _side("ingress", dst, src, port, proto, policies, namespaces)
    return Verdict(egress.allowed and ingress.allowed, egress, ingress, port, proto)


def evaluate_to_ip(src: PodInfo, ip: str, port: int, protocol: str, policies: Sequence[Mapping],
                   namespaces: Mapping[str, Mapping[str, str]]) -> Verdict:
    """Egress of a pod to an address that is no pod (only ipBlock peers and peer-less rules can allow it)."""
    proto = _protocol(protocol)
    egress = _side("egress", src, ip, port, proto, policies, namespaces)
    return Verdict(egress.allowed, egress, Side("ingress", ip, external=True), port, proto)


def evaluate_from_ip(ip: str, dst: PodInfo, port: int, protocol: str, policies: Sequence[Mapping],
                     namespaces: Mapping[str, Mapping[str, str]]) -> Verdict:
    """Ingress to a pod from an address that is no pod (only ipBlock peers and peer-less rules can allow it)."""
    proto = _protocol(protocol)
    ingress = _side("ingress", dst, ip, port, proto, policies, namespaces)
    return Verdict(ingress.allowed, Side("egress", ip, external=True), ingress, port, proto)


# --------------------------------------------------------------------------------------------
# Validation (k8s.io/kubernetes/pkg/apis/networking/validation, with the API server's texts)
# --------------------------------------------------------------------------------------------

_PORT_NAME_CHARS = re.compile(r"^[-a-z0-9]+$")
_SUBDOMAIN_MSG = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
                  "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
                  "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
_CIDR_MSG = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"


def _show(value: Any) -> str:
    """A value as field.Invalid prints it: strings quoted, numbers bare."""
    if isinstance(value, str):
        return '"' + value.replace('"', '\\"') + '"'
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _label_key_errors(key: Any) -> list[str]:
    """Why a label key is not a qualified name (IsQualifiedName), empty when it is one."""
    key = str(key)
    prefix, slash, name = key.rpartition("/")
    if not slash:
        prefix, name = "", key
    errors = []
    if slash and not prefix:
        errors.append("prefix part must be non-empty")
    elif prefix and (len(prefix) > 253 or not DNS1123_SUBDOMAIN_RE.match(prefix)):
        errors.append("prefix part " + _SUBDOMAIN_MSG)
    if not name:
        errors.append("name part must be non-empty")
    elif len(name) > 63:
        errors.append("name part must be no more than 63 characters")
    elif not LABEL_NAME_RE.match(name):
        errors.append(NAME_MSG)
    return errors


def _label_value_errors(value: Any) -> list[str]:
    """Why a label value is invalid (IsValidLabelValue), empty when it is valid."""
    value = str(value)
    errors = []
    if len(value) > 63:
        errors.append("must be no more than 63 characters")
    if value and not LABEL_NAME_RE.match(value):
        errors.append(VALUE_MSG)
    return errors


def _port_name_errors(name: str) -> list[str]:
    """IsValidPortName: an IANA_SVC_NAME."""
    errors = []
    if len(name) > 15:
        errors.append("must be no more than 15 characters")
    if not _PORT_NAME_CHARS.match(name):
        errors.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if not re.search(r"[a-z]", name):
        errors.append("must contain at least one letter (a-z)")
    if "--" in name:
        errors.append("must not contain consecutive hyphens")
    if name and (name[0] == "-" or name[-1] == "-"):
        errors.append("must not begin or end with a hyphen")
    return errors


def _selector_errors(selector: Any, path: str) -> Iterator[str]:
    """ValidateLabelSelector: matchLabels keys and values, matchExpressions operators, keys and values."""
    if not isinstance(selector, Mapping):
        yield f"{path}: Invalid value: {_show(selector)}: must be a label selector (matchLabels, matchExpressions)"
        return
    for key, value in (selector.get("matchLabels") or {}).items():
        for msg in _label_key_errors(key):
            yield f"{path}.matchLabels: Invalid value: {_show(str(key))}: {msg}"
        for msg in _label_value_errors(value):
            yield f"{path}.matchLabels: Invalid value: {_show(str(value))}: {msg}"
    for i, expr in enumerate(selector.get("matchExpressions") or []):
        here = f"{path}.matchExpressions[{i}]"
        expr = expr or {}
        op, values = expr.get("operator"), expr.get("values") or []
        if op in ("In", "NotIn"):
            if not values:
                yield f"{here}.values: Required value: must be specified when `operator` is 'In' or 'NotIn'"
        elif op in ("Exists", "DoesNotExist"):
            if values:
                yield f"{here}.values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'"
        else:
            yield f"{here}.operator: Invalid value: {_show(op)}: not a valid selector operator"
        for msg in _label_key_errors(expr.get("key", "")):
            yield f"{here}.key: Invalid value: {_show(str(expr.get('key', '')))}: {msg}"
        for v_i, value in enumerate(values):
            for msg in _label_value_errors(value):
                yield f"{here}.values[{v_i}]: Invalid value: {_show(str(value))}: {msg}"


def _port_errors(entry: Any, path: str) -> Iterator[str]:
    """ValidateNetworkPolicyPort."""
    if not isinstance(entry, Mapping):
        yield f"{path}: Invalid value: {_show(entry)}: must be an object (protocol, port, endPort)"
        return
    proto = entry.get("protocol")
    if proto is not None and proto not in PROTOCOLS:
        yield f'{path}.protocol: Unsupported value: {_show(proto)}: supported values: "TCP", "UDP", "SCTP"'
    port, end = entry.get("port"), entry.get("endPort")
    if end is not None and not _is_int(end):
        yield f"{path}.endPort: Invalid value: {_show(end)}: must be an integer"
        end = None
    if port is None:
        if end is not None:
            yield f"{path}.endPort: Invalid value: {end}: may not be specified when `port` is not specified"
    elif _is_int(port):
        if not 1 <= port <= 65535:
            yield f"{path}.port: Invalid value: {port}: must be between 1 and 65535, inclusive"
        if end is not None:
            if end < port:
                yield f"{path}.endPort: Invalid value: {end}: must be greater than or equal to `port`"
            if not 1 <= end <= 65535:
                yield f"{path}.endPort: Invalid value: {end}: must be between 1 and 65535, inclusive"
    elif isinstance(port, str):
        if end is not None:
            yield f"{path}.endPort: Invalid value: {end}: may not be specified when `port` is non-numeric"
        for msg in _port_name_errors(port):
            yield f"{path}.port: Invalid value: {_show(port)}: {msg}"
    else:
        yield f"{path}.port: Invalid value: {_show(port)}: must be a port number or a port name"


def _ip_block_errors(block: Any, path: str) -> Iterator[str]:
    """ValidateIPBlock: a valid cidr, and every except a strict subset of it."""
    if not isinstance(block, Mapping):
        yield f"{path}: Invalid value: {_show(block)}: must be an object (cidr, except)"
        return
    cidr_text = block.get("cidr") or ""
    if not cidr_text:
        yield f"{path}.cidr: Required value"
        return
    try:
        cidr = parse_cidr(cidr_text)
    except ValueError:
        yield f"{path}.cidr: Invalid value: {_show(str(cidr_text))}: {_CIDR_MSG}"
        return
    for i, text in enumerate(block.get("except") or []):
        here = f"{path}.except[{i}]"
        try:
            exc = parse_cidr(text)
        except ValueError:
            yield f"{here}: Invalid value: {_show(str(text))}: {_CIDR_MSG}"
            continue
        if exc.version != cidr.version or exc.network_address not in cidr or cidr.prefixlen >= exc.prefixlen:
            yield f"{here}: Invalid value: {_show(str(text))}: must be a strict subset of `cidr`"


def _peer_errors(peer: Any, path: str) -> Iterator[str]:
    """ValidateNetworkPolicyPeer: at least one selector, and ipBlock alone."""
    if not isinstance(peer, Mapping):
        yield f"{path}: Invalid value: {_show(peer)}: must be a peer (podSelector, namespaceSelector or ipBlock)"
        return
    count = 0
    for key in ("podSelector", "namespaceSelector"):
        if peer.get(key) is not None:
            count += 1
            yield from _selector_errors(peer[key], f"{path}.{key}")
    if peer.get("ipBlock") is not None:
        count += 1
        yield from _ip_block_errors(peer["ipBlock"], f"{path}.ipBlock")
    if count == 0:
        yield f"{path}: Required value: must specify a peer"
    elif count > 1 and peer.get("ipBlock") is not None:
        yield f"{path}: Forbidden: may not specify both ipBlock and another peer"


def policy_errors(policy: Mapping) -> list[str]:
    """Every field error the API server would report for this NetworkPolicy (ValidateNetworkPolicy)."""
    errors: list[str] = []
    meta = policy.get("metadata") or {}
    name = meta.get("name")
    if not name:
        errors.append("metadata.name: Required value: name or generateName is required")
    elif len(str(name)) > 253 or not DNS1123_SUBDOMAIN_RE.match(str(name)):
        errors.append(f"metadata.name: Invalid value: {_show(str(name))}: {_SUBDOMAIN_MSG}")
    spec = policy.get("spec")
    if not isinstance(spec, Mapping):
        errors.append("spec: Required value")
        return errors
    errors.extend(_selector_errors(spec.get("podSelector") or {}, "spec.podSelector"))
    for direction, peer_key in (("ingress", "from"), ("egress", "to")):
        rules = spec.get(direction)
        if rules is None:
            continue
        if not isinstance(rules, list):
            errors.append(f"spec.{direction}: Invalid value: {_show(rules)}: must be a list of rules")
            continue
        for r_i, rule in enumerate(rules):
            here = f"spec.{direction}[{r_i}]"
            rule = rule or {}
            if not isinstance(rule, Mapping):
                errors.append(f"{here}: Invalid value: {_show(rule)}: must be a rule ({peer_key}, ports)")
                continue
            for p_i, entry in enumerate(rule.get("ports") or []):
                errors.extend(_port_errors(entry, f"{here}.ports[{p_i}]"))
            for p_i, peer in enumerate(rule.get(peer_key) or []):
                errors.extend(_peer_errors(peer, f"{here}.{peer_key}[{p_i}]"))
    types = spec.get("policyTypes") or []
    if len(types) > 2:
        errors.append(f"spec.policyTypes: Invalid value: {_show(list(types))}: may not specify more than two policyTypes")
    else:
        for i, ptype in enumerate(types):
            if ptype not in POLICY_TYPES:
                errors.append(f'spec.policyTypes[{i}]: Unsupported value: {_show(ptype)}: '
                              'supported values: "Ingress", "Egress"')
    return errors


def validate_policy(policy: Mapping) -> None:
    """Raise UsageError naming every invalid field, worded like the API server's rejection."""
    errors = policy_errors(policy)
    if not errors:
        return
    name = policy_name(policy) or "<unnamed>"
    joined = errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]"
    raise UsageError(f'NetworkPolicy.networking.k8s.io "{name}" is invalid: {joined}')


def pod_info(pod: Mapping) -> PodInfo:
    """What policies see of a Pod API object: namespace, name, labels, IP and named container ports."""
    ports = tuple((p.get("name", ""), int(p["containerPort"]), str(p.get("protocol", "TCP")).upper())
                  for c in pod["spec"]["containers"] for p in c.get("ports") or [] if p.get("name"))
    return PodInfo(namespace=pod["metadata"]["namespace"], name=pod["metadata"]["name"],
                   labels=dict(pod["metadata"].get("labels") or {}), ip=pod["status"]["podIP"], ports=ports)

"""The policy explainer: why a flow is allowed or denied, and which netfilter rule the real packet hit."""
from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .errors import UsageError
from .i18n import _, ngettext
from .policy import Verdict, evaluate, pod_info
from .results import ProbeResult

if TYPE_CHECKING:
    from .lab import Lab

TABLE_CMD = "nft list table inet k8snet-netpol"


@dataclass
class Hit:
    """A netfilter rule whose counter the probe's packets moved."""

    node: str
    chain: str
    comment: str
    verdict: str
    packets: int

    def __str__(self) -> str:
        what = self.comment or f"({self.verdict})"
        moved = ngettext("+{n} packet", "+{n} packets", self.packets).format(n=self.packets)
        return _("{node}: chain {chain}: {rule} -> {verdict} ({packets})").format(
            node=self.node, chain=self.chain, rule=what, verdict=self.verdict, packets=moved)


@dataclass
class Explanation:
    """The evaluator's verdict, the real probe's outcome, and the kernel rules it hit."""

    verdict: Verdict
    probe: ProbeResult
    hits: list[Hit] = field(default_factory=list)
    note: str = ""

    @property
    def agrees(self) -> bool:
        """Whether the kernel did what the policies say (a refused connection still crossed the network)."""
        passed = self.probe.outcome in ("connected", "refused")
        return passed == self.verdict.allowed

    def __str__(self) -> str:
        lines = [str(self.verdict), "  " + _("why: {reason}").format(reason=self.verdict.reason),
                 "  " + _("probe: {summary}").format(summary=self.probe.summary(timing=False))]
        if self.hits:
            lines.append("  " + _("netfilter rules the packet hit:"))
            lines += [f"    {h}" for h in self.hits]
        if self.note:
            lines.append(f"  {self.note}")
        if not self.agrees:
            lines.append("  !! " + _("the kernel and the policies disagree"))
        return "\n".join(lines)

    def _repr_pretty_(self, p, cycle) -> None:
        p.text(str(self))

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(str(self))}</pre>"


def _find_pod(lab: "Lab", ref: str, namespace: str) -> dict:
    ns, name = ref.split("/", 1) if "/" in ref else (namespace, ref)
    for p in lab.pods(ns):
        if p["metadata"]["name"] == name:
            return p
    raise UsageError(_('explain: pod "{name}" not found in namespace {namespace}').format(name=name, namespace=repr(ns)))


def _counters(lab: "Lab", nodes: list[str]) -> dict[tuple[str, str, str, str], int]:
    from .sandbox.netpol import parse_counters
    out = {}
    for node in nodes:
        listing = lab.node_exec(node, TABLE_CMD)
        if listing.ok:
            for r in parse_counters(listing.stdout):
                out[(node, r.chain, r.comment, r.verdict)] = r.packets
    return out


def explain(lab: "Lab", source: str, target: str, *, port: int, protocol: str = "tcp", namespace: str = "default",
            timeout: float = 0.5) -> Explanation:
    """Evaluate the policies for a pod-to-pod flow, send the real packet, and read which rules it hit.

    The probe gives up before TCP's first retransmission (1 s), so a dropped flow moves its counter by one packet.
    """
    src, dst = _find_pod(lab, source, namespace), _find_pod(lab, target, namespace)
    policies = lab.objects("NetworkPolicy")
    namespaces = {n["metadata"]["name"]: dict(n["metadata"].get("labels") or {}) for n in lab.objects("Namespace")}
    verdict = evaluate(pod_info(src), pod_info(dst), port, protocol.upper(), policies, namespaces)
    nodes = sorted({src["spec"]["nodeName"], dst["spec"]["nodeName"]})
    counting = lab.backend_name == "sandbox"
    before = _counters(lab, nodes) if counting else {}
    result = lab.probe(f"{src['metadata']['namespace']}/{src['metadata']['name']}",
                       f"{dst['status']['podIP']}:{port}", protocol=protocol, timeout=timeout)
    hits = []
    if counting:
        after = _counters(lab, nodes)
        for key, packets in sorted(after.items()):
            moved = packets - before.get(key, 0)
            if moved > 0:
                hits.append(Hit(key[0], key[1], key[2], key[3], moved))
    note = "" if counting else _("rule counters are shown on the sandbox backend (kindnet enforces policies in userspace)")
    return Explanation(verdict, result, hits, note)

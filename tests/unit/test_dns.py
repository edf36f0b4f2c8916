"""The cluster DNS: CoreDNS's answers for every record kind, then the real server over UDP, TCP and `dig`."""
from __future__ import annotations

import asyncio
import re
import shutil
import socket
import subprocess
import threading
from typing import Iterator

import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import dns.rrset
import dns.reversename
import pytest

from k8snet_tutorial.sandbox.dns import ClusterRecords, DnsServer, answer


# -- hand-made API objects, shaped like a kind cluster's -----------------------------------------------------------
def port(name: str | None, number: int, protocol: str = "TCP") -> dict:
    """A Service or EndpointSlice port."""
    p = {"port": number, "protocol": protocol}
    if name is not None:
        p["name"] = name
    return p


def service(name: str, ns: str, cluster_ip: str, ports: list[dict], rv: str = "3", **spec) -> dict:
    """A v1 Service."""
    s = {"apiVersion": "v1", "kind": "Service",
         "metadata": {"name": name, "namespace": ns, "resourceVersion": rv},
         "spec": {"type": "ClusterIP", "clusterIP": cluster_ip, "ports": ports, **spec}}
    if cluster_ip:
        s["spec"]["clusterIPs"] = [cluster_ip]
    return s


def endpoint(ip: str, *, ready: bool = True, hostname: str | None = None, pod: str | None = None,
             ns: str = "default") -> dict:
    """One endpoint of an EndpointSlice."""
    e = {"addresses": [ip], "conditions": {"ready": ready, "serving": ready, "terminating": False},
         "nodeName": "kind-worker"}
    if hostname:
        e["hostname"] = hostname
    if pod:
        e["targetRef"] = {"kind": "Pod", "name": pod, "namespace": ns}
    return e


def endpoint_slice(svc: str, ns: str, endpoints: list[dict], ports: list[dict], rv: str = "4") -> dict:
    """A discovery.k8s.io/v1 EndpointSlice owned by `svc`."""
    return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
            "metadata": {"name": f"{svc}-x7k2p", "namespace": ns, "resourceVersion": rv,
                         "labels": {"kubernetes.io/service-name": svc}},
            "endpoints": endpoints, "ports": ports}


def pod(name: str, ns: str, ip: str, labels: dict | None = None) -> dict:
    """A running Pod."""
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": ns, "labels": labels or {}, "resourceVersion": "2"},
            "status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}]}}


DNS_PORTS = [port("dns", 53, "UDP"), port("dns-tcp", 53), port("metrics", 9153)]


def cluster_objects() -> list[dict]:
    """kube-dns, a ClusterIP Service, headless Services, an ExternalName, and their pods."""
    return [
        service("kubernetes", "default", "10.96.0.1", [port("https", 443)]),
        service("kube-dns", "kube-system", "10.96.0.10", DNS_PORTS),
        endpoint_slice("kube-dns", "kube-system", [endpoint("10.244.0.3", pod="coredns-7db6d8ff4d-4xq2k", ns="kube-system"),
                                                   endpoint("10.244.0.4", pod="coredns-7db6d8ff4d-9ztbn", ns="kube-system")],
                       [port("dns", 53, "UDP"), port("dns-tcp", 53), port("metrics", 9153)]),
        pod("coredns-7db6d8ff4d-4xq2k", "kube-system", "10.244.0.3", {"k8s-app": "kube-dns"}),
        pod("coredns-7db6d8ff4d-9ztbn", "kube-system", "10.244.0.4", {"k8s-app": "kube-dns"}),
        service("web", "default", "10.96.120.15", [port("http", 80)]),
        endpoint_slice("web", "default", [endpoint("10.244.1.5", pod="web-5d9c7b8f6-abcde")], [port("http", 8080)]),
        pod("web-5d9c7b8f6-abcde", "default", "10.244.1.5"),
        service("db", "default", "None", [port("pg", 5432)]),
        endpoint_slice("db", "default", [endpoint("10.244.1.7", hostname="db-0", pod="db-0"),
                                         endpoint("10.244.2.8", hostname="db-1", pod="db-1"),
                                         endpoint("10.244.2.9", ready=False, pod="db-2")],
                       [port("pg", 5432)], rv="17"),
        service("peers", "default", "None", [port("gossip", 7946, "UDP")]),
        endpoint_slice("peers", "default", [endpoint("10.244.1.6", pod="peer-1")], [port("gossip", 7946, "UDP")]),
        service("empty", "default", "None", [port("http", 80)]),
        endpoint_slice("empty", "default", [endpoint("10.244.2.10", ready=False)], [port("http", 80)]),
        service("plain", "finance", "10.96.50.5", [port(None, 8080)]),
        service("ext", "default", "", [], type="ExternalName", externalName="www.example.com"),
        service("alias", "default", "", [], type="ExternalName", externalName="web.default.svc.cluster.local"),
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "coredns", "namespace": "kube-system",
                                                               "resourceVersion": "99"}},
    ]


@pytest.fixture(scope="module")
def records() -> ClusterRecords:
    """The snapshot every pure test reads."""
    return ClusterRecords.from_objects(cluster_objects())


def ask(records: ClusterRecords, name: str, rdtype: str = "A", **kw) -> dns.message.Message:
    """Answer one query built the way a stub resolver builds it (RD set)."""
    return answer(dns.message.make_query(name, rdtype), records, **kw)


def texts(msg: dns.message.Message, section: str = "answer") -> list[str]:
    """Every record of a section as `name ttl IN type rdata`."""
    return [line for rrset in getattr(msg, section) for line in rrset.to_text().splitlines()]


def rdatas(msg: dns.message.Message, rdtype: str = "A") -> list[str]:
    """The rdata of the answer's records of one type, in order."""
    t = dns.rdatatype.from_text(rdtype)
    return [rd.to_text() for rrset in msg.answer if rrset.rdtype == t for rd in rrset]


SOA_TEXT = "cluster.local. 30 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. 17 7200 1800 86400 30"


def assert_authoritative(msg: dns.message.Message, rcode: int = dns.rcode.NOERROR) -> None:
    """CoreDNS's own answers: QR AA, RD echoed, no RA (dig warns that recursion is not available)."""
    assert msg.rcode() == rcode
    assert msg.flags & dns.flags.QR and msg.flags & dns.flags.AA and msg.flags & dns.flags.RD
    assert not msg.flags & dns.flags.RA


# -- records from objects --------------------------------------------------------------------------------------
def test_snapshot_from_objects(records: ClusterRecords) -> None:
    assert records.domain == "cluster.local"
    assert len(records.services) == 9 and len(records.endpoint_slices) == 5 and len(records.pods) == 3
    assert records.serial == 17  # the last resourceVersion of what DNS reads (not the ConfigMap): deterministic
    assert records.server_ips == ["10.244.0.3", "10.244.0.4"]
    assert {"default", "kube-system", "finance"} <= set(records.namespaces or [])


# -- Services --------------------------------------------------------------------------------------------------
def test_clusterip_service_a_record(records: ClusterRecords) -> None:
    msg = ask(records, "kube-dns.kube-system.svc.cluster.local")
    assert_authoritative(msg)
    assert texts(msg) == ["kube-dns.kube-system.svc.cluster.local. 30 IN A 10.96.0.10"]
    assert ask(records, "kubernetes.default.svc.cluster.local").answer[0][0].to_text() == "10.96.0.1"


def test_names_are_case_insensitive_and_keep_the_query_case(records: ClusterRecords) -> None:
    msg = ask(records, "Web.DEFAULT.svc.Cluster.Local")
    assert texts(msg) == ["Web.DEFAULT.svc.Cluster.Local. 30 IN A 10.96.120.15"]


def test_headless_service_a_per_ready_endpoint(records: ClusterRecords) -> None:
    msg = ask(records, "db.default.svc.cluster.local")
    assert_authoritative(msg)
    assert rdatas(msg) == ["10.244.1.7", "10.244.2.8"]  # 10.244.2.9 is not ready
    assert msg.answer[0].ttl == 30


def test_headless_service_without_ready_endpoints_is_nxdomain(records: ClusterRecords) -> None:
    msg = ask(records, "empty.default.svc.cluster.local")
    assert_authoritative(msg, dns.rcode.NXDOMAIN)
    assert texts(msg, "authority") == [SOA_TEXT]


def test_endpoint_hostname_records(records: ClusterRecords) -> None:
    assert texts(ask(records, "db-0.db.default.svc.cluster.local")) == ["db-0.db.default.svc.cluster.local. 30 IN A 10.244.1.7"]
    assert rdatas(ask(records, "db-1.db.default.svc.cluster.local")) == ["10.244.2.8"]
    # endpoints without a hostname are named after their address, for headless and ClusterIP Services alike
    assert rdatas(ask(records, "10-244-1-6.peers.default.svc.cluster.local")) == ["10.244.1.6"]
    assert rdatas(ask(records, "10-244-1-5.web.default.svc.cluster.local")) == ["10.244.1.5"]
    assert ask(records, "10-244-2-9.db.default.svc.cluster.local").rcode() == dns.rcode.NXDOMAIN  # not ready
    assert ask(records, "db-7.db.default.svc.cluster.local").rcode() == dns.rcode.NXDOMAIN


def test_srv_for_clusterip_named_port(records: ClusterRecords) -> None:
    msg = ask(records, "_http._tcp.web.default.svc.cluster.local", "SRV")
    assert_authoritative(msg)
    assert texts(msg) == ["_http._tcp.web.default.svc.cluster.local. 30 IN SRV 0 100 80 web.default.svc.cluster.local."]
    assert texts(msg, "additional") == ["web.default.svc.cluster.local. 30 IN A 10.96.120.15"]
    dns_srv = ask(records, "_dns._udp.kube-dns.kube-system.svc.cluster.local", "SRV")
    assert rdatas(dns_srv, "SRV") == ["0 100 53 kube-dns.kube-system.svc.cluster.local."]
    assert rdatas(ask(records, "_metrics._tcp.kube-dns.kube-system.svc.cluster.local", "SRV"), "SRV") == [
        "0 100 9153 kube-dns.kube-system.svc.cluster.local."]


def test_srv_port_and_protocol_must_both_match(records: ClusterRecords) -> None:
    assert ask(records, "_dns._tcp.kube-dns.kube-system.svc.cluster.local", "SRV").rcode() == dns.rcode.NXDOMAIN
    assert ask(records, "_https._tcp.web.default.svc.cluster.local", "SRV").rcode() == dns.rcode.NXDOMAIN


def test_unnamed_ports_have_no_srv_record(records: ClusterRecords) -> None:
    msg = ask(records, "_http._tcp.plain.finance.svc.cluster.local", "SRV")
    assert_authoritative(msg, dns.rcode.NXDOMAIN)
    assert rdatas(ask(records, "plain.finance.svc.cluster.local")) == ["10.96.50.5"]


def test_srv_on_a_bare_service_name_lists_every_port_like_coredns(records: ClusterRecords) -> None:
    msg = ask(records, "kube-dns.kube-system.svc.cluster.local", "SRV")
    # three ports share the weight (100/3), and dns/dns-tcp collapse into one (target, port) record
    assert rdatas(msg, "SRV") == ["0 33 53 kube-dns.kube-system.svc.cluster.local.",
                                  "0 33 9153 kube-dns.kube-system.svc.cluster.local."]


def test_srv_for_headless_service_one_per_ready_endpoint(records: ClusterRecords) -> None:
    msg = ask(records, "_pg._tcp.db.default.svc.cluster.local", "SRV")
    assert_authoritative(msg)
    assert texts(msg) == ["_pg._tcp.db.default.svc.cluster.local. 30 IN SRV 0 50 5432 db-0.db.default.svc.cluster.local.",
                          "_pg._tcp.db.default.svc.cluster.local. 30 IN SRV 0 50 5432 db-1.db.default.svc.cluster.local."]
    assert texts(msg, "additional") == ["db-0.db.default.svc.cluster.local. 30 IN A 10.244.1.7",
                                        "db-1.db.default.svc.cluster.local. 30 IN A 10.244.2.8"]
    peers = ask(records, "_gossip._udp.peers.default.svc.cluster.local", "SRV")
    assert rdatas(peers, "SRV") == ["0 100 7946 10-244-1-6.peers.default.svc.cluster.local."]


def test_ptr_for_cluster_ips_and_endpoints(records: ClusterRecords) -> None:
    msg = ask(records, "10.0.96.10.in-addr.arpa", "PTR")
    assert_authoritative(msg)
    assert texts(msg) == ["10.0.96.10.in-addr.arpa. 30 IN PTR kube-dns.kube-system.svc.cluster.local."]
    assert rdatas(ask(records, "7.1.244.10.in-addr.arpa", "PTR"), "PTR") == ["db-0.db.default.svc.cluster.local."]
    assert rdatas(ask(records, "6.1.244.10.in-addr.arpa", "PTR"), "PTR") == ["10-244-1-6.peers.default.svc.cluster.local."]
    assert rdatas(ask(records, "5.1.244.10.in-addr.arpa", "PTR"), "PTR") == ["10-244-1-5.web.default.svc.cluster.local."]


@pytest.mark.parametrize("name", ["kube-dns.kube-system.svc.cluster.local.", "web.default.svc.cluster.local.",
                                  "db-0.db.default.svc.cluster.local.", "db-1.db.default.svc.cluster.local.",
                                  "kubernetes.default.svc.cluster.local."])
def test_ptr_both_ways(records: ClusterRecords, name: str) -> None:
    (ip,) = rdatas(ask(records, name))
    reverse = ask(records, dns.reversename.from_address(ip).to_text(), "PTR")
    assert rdatas(reverse, "PTR") == [name]


def test_reverse_lookups_not_in_the_cluster_fall_through_to_the_upstream(records: ClusterRecords) -> None:
    # `fallthrough in-addr.arpa ip6.arpa`: a not-ready endpoint or a stranger's address goes to `forward`
    for name in ("9.2.244.10.in-addr.arpa", "8.8.8.8.in-addr.arpa", "96.10.in-addr.arpa"):
        failed = ask(records, name, "PTR")
        assert failed.rcode() == dns.rcode.SERVFAIL and not failed.flags & dns.flags.AA
    asked: list[str] = []

    def upstream(q: dns.message.Message) -> dns.message.Message:
        asked.append(q.question[0].name.to_text())
        return dns.message.make_response(q)
    assert ask(records, "8.8.8.8.in-addr.arpa", "PTR", upstream=upstream).rcode() == dns.rcode.NOERROR
    assert asked == ["8.8.8.8.in-addr.arpa."]


# -- Pods ------------------------------------------------------------------------------------------------------
def test_pod_a_records_pods_insecure(records: ClusterRecords) -> None:
    msg = ask(records, "10-244-1-5.default.pod.cluster.local")
    assert_authoritative(msg)
    assert texts(msg) == ["10-244-1-5.default.pod.cluster.local. 30 IN A 10.244.1.5"]
    # insecure: any well-formed address in an existing namespace, pod or not
    assert rdatas(ask(records, "10-244-9-99.finance.pod.cluster.local")) == ["10.244.9.99"]
    assert ask(records, "10-244-1-5.nowhere.pod.cluster.local").rcode() == dns.rcode.NXDOMAIN
    assert ask(records, "10-244-1-500.default.pod.cluster.local").rcode() == dns.rcode.NXDOMAIN
    assert ask(records, "web.default.pod.cluster.local").rcode() == dns.rcode.NXDOMAIN
    assert ask(records, "10-244-1-5.default.pod.cluster.local", "AAAA").rcode() == dns.rcode.NOERROR  # NODATA


def test_pod_records_verified_mode_checks_the_pod() -> None:
    verified = ClusterRecords("cluster.local", services=[], endpoint_slices=[],
                              pods=[pod("web-1", "default", "10.244.1.5")], pod_mode="verified")
    assert rdatas(ask(verified, "10-244-1-5.default.pod.cluster.local")) == ["10.244.1.5"]
    assert ask(verified, "10-244-1-6.default.pod.cluster.local").rcode() == dns.rcode.NXDOMAIN


# -- ExternalName ------------------------------------------------------------------------------------------------
def test_external_name_is_a_cname_only(records: ClusterRecords) -> None:
    msg = ask(records, "ext.default.svc.cluster.local")
    assert_authoritative(msg)
    assert texts(msg) == ["ext.default.svc.cluster.local. 30 IN CNAME www.example.com."]
    assert texts(ask(records, "ext.default.svc.cluster.local", "CNAME")) == texts(msg)
    srv = ask(records, "ext.default.svc.cluster.local", "SRV")
    assert srv.rcode() == dns.rcode.NOERROR and not srv.answer  # CoreDNS has no SRV for ExternalName


def test_external_name_is_chased_only_through_an_upstream(records: ClusterRecords) -> None:
    def upstream(q: dns.message.Message) -> dns.message.Message:
        reply = dns.message.make_response(q)
        reply.answer.append(dns.rrset.from_text(q.question[0].name, 300, "IN", "A", "192.0.2.53"))
        return reply
    msg = ask(records, "ext.default.svc.cluster.local", upstream=upstream)
    assert texts(msg) == ["ext.default.svc.cluster.local. 30 IN CNAME www.example.com.",
                          "www.example.com. 300 IN A 192.0.2.53"]


def test_external_name_inside_the_cluster_is_followed(records: ClusterRecords) -> None:
    msg = ask(records, "alias.default.svc.cluster.local")
    assert texts(msg) == ["alias.default.svc.cluster.local. 30 IN CNAME web.default.svc.cluster.local.",
                          "web.default.svc.cluster.local. 30 IN A 10.96.120.15"]


# -- what does not exist -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["nope.default.svc.cluster.local", "web.nowhere.svc.cluster.local",
                                  "foo.cluster.local", "a.b.c.web.default.svc.cluster.local",
                                  "*.default.svc.cluster.local", "any.any.svc.cluster.local"])
def test_nxdomain_with_coredns_soa(records: ClusterRecords, name: str) -> None:
    msg = ask(records, name)
    assert_authoritative(msg, dns.rcode.NXDOMAIN)
    assert not msg.answer
    assert texts(msg, "authority") == [SOA_TEXT]  # wildcards are gone from CoreDNS: `*` is just a name


@pytest.mark.parametrize(("name", "rdtype"), [
    ("web.default.svc.cluster.local", "AAAA"), ("web.default.svc.cluster.local", "MX"),
    ("web.default.svc.cluster.local", "TXT"), ("web.default.svc.cluster.local", "CNAME"),
    ("default.svc.cluster.local", "A"), ("svc.cluster.local", "A"), ("cluster.local", "A"),
    ("db.default.svc.cluster.local", "AAAA"), ("web.default.svc.cluster.local", "HINFO")])
def test_nodata_for_an_existing_name_of_another_type(records: ClusterRecords, name: str, rdtype: str) -> None:
    msg = ask(records, name, rdtype)
    assert_authoritative(msg)
    assert not msg.answer
    assert texts(msg, "authority") == [SOA_TEXT]


def test_zone_apex_soa_ns_and_the_name_server(records: ClusterRecords) -> None:
    assert texts(ask(records, "cluster.local", "SOA")) == [SOA_TEXT]
    ns = ask(records, "cluster.local", "NS")
    assert texts(ns) == ["cluster.local. 30 IN NS kube-dns.kube-system.svc.cluster.local."]
    assert texts(ns, "additional") == ["kube-dns.kube-system.svc.cluster.local. 30 IN A 10.96.0.10"]
    assert texts(ask(records, "ns.dns.cluster.local")) == ["ns.dns.cluster.local. 30 IN A 10.96.0.10"]
    assert texts(ask(records, "dns-version.cluster.local", "TXT")) == ['dns-version.cluster.local. 28800 IN TXT "1.1.0"']
    assert ask(records, "cluster.local", "AXFR").rcode() == dns.rcode.REFUSED


def test_outside_names_servfail_at_once_without_upstream(records: ClusterRecords) -> None:
    msg = ask(records, "www.example.com")
    assert msg.rcode() == dns.rcode.SERVFAIL
    assert not msg.flags & dns.flags.AA and not msg.answer


def test_outside_names_go_to_the_upstream(records: ClusterRecords) -> None:
    def upstream(q: dns.message.Message) -> dns.message.Message:
        reply = dns.message.make_response(q, recursion_available=True)
        reply.id = 1  # whatever id the upstream used, the client gets its own back
        reply.answer.append(dns.rrset.from_text(q.question[0].name, 60, "IN", "A", "192.0.2.1"))
        return reply
    query = dns.message.make_query("www.example.com", "A")
    msg = answer(query, records, upstream=upstream)
    assert msg.id == query.id and texts(msg) == ["www.example.com. 60 IN A 192.0.2.1"]
    assert answer(query, records, upstream=lambda q: None).rcode() == dns.rcode.SERVFAIL


def test_edns_is_echoed(records: ClusterRecords) -> None:
    query = dns.message.make_query("web.default.svc.cluster.local", "A", use_edns=0, payload=1232, want_dnssec=True)
    msg = answer(query, records)
    assert msg.edns == 0 and msg.payload == 1232 and msg.ednsflags & dns.flags.DO
    assert answer(dns.message.make_query("web.default.svc.cluster.local", "A"), records).edns == -1


# -- the live server -------------------------------------------------------------------------------------------------
class Live:
    """A DnsServer on 127.0.0.1 random ports, on its own event loop thread."""

    def __init__(self, records: ClusterRecords | None, **kw) -> None:
        self.records = records
        self.lines: list[str] = []
        self.cond = threading.Condition()
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.udp.bind(("127.0.0.1", 0))
        self.tcp.bind(("127.0.0.1", 0))
        self.tcp.listen(16)  # the kernel queues queries and connections until the loop picks them up
        self.udp_port, self.tcp_port = self.udp.getsockname()[1], self.tcp.getsockname()[1]
        self.server = DnsServer(lambda: self.records, self.log, **kw)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.serving = asyncio.run_coroutine_threadsafe(self.server.serve(self.udp, self.tcp), self.loop)

    def log(self, line: str) -> None:
        with self.cond:
            self.lines.append(line)
            self.cond.notify_all()

    def wait_lines(self, n: int) -> list[str]:
        """The log once it has at least n lines (the server logs just after it answers)."""
        with self.cond:
            assert self.cond.wait_for(lambda: len(self.lines) >= n, timeout=5), self.lines
            return list(self.lines)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.server.close)
        self.serving.result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


@pytest.fixture
def live(records: ClusterRecords) -> Iterator[Live]:
    """A running server over the shared snapshot."""
    server = Live(records, tcp_read_timeout=0.5, tcp_idle_timeout=0.5)
    yield server
    server.stop()


LOG_LINE = re.compile(r'^\[INFO\] 127\.0\.0\.1:(\d+) - (\d+) "(\S+) IN (\S+) (udp|tcp) (\d+) (true|false) (\d+)" '
                      r'(\S+) (\S+) (\d+) (\d+(?:\.\d+)?)s$')


def test_live_udp_and_tcp(live: Live) -> None:
    q = dns.message.make_query("kube-dns.kube-system.svc.cluster.local", "A")
    udp = dns.query.udp(q, "127.0.0.1", port=live.udp_port, timeout=5)
    assert texts(udp) == ["kube-dns.kube-system.svc.cluster.local. 30 IN A 10.96.0.10"]
    assert_authoritative(udp)
    tcp = dns.query.tcp(dns.message.make_query("_pg._tcp.db.default.svc.cluster.local", "SRV"), "127.0.0.1",
                        port=live.tcp_port, timeout=5)
    assert len(rdatas(tcp, "SRV")) == 2
    nx = dns.query.udp(dns.message.make_query("nope.default.svc.cluster.local", "A"), "127.0.0.1",
                       port=live.udp_port, timeout=5)
    assert nx.rcode() == dns.rcode.NXDOMAIN
    first, second, third = (LOG_LINE.match(line) for line in live.wait_lines(3))
    assert first and second and third, live.lines
    assert first.group(2) == str(q.id)
    assert first.group(3, 4, 5, 7, 8, 9, 10) == ("A", "kube-dns.kube-system.svc.cluster.local.", "udp", "false", "512",
                                                 "NOERROR", "qr,aa,rd")
    assert int(first.group(6)) == len(q.to_wire()) and int(first.group(11)) == len(udp.to_wire())
    assert second.group(3, 5, 8, 9) == ("SRV", "tcp", "65535", "NOERROR")
    assert third.group(9, 10) == ("NXDOMAIN", "qr,aa,rd")


def test_live_outside_name_fails_fast_and_is_logged_like_forward(live: Live) -> None:
    msg = dns.query.udp(dns.message.make_query("www.example.com", "A"), "127.0.0.1", port=live.udp_port, timeout=5)
    assert msg.rcode() == dns.rcode.SERVFAIL
    info, error = live.wait_lines(2)
    logged = LOG_LINE.match(info)
    assert logged and logged.group(9, 10, 11) == ("NOERROR", "-", "0")  # no plugin wrote it: CoreDNS logs `- 0`
    assert error.startswith("[ERROR] plugin/errors: 2 www.example.com. A: ")


def test_live_snapshots_are_swapped(live: Live) -> None:
    q = dns.message.make_query("later.default.svc.cluster.local", "A")
    assert dns.query.udp(q, "127.0.0.1", port=live.udp_port, timeout=5).rcode() == dns.rcode.NXDOMAIN
    live.records = ClusterRecords.from_objects([*cluster_objects(), service("later", "default", "10.96.7.7", [])])
    assert rdatas(dns.query.udp(q, "127.0.0.1", port=live.udp_port, timeout=5)) == ["10.96.7.7"]


def test_live_no_snapshot_yet_is_servfail() -> None:
    server = Live(None)
    try:
        msg = dns.query.udp(dns.message.make_query("web.default.svc.cluster.local", "A"), "127.0.0.1",
                            port=server.udp_port, timeout=5)
        assert msg.rcode() == dns.rcode.SERVFAIL
    finally:
        server.stop()


def test_live_malformed_and_oversized_queries(live: Live) -> None:
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    client.settimeout(5)
    try:
        client.sendto(b"\x12\x34\x01", ("127.0.0.1", live.udp_port))  # not even a header: dropped
        client.sendto(b"\x12\x35\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07garbage", ("127.0.0.1", live.udp_port))
        reply = dns.message.from_wire(client.recv(65535))
        assert reply.id == 0x1235 and reply.rcode() == dns.rcode.FORMERR
        client.sendto(b"\x00\x01" + bytes(5000), ("127.0.0.1", live.udp_port))  # oversized: dropped
        status = dns.message.make_query("web.default.svc.cluster.local", "A")
        status.set_opcode(dns.opcode.STATUS)
        client.sendto(status.to_wire(), ("127.0.0.1", live.udp_port))
        reply = dns.message.from_wire(client.recv(65535))
        assert reply.id == status.id and reply.rcode() == dns.rcode.NOTIMP  # the first two were dropped
    finally:
        client.close()
    assert live.lines == []  # rejected before the plugin chain: CoreDNS's log plugin never sees them


def test_live_udp_truncates_and_tcp_does_not() -> None:
    many = [endpoint(f"10.244.3.{i}") for i in range(1, 80)]
    big = ClusterRecords.from_objects([service("wide", "default", "None", [port("http", 80)]),
                                       endpoint_slice("wide", "default", many, [port("http", 80)])])
    server = Live(big)
    try:
        q = dns.message.make_query("wide.default.svc.cluster.local", "A")
        udp = dns.query.udp(q, "127.0.0.1", port=server.udp_port, timeout=5, ignore_trailing=True)
        assert udp.flags & dns.flags.TC
        tcp = dns.query.tcp(q, "127.0.0.1", port=server.tcp_port, timeout=5)
        assert len(rdatas(tcp)) == 79 and not tcp.flags & dns.flags.TC
    finally:
        server.stop()


def test_live_answers_keep_one_order_unless_asked_to_shuffle() -> None:
    many = [endpoint(f"10.244.3.{i}") for i in range(1, 30)]
    wide = ClusterRecords.from_objects([service("wide", "default", "None", [port("http", 80)]),
                                        endpoint_slice("wide", "default", many, [port("http", 80)])])
    expected = [f"10.244.3.{i}" for i in range(1, 30)]
    for shuffle in (False, True):
        server = Live(wide, shuffle=shuffle)
        try:
            orders = [rdatas(dns.query.tcp(dns.message.make_query("wide.default.svc.cluster.local", "A"), "127.0.0.1",
                                           port=server.tcp_port, timeout=5)) for _ in range(5)]
        finally:
            server.stop()
        assert all(sorted(o) == sorted(expected) for o in orders)
        if shuffle:  # like CoreDNS's loadbalance; 5 identical shuffles of 29 records will not happen
            assert any(o != orders[0] for o in orders)
        else:
            assert orders == [expected] * 5


def test_live_tcp_idle_and_oversized_connections_are_closed(live: Live) -> None:
    with socket.create_connection(("127.0.0.1", live.tcp_port), timeout=5) as idle:
        assert idle.recv(10) == b""  # closed by the server after its read timeout, well before ours
    with socket.create_connection(("127.0.0.1", live.tcp_port), timeout=5) as big:
        big.sendall(b"\xff\xff")
        assert big.recv(10) == b""


def test_close_releases_the_sockets(records: ClusterRecords) -> None:
    server = Live(records)
    server.stop()
    assert server.udp.fileno() == -1 and server.tcp.fileno() == -1
    early = DnsServer(lambda: records)
    early.close()  # closed before it ever served: serve() returns at once and releases its sockets
    a, b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM), socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    asyncio.run(early.serve(a, b))
    assert a.fileno() == -1 and b.fileno() == -1


@pytest.mark.skipif(shutil.which("dig") is None, reason="dig (dnsutils) is not installed")
def test_live_with_real_dig(live: Live) -> None:
    def dig(*args: str) -> str:
        done = subprocess.run(["dig", "@127.0.0.1", "-p", str(live.udp_port), "+time=3", "+tries=1", *args],
                              capture_output=True, text=True, timeout=20)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout
    out = dig("kube-dns.kube-system.svc.cluster.local")
    assert "status: NOERROR" in out and "flags: qr aa rd;" in out
    assert re.search(r"^kube-dns\.kube-system\.svc\.cluster\.local\.\s+30\s+IN\s+A\s+10\.96\.0\.10$", out, re.M)
    out = dig("+short", "-x", "10.96.0.10")
    assert out.strip() == "kube-dns.kube-system.svc.cluster.local."
    out = dig("+short", "SRV", "_http._tcp.web.default.svc.cluster.local")
    assert out.strip() == "0 100 80 web.default.svc.cluster.local."
    out = dig("nope.default.svc.cluster.local")
    assert "status: NXDOMAIN" in out and "hostmaster.cluster.local." in out
    lines = live.wait_lines(4)
    assert all(LOG_LINE.match(line) for line in lines), lines
    assert LOG_LINE.match(lines[0]).group(8) == "1232"  # dig's EDNS buffer size, echoed in the log
    tcp = subprocess.run(["dig", "@127.0.0.1", "-p", str(live.tcp_port), "+tcp", "+time=3", "+tries=1", "+short",
                          "db.default.svc.cluster.local"], capture_output=True, text=True, timeout=20)
    assert tcp.stdout.split() == ["10.244.1.7", "10.244.2.8"]

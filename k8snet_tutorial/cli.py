"""`k8snet`: the command line, a thin layer over `k8snet_tutorial.Lab`."""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Sequence

from . import __version__
from .errors import K8snetError, UsageError
from .i18n import _
from .lab import Lab


def _lab_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--name", help="the lab's name (default: $K8SNET_CLUSTER or k8snet)")
    p.add_argument("--backend", choices=("auto", "kind", "sandbox"), help="force a backend (default: $K8SNET_BACKEND or auto)")
    p.add_argument("--config", help="kind cluster config (default: ./kind-config.yaml)")
    p.add_argument("--context", help="use this existing kubeconfig context instead of creating a cluster (kind backend)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand."""
    parser = argparse.ArgumentParser(
        prog="k8snet", description="Kubernetes networking, learned by doing: a lab on kind or on a namespace sandbox.",
        epilog="exit codes: 0 success, 1 a probe or check failed, 2 bad usage or input, 3 environment problem")
    parser.add_argument("--version", action="version", version=f"k8snet {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    def cmd(name: str, help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        _lab_options(p)
        return p

    cmd("up", "start the lab's cluster, or reuse it when it already runs")
    cmd("down", "tear the lab down and reclaim everything it made")
    p = cmd("status", "say whether the lab runs, with its nodes")
    p.add_argument("--json", action="store_true")
    for verb in ("apply", "delete"):
        p = cmd(verb, f"{verb} the objects in manifest files or folders ('-' reads standard input)")
        p.add_argument("-f", "--filename", dest="paths", action="append", required=True, metavar="PATH")
    p = cmd("kubectl", "run a kubectl command against the lab")
    p.add_argument("args", nargs=argparse.REMAINDER)
    p = cmd("exec", "run a command inside a pod (or a node with --node): k8snet exec POD -- ip addr")
    p.add_argument("-n", "--namespace", default="default")
    p.add_argument("-c", "--container")
    p.add_argument("--node", help="run on this node instead of in a pod")
    p.add_argument("--timeout", type=float, default=30)
    p.add_argument("target", nargs="?", metavar="POD")
    p.add_argument("cmd", nargs=argparse.REMAINDER, metavar="-- CMD")
    p = cmd("probe", "open a real connection from a pod to a target and say what happened")
    p.add_argument("-n", "--namespace", default="default")
    p.add_argument("source", metavar="FROM")
    p.add_argument("target", metavar="TO", help="a pod, IP, IP:port or URL")
    p.add_argument("--port", type=int)
    p.add_argument("--protocol", choices=("tcp", "udp"), default="tcp")
    p.add_argument("--timeout", type=float, default=2.0)
    p.add_argument("--json", action="store_true")
    p = cmd("matrix", "probe every pod from every pod: who can reach whom")
    p.add_argument("-n", "--namespace", dest="namespaces", action="append", metavar="NS")
    p.add_argument("--ports", default="80", help="comma-separated ports (default 80)")
    p.add_argument("--protocols", default="tcp", help="comma-separated: tcp,udp")
    p.add_argument("--timeout", type=float, default=0.5, help="seconds before a silent probe counts as denied")
    p.add_argument("--json", action="store_true")
    p = cmd("explain", "why a pod may or may not reach another: policies, the real probe, the rules it hit")
    p.add_argument("-n", "--namespace", default="default")
    p.add_argument("source", metavar="FROM", help="a pod (NAME or NS/NAME)")
    p.add_argument("target", metavar="TO", help="a pod (NAME or NS/NAME)")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--protocol", choices=("tcp", "udp"), default="tcp")
    p = cmd("spread", "send N requests to a Service and count which pod answered each")
    p.add_argument("-n", "--namespace", default="default")
    p.add_argument("source", metavar="FROM")
    p.add_argument("target", metavar="SERVICE")
    p.add_argument("--count", type=int, default=30)
    p.add_argument("--port", type=int)
    p = cmd("diagram", "draw the live topology with graphviz")
    p.add_argument("-n", "--namespace")
    p.add_argument("-o", "--output", help="FILE.svg, FILE.png or FILE.dot (default: DOT on standard output)")
    sub.add_parser("doctor", help="check this machine: tools, backends, and which chapters will run")
    return parser


def _lab(a: argparse.Namespace) -> Lab:
    return Lab(a.name, backend=a.backend, config=a.config, context=a.context, progress=_progress)


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _split_ints(text: str) -> list[int]:
    try:
        return [int(x) for x in text.split(",") if x]
    except ValueError:
        raise UsageError(_("--ports: expected numbers separated by commas, not {text}").format(text=repr(text))
                         ) from None


def run(a: argparse.Namespace) -> int:
    """Carry out one parsed command; return the exit code."""
    if a.command == "doctor":
        from .doctor import diagnose
        report = diagnose()
        print(report)
        return 0 if report.ok else 3
    if a.command == "up":
        lab = Lab.up(a.name, backend=a.backend, config=a.config, context=a.context, progress=_progress)
        print(lab.message)
        return 0
    lab = _lab(a)
    if a.command == "down":
        print(lab.down())
    elif a.command == "status":
        st = lab.status()
        print(json.dumps(st.to_dict(), indent=2) if a.json else st)
        return 0 if st.running else 1
    elif a.command in ("apply", "delete"):
        lines = getattr(lab, a.command)(*a.paths, stdin=sys.stdin)
        print(lines)
    elif a.command == "kubectl":
        args = a.args[1:] if a.args[:1] == ["--"] else a.args
        r = lab.kubectl(args)
        sys.stdout.write(r.stdout)
        sys.stderr.write(r.stderr)
        return r.returncode
    elif a.command == "exec":
        command = a.cmd[1:] if a.cmd[:1] == ["--"] else a.cmd
        if a.node and a.target:  # with --node there is no pod: the first word belongs to the command
            command = [a.target] + command
            a.target = None
        if not command:
            raise UsageError(_("exec: give a command after --, e.g. k8snet exec web -- ip addr"))
        if not a.node and not a.target:
            raise UsageError(_("exec: name a pod, or a node with --node"))
        r = lab.exec(a.target, command, namespace=a.namespace, container=a.container, node=a.node, timeout=a.timeout)
        sys.stdout.write(r.stdout)
        sys.stderr.write(r.stderr)
        return r.returncode
    elif a.command == "probe":
        r = lab.probe(a.source, a.target, namespace=a.namespace, port=a.port, protocol=a.protocol, timeout=a.timeout)
        print(r.to_json() if a.json else r)
        return 0 if r.ok else 1
    elif a.command == "matrix":
        m = lab.matrix(a.namespaces or ["default"], _split_ints(a.ports), [p for p in a.protocols.split(",") if p],
                       a.timeout)
        print(m.to_json() if a.json else m)
    elif a.command == "explain":
        e = lab.explain(a.source, a.target, port=a.port, protocol=a.protocol, namespace=a.namespace)
        print(e)
        return 0 if e.agrees else 1
    elif a.command == "spread":
        print(lab.spread(a.source, a.target, a.count, namespace=a.namespace, port=a.port))
    elif a.command == "diagram":
        g = lab.diagram(namespace=a.namespace)
        if not a.output:
            print(g.source)
        else:
            base, ext = os.path.splitext(a.output)
            if ext == ".dot":
                with open(a.output, "w") as f:
                    f.write(g.source)
            elif ext in (".svg", ".png"):
                g.render(outfile=a.output, format=ext[1:], cleanup=True)
            else:
                raise UsageError(_("diagram: -o must end in .svg, .png or .dot"))
            print(_("wrote {path}").format(path=a.output))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `k8snet` console script."""
    a = build_parser().parse_args(argv)
    try:
        return run(a)
    except K8snetError as e:
        print(_("error: {message}").format(message=e), file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print(_("interrupted"), file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

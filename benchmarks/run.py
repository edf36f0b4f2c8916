"""`make bench`: run every benchmark and print one Markdown report (paste it into docs/benchmarks.md)."""
from __future__ import annotations

import os
import platform
import sys

from . import lab_bench, policy_bench, proxy_bench


def machine() -> str:
    """A one-line description of this machine."""
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    mem = next((int(l.split()[1]) // 1024 // 1024 for l in open("/proc/meminfo") if l.startswith("MemTotal")), 0)
    return f"{os.cpu_count()} cores ({cpu}), {mem} GiB, Linux {platform.release()}, Python {platform.python_version()}"


def main() -> int:
    """Print the report."""
    print(f"## Figures from `make bench`\n\nMachine: {machine()}\n")
    print(lab_bench.report())
    print()
    print(proxy_bench.report())
    print()
    print(policy_bench.report())
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Helpers shared by the sandbox tests."""
from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DATA = Path(__file__).parent / "data"


def host_network_state() -> dict[str, str]:
    """What the host's network namespace looks like: links, addresses, routes, netfilter rules."""
    cmds = {"links": ["ip", "-d", "link"], "addrs": ["ip", "addr"], "routes": ["ip", "route", "show", "table", "all"],
            "rules": ["ip", "rule"], "nft": ["nft", "list", "ruleset"], "netns": ["ip", "netns", "list"]}
    out = {}
    for key, cmd in cmds.items():
        proc = subprocess.run(cmd, capture_output=True, text=True)
        out[key] = proc.stdout + proc.stderr
    return out


def unique_name(prefix: str) -> str:
    """A lab name no other test uses."""
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def lab_processes(state_dir: Path) -> list[int]:
    """PIDs whose command line mentions this lab's state folder (read only, to check that none survive)."""
    pids = []
    needle = str(state_dir).encode()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if needle in Path(f"/proc/{entry}/cmdline").read_bytes():
                    pids.append(int(entry))
            except OSError:
                pass
    return pids

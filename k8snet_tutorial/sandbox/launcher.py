"""Start a lab's supervisor inside a user namespace of its own, with the widest ID mapping this user may have.

`unshare --map-root-user` maps a single ID, so tools that drop privileges to a service user (tcpdump switches to
`tcpdump`, uid 102 on Debian) fail inside the lab. This launcher forks a child that creates the user namespace,
writes the child's uid/gid maps from outside it — 65,536 IDs when run by root, the user's subordinate IDs through
newuidmap/newgidmap when /etc/subuid grants some, else just the user as root — and lets the child exec the usual
`unshare` for the mount, network and pid namespaces. The launcher then waits and passes the exit status on;
PR_SET_PDEATHSIG ties the chain together, so killing the launcher ends the whole lab.

    python -m k8snet_tutorial.sandbox.launcher -- CMD...
"""
from __future__ import annotations

import ctypes
import os
import shutil
import signal
import subprocess
import sys

from .nsutil import CLONE_NEWUSER, unshare

PR_SET_PDEATHSIG = 1
RANGE = 65536
_libc = ctypes.CDLL(None, use_errno=True)


def subordinate_range(path: str, user: str, uid: int) -> tuple[int, int] | None:
    """The first /etc/subuid (or subgid) range of at least RANGE IDs granted to a user, as (start, count)."""
    try:
        with open(path) as f:
            for line in f:
                parts = line.strip().split(":")
                if len(parts) == 3 and parts[0] in (user, str(uid)) and int(parts[2]) >= RANGE - 1:
                    return int(parts[1]), int(parts[2])
    except (OSError, ValueError):
        pass
    return None


def write_maps(pid: int) -> str:
    """Map IDs for the child's user namespace; return which mapping was used."""
    uid, gid = os.getuid(), os.getgid()
    if uid == 0:
        with open(f"/proc/{pid}/uid_map", "w") as f:
            f.write(f"0 0 {RANGE}")
        with open(f"/proc/{pid}/gid_map", "w") as f:
            f.write(f"0 0 {RANGE}")
        return "root"
    import pwd
    user = pwd.getpwuid(uid).pw_name
    subuid = subordinate_range("/etc/subuid", user, uid)
    subgid = subordinate_range("/etc/subgid", user, uid)
    if subuid and subgid and shutil.which("newuidmap") and shutil.which("newgidmap"):
        ok = subprocess.run(["newuidmap", str(pid), "0", str(uid), "1", "1", str(subuid[0]), str(RANGE - 1)],
                            capture_output=True).returncode == 0
        ok = ok and subprocess.run(["newgidmap", str(pid), "0", str(gid), "1", "1", str(subgid[0]),
                                    str(RANGE - 1)], capture_output=True).returncode == 0
        if ok:
            return "subordinate"
    with open(f"/proc/{pid}/setgroups", "w") as f:
        f.write("deny")
    with open(f"/proc/{pid}/uid_map", "w") as f:
        f.write(f"0 {uid} 1")
    with open(f"/proc/{pid}/gid_map", "w") as f:
        f.write(f"0 {gid} 1")
    return "single"


def main(argv: list[str]) -> int:
    """Fork, map, exec `argv` in the child; wait for it and return its status."""
    if argv[:1] == ["--"]:
        argv = argv[1:]
    ready_r, ready_w = os.pipe()
    go_r, go_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(ready_r)
            os.close(go_w)
            _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
            unshare(CLONE_NEWUSER)
            os.write(ready_w, b"1")
            if os.read(go_r, 1) != b"1":
                os._exit(3)
            os.setresgid(0, 0, 0)
            os.setresuid(0, 0, 0)
            os.execvp(argv[0], argv)
        except BaseException as e:  # report and leave: nothing else may run in this half-set-up child
            os.write(2, f"k8snet launcher: {e}\n".encode())
            os._exit(127)
    os.close(ready_w)
    os.close(go_r)
    if os.read(ready_r, 1) != b"1":
        os.waitpid(pid, 0)
        return 3
    try:
        write_maps(pid)
    except OSError as e:
        print(f"k8snet launcher: cannot map IDs for the lab's user namespace: {e}", file=sys.stderr)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        return 3
    os.write(go_w, b"1")
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda s, _f: os.kill(pid, s))
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            return os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)
        except InterruptedError:
            continue


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Thin wrappers over the namespace syscalls (unshare, setns, mount) the sandbox is built from."""
from __future__ import annotations

import contextlib
import ctypes
import os
import threading
from typing import Callable, Iterator

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
MS_RDONLY = 1
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_void_p]


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def unshare(flags: int) -> None:
    """Move the calling thread (or process, for user/mount namespaces) into new namespaces."""
    _check(_libc.unshare(flags), "unshare")


def setns(fd: int, nstype: int) -> None:
    """Move the calling thread into the namespace behind `fd`."""
    _check(_libc.setns(fd, nstype), "setns")


def mount(source: str, target: str, fstype: str | None = None, flags: int = 0, data: str | None = None) -> None:
    """mount(2), raising OSError with the target named."""
    _check(_libc.mount(source.encode(), target.encode(), fstype.encode() if fstype else None, flags,
                       data.encode() if data else None), f"mount {target}")


def enter_lab(uid: int, gid: int) -> None:
    """Make this (single-threaded) process root of a fresh user + mount + network namespace."""
    unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET)
    with open("/proc/self/setgroups", "w") as f:
        f.write("deny")
    with open("/proc/self/uid_map", "w") as f:
        f.write(f"0 {uid} 1")
    with open("/proc/self/gid_map", "w") as f:
        f.write(f"0 {gid} 1")
    mount("none", "/", None, MS_REC | MS_PRIVATE)


def create_netns(path: str) -> None:
    """Create a network namespace and pin it on `path` (a bind mount that lives in the lab's mount namespace)."""
    error: list[BaseException] = []

    def run() -> None:
        try:
            unshare(CLONE_NEWNET)  # only this short-lived thread moves
            with open(path, "w"):
                pass
            mount("/proc/thread-self/ns/net", path, None, MS_BIND)
        except BaseException as e:  # reported to the caller below
            error.append(e)

    t = threading.Thread(target=run, name="netns-create")
    t.start()
    t.join()
    if error:
        raise error[0]


@contextlib.contextmanager
def netns(path: str) -> Iterator[None]:
    """Run the body with the calling thread inside the network namespace pinned on `path`."""
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    target = os.open(path, os.O_RDONLY)
    try:
        setns(target, CLONE_NEWNET)
        try:
            yield
        finally:
            setns(home, CLONE_NEWNET)
    finally:
        os.close(target)
        os.close(home)


def child_setup(net: str | None, binds: list[tuple[str, str]] = (), workdir: str | None = None,
                new_session: bool = False, hostname: str | None = None) -> Callable[[], None]:
    """A preexec_fn that puts a child in a netns and a private mount namespace with files bound over host paths."""
    def setup() -> None:
        if new_session:
            os.setsid()
        if hostname:
            unshare(CLONE_NEWUTS)
            raw = hostname.encode()
            _check(_libc.sethostname(raw, len(raw)), "sethostname")
        if net:
            fd = os.open(net, os.O_RDONLY)
            setns(fd, CLONE_NEWNET)
            os.close(fd)
        if binds:
            unshare(CLONE_NEWNS)
            mount("none", "/", None, MS_REC | MS_PRIVATE)
            for source, target in binds:
                bind_anywhere(source, target)
        if workdir:
            os.chdir(workdir)
    return setup


MNT_DETACH = 2
_libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]


def umount(target: str) -> None:
    """Lazily unmount `target`, ignoring a target that is not mounted."""
    if _libc.umount2(target.encode(), MNT_DETACH) != 0:
        err = ctypes.get_errno()
        if err not in (22, 2):  # EINVAL: not a mount point; ENOENT: gone
            raise OSError(err, f"umount {target}: {os.strerror(err)}")


# Directories a volume may never shadow with a tmpfs, or the container's tools would vanish.
_PROTECTED = {"/", "/bin", "/sbin", "/usr", "/lib", "/lib64", "/etc", "/proc", "/sys", "/dev", "/root", "/home"}


def bind_anywhere(source: str, target: str) -> None:
    """Bind `source` over `target` in a private mount namespace, making the mount point on a scratch tmpfs if needed."""
    if not os.path.lexists(target):
        parent = os.path.dirname(target.rstrip("/")) or "/"
        missing = [target]
        while not os.path.isdir(parent):
            missing.append(parent)
            parent = os.path.dirname(parent) or "/"
        if parent in _PROTECTED:
            raise OSError(f"cannot create mount point {target} under {parent}")
        mount("tmpfs", parent, "tmpfs", 0, "mode=0755")  # private to this container's mount namespace
        for path in reversed(missing):
            if os.path.isdir(source) or path != target:
                os.makedirs(path, exist_ok=True)
            else:
                open(path, "w").close()
    mount(source, target, None, MS_BIND)

"""Thin wrappers over the namespace syscalls (unshare, setns, mount) the sandbox is built from."""
from __future__ import annotations

import contextlib
import ctypes
import os
import threading
from typing import Callable, Iterator

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_RDONLY = 1
MS_REMOUNT = 32
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


def child_setup(net: str | None, binds: list[tuple] = (), workdir: str | None = None,
                new_session: bool = False, hostname: str | None = None, scratch: str | None = None,
                own_pids: bool = False) -> Callable[[], None]:
    """A preexec_fn that puts a child in a netns and a private mount namespace with files bound over host paths.

    `binds` holds (source, target[, readonly]); when a target needs a new top-level folder and `scratch`
    (an empty folder) is given, the child gets a root of its own there: the host's top-level folders bound
    in, plus the new mount points, then chroot. With `own_pids`, the command runs as pid 1 of a fresh pid
    namespace (with its own /proc), so `ps` shows only it and `kill 1` cannot reach the lab's supervisor.
    """
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
            root = ""
            if scratch and any(_needs_top_level(b[1]) for b in binds):
                _build_root(scratch)
                root = scratch
            for source, target, *ro in binds:
                bind_anywhere(source, target, readonly=bool(ro and ro[0]), root=root)
            if root:
                os.chroot(root)
                os.chdir("/")
        if own_pids:
            _enter_own_pid_namespace(mounted=bool(binds))
        if workdir:
            os.chdir(workdir)
    return setup


def _enter_own_pid_namespace(mounted: bool) -> None:
    """Fork into a new pid namespace: the parent only waits and passes the child's exit status on."""
    if not mounted:
        unshare(CLONE_NEWNS)
        mount("none", "/", None, MS_REC | MS_PRIVATE)
    unshare(CLONE_NEWPID)
    pid = os.fork()
    if pid:
        _, status = os.waitpid(pid, 0)
        os._exit(os.waitstatus_to_exitcode(status) % 256 if os.WIFEXITED(status) else 128 + os.WTERMSIG(status))
    mount("proc", "/proc", "proc", 0)


def _needs_top_level(target: str) -> bool:
    """Whether mounting on `target` means creating a folder directly under /."""
    top = "/" + target.strip("/").split("/", 1)[0]
    return not os.path.lexists(top)


def _build_root(scratch: str) -> None:
    """A tmpfs root holding the host's top-level entries (folders bound recursively, links copied)."""
    mount("tmpfs", scratch, "tmpfs", 0, "mode=0755")
    for name in os.listdir("/"):
        src, dst = "/" + name, os.path.join(scratch, name)
        if os.path.islink(src):
            os.symlink(os.readlink(src), dst)
        elif os.path.isdir(src):
            os.mkdir(dst)
            mount(src, dst, None, MS_BIND | MS_REC)
        else:
            open(dst, "w").close()
            mount(src, dst, None, MS_BIND)


# Folders a volume may never shadow with a tmpfs, or the container's tools would vanish.
_PROTECTED = {"/bin", "/sbin", "/usr", "/lib", "/lib64", "/etc", "/proc", "/sys", "/dev", "/root", "/home", "/tmp"}


def bind_anywhere(source: str, target: str, readonly: bool = False, root: str = "") -> None:
    """Bind `source` over root+`target` in a private mount namespace, making the mount point if needed.

    A missing mount point is made on a tmpfs laid over its nearest existing folder (never over a system
    folder), or directly in `root` when the child has a scratch root of its own.
    """
    path = root + target
    if not os.path.lexists(path):
        parent = os.path.dirname(target.rstrip("/")) or "/"
        while not os.path.isdir(root + parent):
            parent = os.path.dirname(parent) or "/"
        if parent == "/":
            if not root:
                raise OSError(f"cannot create mount point {target} without a scratch root")
        elif parent in _PROTECTED:
            raise OSError(f"cannot create mount point {target}: {parent} cannot be shadowed")
        else:
            mount("tmpfs", root + parent, "tmpfs", 0, "mode=0755")  # private to this container's mount namespace
        if os.path.isdir(source):
            os.makedirs(path, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            open(path, "w").close()
    mount(source, path, None, MS_BIND | (MS_REC if os.path.isdir(source) else 0))  # submounts too (pinned netns)
    if readonly:
        mount("none", path, None, MS_REMOUNT | MS_BIND | MS_RDONLY)



MNT_DETACH = 2
_libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]


def umount(target: str) -> None:
    """Lazily unmount `target`, ignoring a target that is not mounted."""
    if _libc.umount2(target.encode(), MNT_DETACH) != 0:
        err = ctypes.get_errno()
        if err not in (22, 2):  # EINVAL: not a mount point; ENOENT: gone
            raise OSError(err, f"umount {target}: {os.strerror(err)}")


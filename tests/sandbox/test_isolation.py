"""The lab leaves the host as it found it, runs side by side with others, and runs as an ordinary user."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from k8snet_tutorial import Lab

from labtools import REPO, host_network_state, lab_processes, unique_name


def test_host_network_is_untouched_and_nothing_survives_down():
    before = host_network_state()
    lab = Lab.up(unique_name("iso"), backend="sandbox", config=str(REPO / "kind-config.yaml"))
    state = lab.backend.state
    try:
        lab.apply(str(REPO / "tests/sandbox/data/pods.yaml"))
        assert lab.probe("client", "server-b").ok
        during = host_network_state()
        pids = lab_processes(state)
        assert pids, "the lab's supervisor should be visible while it runs"
    finally:
        lab.down()
    assert during == before, "the host's network namespace changed while the lab ran"
    assert host_network_state() == before
    assert not lab_processes(state), "a lab process survived `down`"
    assert not state.exists()


def test_two_labs_side_by_side_do_not_see_each_other():
    a = Lab.up(unique_name("a"), backend="sandbox", config=str(REPO / "kind-config.yaml"))
    b = Lab.up(unique_name("b"), backend="sandbox", config=str(REPO / "kind-config.yaml"))
    try:
        a.apply(str(REPO / "tests/sandbox/data/pods.yaml"))
        assert b.pods() == []
        b.apply(str(REPO / "tests/sandbox/data/pods.yaml"))
        # Same addresses in both labs, yet each probe is answered inside its own lab.
        assert a.pod_ip("server-b") == b.pod_ip("server-b")
        b.kubectl("delete pod server-b")
        assert a.probe("client", "server-b").ok
        assert b.probe("client", "10.244.2.2:80").outcome in ("timeout", "unreachable", "refused")
    finally:
        a.down()
        b.down()


def test_second_up_is_a_no_op_that_says_so():
    name = unique_name("twice")
    lab = Lab.up(name, backend="sandbox", config=str(REPO / "kind-config.yaml"))
    try:
        again = Lab.up(name, backend="sandbox", config=str(REPO / "kind-config.yaml"))
        assert "already running" in again.message
    finally:
        lab.down()
    assert "not running" in lab.down()


def test_down_after_a_crash_cleans_up_and_says_so():
    lab = Lab.up(unique_name("crash"), backend="sandbox", config=str(REPO / "kind-config.yaml"))
    state = lab.backend.state
    pid = int(lab.backend.pidfile.read_text().split()[0])
    os.kill(pid, 9)  # the launcher we started; PR_SET_PDEATHSIG and the pid namespace take the rest
    os.waitpid(pid, 0)
    msg = lab.down()
    assert "crashed" in msg or "stopped" in msg
    assert not state.exists()
    deadline = time.monotonic() + 5
    while lab_processes(state) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not lab_processes(state), "a process of the crashed lab survived"


def _python_for_nobody() -> str | None:
    """A Python of the same minor version that user `nobody` may execute (the venv's may live under /root)."""
    for candidate in (sys.executable, os.path.realpath(sys.executable), f"/usr/bin/python{sys.version_info[0]}.{sys.version_info[1]}"):
        ok = subprocess.run(["runuser", "-u", "nobody", "--", candidate, "-c", "pass"],
                            capture_output=True).returncode == 0
        if ok:
            return candidate
    return None


@pytest.mark.skipif(os.getuid() != 0 or not shutil.which("runuser"), reason="needs root to switch to an unprivileged user")
def test_runs_as_an_ordinary_user(tmp_path):
    python = _python_for_nobody()
    if python is None:
        pytest.fail("no Python interpreter that user nobody can execute; .ci/run installs Debian's python3")
    script = ("from k8snet_tutorial import Lab\n"
              f"lab = Lab.up('nobody-lab', backend='sandbox', config={str(REPO / 'kind-config.yaml')!r})\n"
              f"lab.apply({str(REPO / 'tests/sandbox/data/pods.yaml')!r})\n"
              "r = lab.probe('client', 'server-b')\n"
              "print(r.outcome, r.seen_source)\n"
              "print(lab.down())\n")
    site = next(p for p in sys.path if p.endswith("site-packages") and p.startswith(sys.prefix))
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "PYTHONPATH": f"{REPO}:{site}"}
    tmp_path.chmod(0o777)
    for parent in tmp_path.parents:  # pytest's tmp folders are private to root: let nobody through
        if str(parent).startswith("/tmp/pytest-of-"):
            parent.chmod(0o755)
    proc = subprocess.run(["runuser", "-u", "nobody", "--", "env", *(f"{k}={v}" for k, v in env.items()),
                           python, "-c", script],
                          capture_output=True, text=True, env=env, timeout=120, cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert "connected 10.244.1.3" in proc.stdout

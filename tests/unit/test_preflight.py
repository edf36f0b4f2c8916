"""The system-tool preflight: which tools are missing, the apt-get line, the error and the script's exit code."""
from __future__ import annotations

import shutil

import pytest

from k8snet_tutorial import preflight
from k8snet_tutorial.errors import EnvironmentProblem
from k8snet_tutorial.preflight import REQUIRED_TOOLS, Tool, apt_line, check_tools, missing_tools


def fake_which(absent: set[str]):
    """A shutil.which that finds every binary except those in `absent`, wherever it looks."""
    def which(cmd, mode=None, path=None):
        return None if cmd in absent else f"/usr/bin/{cmd}"
    return which


def test_table_names_binary_package_and_purpose() -> None:
    binaries = {t.binary: t.package for t in REQUIRED_TOOLS}
    assert binaries == {
        "ip": "iproute2", "ss": "iproute2", "iptables": "iptables", "nft": "nftables", "conntrack": "conntrack",
        "dot": "graphviz", "dig": "dnsutils", "nslookup": "dnsutils", "curl": "curl", "ping": "iputils-ping",
        "tcpdump": "tcpdump", "unshare": "util-linux", "nsenter": "util-linux",
    }
    assert all(t.purpose for t in REQUIRED_TOOLS)


def test_nothing_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", fake_which(set()))
    assert missing_tools() == []
    check_tools()  # no exception


def test_missing_tools_in_table_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", fake_which({"nslookup", "dig", "tcpdump"}))
    assert [t.binary for t in missing_tools()] == ["dig", "nslookup", "tcpdump"]


def test_sbin_fallback_when_path_lacks_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """Debian users' PATH often lacks /usr/sbin, where ip and iptables live: they are not missing."""
    monkeypatch.setenv("PATH", "/usr/bin:/bin")

    def which(cmd, mode=None, path=None):
        return f"/usr/sbin/{cmd}" if path and "/usr/sbin" in path.split(":") else None
    monkeypatch.setattr(shutil, "which", which)
    assert preflight.find_tool("iptables") == "/usr/sbin/iptables"
    assert missing_tools() == []


def test_apt_line_deduplicated_and_sorted() -> None:
    tools = [Tool("tcpdump", "tcpdump", ""), Tool("dig", "dnsutils", ""), Tool("nslookup", "dnsutils", ""),
             Tool("ip", "iproute2", ""), Tool("ss", "iproute2", "")]
    assert apt_line(tools) == "sudo apt-get install -y dnsutils iproute2 tcpdump"
    assert apt_line([]) == ""


def test_check_tools_raises_one_message_with_apt_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", fake_which({"dig", "nslookup", "nft"}))
    with pytest.raises(EnvironmentProblem) as info:
        check_tools()
    err = info.value
    assert err.exit_code == 3
    text = str(err)
    for binary in ("dig", "nslookup", "nft"):
        assert f"  {binary} " in text
    assert "curl" not in text
    assert text.count("apt-get") == 1
    assert "sudo apt-get install -y dnsutils nftables" in text


def test_script_silent_and_zero_when_all_present(monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(shutil, "which", fake_which(set()))
    assert preflight.main() == 0
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""


def test_script_message_on_stderr_and_exit_3(monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(shutil, "which", fake_which({"dot"}))
    assert preflight.main() == 3
    out = capsys.readouterr()
    assert out.out == ""
    assert "dot" in out.err and "sudo apt-get install -y graphviz" in out.err


def test_script_runs_as_module() -> None:
    """`python -m k8snet_tutorial.preflight` really is a script (exit status 0 or 3, nothing else)."""
    import subprocess
    import sys
    r = subprocess.run([sys.executable, "-m", "k8snet_tutorial.preflight"], capture_output=True, text=True, timeout=60)
    assert r.returncode in (0, 3), r.stderr
    assert r.stdout == ""
    assert (r.returncode == 0) == (r.stderr == "")

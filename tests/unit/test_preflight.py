"""The system-tool preflight: which tools are missing, the apt-get line, the error, the script's exit code, --install."""
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
        "newuidmap": "uidmap", "newgidmap": "uidmap",
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


def test_script_runs_as_a_plain_file_before_the_venv_exists(tmp_path) -> None:
    """The Makefile runs preflight.py with the system python3 before .venv exists: standard library only, no babel."""
    import subprocess
    import sys
    path = preflight.__file__
    # -I: no site-packages (like a fresh python3), and PATH with nothing on it: /usr/bin's tools are missing
    env = {"PATH": str(tmp_path), "K8SNET_LANG": "fr", "HOME": str(tmp_path)}
    r = subprocess.run([sys.executable, "-I", "-S", path], capture_output=True, text=True, timeout=60, env=env)
    assert r.returncode == 3, r.stderr
    assert "Traceback" not in r.stderr
    assert "curl" in r.stderr and "apt-get install -y" in r.stderr and "uidmap" in r.stderr


# -- --install: the decision (root, sudo, neither), with a fake machine: nothing is ever installed ----------------

MISSING = [Tool("tcpdump", "tcpdump", "x"), Tool("newuidmap", "uidmap", "y"), Tool("newgidmap", "uidmap", "y")]


class FakeMachine(preflight.Machine):
    """A machine whose commands are recorded, whose installs "work" (the tools then appear) unless told otherwise."""

    def __init__(self, euid: int, *, sudo: bool = True, apt: bool = True, interactive: bool = False,
                 answer: bool = True, sudo_n_ok: bool = True, install_code: int = 0) -> None:
        self.commands: list[tuple[list[str], dict | None]] = []
        self.said: list[str] = []
        self.asked: list[str] = []
        self.installed = False
        self.present = {"sudo": sudo, "apt-get": apt}

        def which(binary: str) -> str | None:
            if binary in self.present:
                return f"/usr/bin/{binary}" if self.present[binary] else None
            return f"/usr/bin/{binary}" if self.installed else None

        def run(argv: list[str], env=None) -> int:
            self.commands.append((argv, env))
            if argv[:3] == ["sudo", "-n", "true"]:
                return 0 if sudo_n_ok else 1
            if "install" in argv and install_code == 0:
                self.installed = True
            return install_code if "install" in argv else 0

        def ask(question: str) -> bool:
            self.asked.append(question)
            return answer
        super().__init__(euid=euid, which=which, run=run, interactive=interactive, ask=ask, say=self.said.append)

    @property
    def argvs(self) -> list[list[str]]:
        return [argv for argv, _env in self.commands]


def test_install_nothing_missing_runs_nothing() -> None:
    m = FakeMachine(1000)
    preflight.install(m, missing=[])
    assert m.commands == [] and m.said == []


def test_install_as_root_uses_apt_get_directly() -> None:
    m = FakeMachine(0, sudo=False)
    preflight.install(m, missing=MISSING)
    assert m.argvs == [["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "tcpdump", "uidmap"]]
    assert all(env["DEBIAN_FRONTEND"] == "noninteractive" for _argv, env in m.commands)
    assert m.asked == []
    assert "tcpdump" in m.said[0] and "uidmap" in m.said[0]          # what and why, before anything runs
    assert "apt-get install -y tcpdump uidmap" in m.said[1]


def test_install_without_root_and_a_terminal_asks_then_uses_sudo() -> None:
    m = FakeMachine(1000, interactive=True)
    preflight.install(m, missing=MISSING)
    assert len(m.asked) == 1 and "sudo" in m.asked[0]
    assert m.argvs == [["sudo", "apt-get", "update", "-q"], ["sudo", "apt-get", "install", "-y", "-q", "tcpdump", "uidmap"]]


def test_install_without_root_a_no_answer_installs_nothing() -> None:
    m = FakeMachine(1000, interactive=True, answer=False)
    with pytest.raises(EnvironmentProblem) as info:
        preflight.install(m, missing=MISSING)
    assert info.value.exit_code == 3 and m.commands == []
    assert "sudo apt-get install -y tcpdump uidmap" in str(info.value)


def test_install_without_root_and_no_terminal_uses_sudo_n() -> None:
    m = FakeMachine(1000, interactive=False)
    preflight.install(m, missing=MISSING)
    assert m.asked == []
    assert m.argvs == [["sudo", "-n", "true"], ["sudo", "-n", "apt-get", "update", "-q"],
                       ["sudo", "-n", "apt-get", "install", "-y", "-q", "tcpdump", "uidmap"]]


def test_install_when_sudo_needs_a_password_and_no_terminal_exits_3() -> None:
    m = FakeMachine(1000, interactive=False, sudo_n_ok=False)
    with pytest.raises(EnvironmentProblem) as info:
        preflight.install(m, missing=MISSING)
    assert m.argvs == [["sudo", "-n", "true"]]
    assert "password" in str(info.value) and "sudo apt-get install -y tcpdump uidmap" in str(info.value)


def test_install_without_root_nor_sudo_exits_3_with_the_line() -> None:
    m = FakeMachine(1000, sudo=False, interactive=True)
    with pytest.raises(EnvironmentProblem) as info:
        preflight.install(m, missing=MISSING)
    assert m.commands == [] and m.asked == []
    assert info.value.exit_code == 3
    assert "sudo is not installed" in str(info.value) and "sudo apt-get install -y tcpdump uidmap" in str(info.value)


def test_install_without_apt_get_names_the_packages() -> None:
    m = FakeMachine(0, apt=False)
    with pytest.raises(EnvironmentProblem) as info:
        preflight.install(m, missing=MISSING)
    assert m.commands == [] and "apt-get" in str(info.value) and "tcpdump uidmap" in str(info.value)


def test_install_that_fails_exits_3() -> None:
    m = FakeMachine(0, install_code=100)
    with pytest.raises(EnvironmentProblem) as info:
        preflight.install(m, missing=MISSING)
    assert "100" in str(info.value)


def test_install_that_leaves_a_tool_missing_exits_3() -> None:
    m = FakeMachine(0)
    real_which = m.which
    m.which = lambda b: None if b == "newgidmap" else real_which(b)
    with pytest.raises(EnvironmentProblem) as info:
        preflight.install(m, missing=MISSING)
    assert "newgidmap" in str(info.value) and "tcpdump," not in str(info.value)


def test_install_adds_python3_venv_before_the_venv_exists(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", fake_which(set()))
    monkeypatch.setattr(preflight, "venv_missing", lambda: True)
    m = FakeMachine(0)
    preflight.install(m)
    assert m.argvs[-1] == ["apt-get", "install", "-y", "-q", "python3-venv"]
    assert "python3-venv" in m.said[0]


def test_script_install_mode_exit_codes(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(shutil, "which", fake_which({"tcpdump"}))
    monkeypatch.setattr(preflight, "venv_missing", lambda: False)
    assert preflight.main(["--install"], FakeMachine(1000, sudo=False)) == 3
    assert "sudo apt-get install -y tcpdump" in capsys.readouterr().err
    assert preflight.main(["--install"], FakeMachine(0)) == 0
    with pytest.raises(SystemExit) as info:
        preflight.main(["--bogus"])
    assert info.value.code == 2

"""The library's messages in French and English: a complete catalog, matching placeholders, a language switch.

The source is parsed (not grepped), so a `_()` hidden in an f-string counts too.
"""
from __future__ import annotations

import ast
import re
import threading
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from k8snet_tutorial import i18n
from k8snet_tutorial.errors import NotModelledError
from k8snet_tutorial.i18n import _, language, using
from k8snet_tutorial.results import PROBE_OUTCOMES, ProbeResult, outcome_word
from k8snet_tutorial.sandbox.validation import check_pod_spec

PACKAGE = Path(i18n.__file__).parent
PO = PACKAGE / "locale" / "fr" / "LC_MESSAGES" / "k8snet.po"
MARKERS = {"_": 1, "N_": 1, "ngettext": 2}
PLACEHOLDER = re.compile(r"(?<!\{)\{([^{}]*)\}(?!\})")


def _calls() -> list[tuple[str, int, str, tuple[str, ...]]]:
    """(file, line, marker, literal msgids) for every marker call with literal arguments in the package."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in MARKERS:
                args = node.args[:MARKERS[node.func.id]]
                if args and all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in args):
                    found.append((path.relative_to(PACKAGE.parent).as_posix(), node.lineno, node.func.id,
                                  tuple(a.value for a in args)))
    return found


CALLS = _calls()


@pytest.fixture(scope="module")
def catalog():
    with PO.open("rb") as f:
        return read_po(f, locale="fr")


def _placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


@pytest.fixture
def lang(monkeypatch):
    """Switch the language the way a learner does: $K8SNET_LANG."""
    def switch(value: str) -> None:
        monkeypatch.setenv("K8SNET_LANG", value)
    return switch


def test_the_package_marks_its_messages():
    assert len(CALLS) > 150
    assert {m for _f, _l, m, _ids in CALLS} == set(MARKERS)


def test_every_message_of_the_source_has_a_french_translation(catalog):
    missing = []
    for where, line, _marker, ids in CALLS:
        key = ids[0] if len(ids) == 1 else ids
        msg = catalog.get(key)
        strings = (msg.string if isinstance(msg.string, tuple) else (msg.string,)) if msg is not None else ()
        if msg is None or not strings or not all(strings):
            missing.append(f"{where}:{line}: {ids}")
    assert not missing, "untranslated (run `python -m k8snet_tutorial.i18n`, then translate):\n" + "\n".join(missing)


def test_no_msgstr_is_empty_and_none_is_fuzzy(catalog):
    for msg in catalog:
        if not msg.id:
            continue
        strings = msg.string if isinstance(msg.string, tuple) else (msg.string,)
        assert strings and all(s.strip() for s in strings), msg.id
        assert not msg.fuzzy, msg.id


def test_placeholders_match_between_msgid_and_msgstr(catalog):
    for msg in catalog:
        if not msg.id:
            continue
        ids = msg.id if isinstance(msg.id, tuple) else (msg.id,)
        strings = msg.string if isinstance(msg.string, tuple) else (msg.string,)
        want = set().union(*(_placeholders(i) for i in ids))
        for s in strings:
            assert _placeholders(s) == want, (msg.id, s)


def test_the_catalog_is_sorted_by_file_with_references(catalog):
    """Every entry says where it comes from; the entries follow the files in order."""
    firsts = []
    for msg in catalog:
        if msg.id:
            assert msg.locations, msg.id
            firsts.append(min(msg.locations))
    assert firsts == sorted(firsts)


def test_no_function_hides_the_translator_behind_a_local_underscore():
    """`for _ in …` or `a, _ = …` in a function that calls _() makes _ a local: the call then fails at run time."""
    bad = []
    scopes = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for fn in [tree, *(n for n in ast.walk(tree) if isinstance(n, scopes))]:
            binds = calls = False
            stack = list(ast.iter_child_nodes(fn))
            while stack:
                node = stack.pop()
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "_":
                    calls = True
                if isinstance(node, (*scopes, ast.ClassDef)):
                    continue  # its own scope: a _ bound there does not shadow ours (its calls still count)
                if isinstance(node, ast.Name) and node.id == "_" and isinstance(node.ctx, ast.Store) or \
                        isinstance(node, ast.arg) and node.arg == "_":
                    binds = True
                if not isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
                    stack.extend(ast.iter_child_nodes(node))
                else:
                    stack.extend(n for n in ast.walk(node) if isinstance(n, ast.Call))
            if binds and calls:
                bad.append(f"{path.name}:{getattr(fn, 'lineno', 0)}")
    assert not bad, bad


def test_every_probe_outcome_has_a_word(lang):
    lang("fr")
    words = {o: outcome_word(o) for o in PROBE_OUTCOMES}
    assert words["connected"] == "connecté" and words["refused"] == "refusé" and words["timeout"] == "délai dépassé"
    assert len(set(words.values())) == len(PROBE_OUTCOMES)
    lang("en")
    assert [outcome_word(o) for o in PROBE_OUTCOMES] == list(PROBE_OUTCOMES)


def test_language_switches_a_probe_summary(lang):
    r = ProbeResult("client", "web", "10.96.0.20", 80, "TCP", "connected", responder="web-7b5f57d479-aaaaa",
                    seen_source="10.244.2.2", latency_ms=1.25)
    lang("fr")
    assert r.summary() == ("client -> web (10.96.0.20:80/TCP): connecté, réponse de web-7b5f57d479-aaaaa, "
                           "source vue : 10.244.2.2, 1.2 ms")
    assert "connecté" in r._repr_html_()
    assert r.outcome == "connected" and r.to_dict()["outcome"] == "connected"  # the API stays English
    lang("en")
    assert r.summary() == ("client -> web (10.96.0.20:80/TCP): connected, answered by web-7b5f57d479-aaaaa, "
                           "saw source 10.244.2.2, 1.2 ms")


def test_language_switches_an_error_and_its_hint(lang):
    lang("fr")
    with pytest.raises(NotModelledError) as err:
        check_pod_spec({"hostNetwork": True, "containers": []}, "pod/hostnet")
    assert err.value.message == ("pod/hostnet : spec.hostNetwork : les pods qui partagent les espaces de noms du nœud"
                                 " — le bac à sable ne modélise pas cela.")
    assert err.value.hint.startswith("Pour en disposer, lancez-le sur le backend kind")
    lang("en")
    with pytest.raises(NotModelledError) as err:
        check_pod_spec({"hostNetwork": True, "containers": []}, "pod/hostnet")
    assert err.value.message == ("pod/hostnet: spec.hostNetwork: pods sharing the node's namespaces"
                                 " — the sandbox does not model this.")
    assert err.value.hint.startswith("Run this on the kind backend")


def test_plural_forms_follow_french_rules(lang):
    lang("fr")
    assert i18n.ngettext("+{n} packet", "+{n} packets", 0).format(n=0) == "+0 paquet"
    assert i18n.ngettext("+{n} packet", "+{n} packets", 1).format(n=1) == "+1 paquet"
    assert i18n.ngettext("+{n} packet", "+{n} packets", 2).format(n=2) == "+2 paquets"
    lang("en")
    assert i18n.ngettext("+{n} packet", "+{n} packets", 0).format(n=0) == "+0 packets"


def test_language_comes_from_env_then_folder_then_lang(monkeypatch, tmp_path):
    monkeypatch.delenv("K8SNET_LANG", raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
    (tmp_path / "notebooks" / "fr").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "notebooks" / "fr")
    assert language() == "fr"
    monkeypatch.setenv("K8SNET_LANG", "en")
    assert language() == "en"
    monkeypatch.delenv("K8SNET_LANG")
    monkeypatch.chdir(tmp_path)
    assert language() == "en"
    monkeypatch.setenv("LANG", "fr_FR.UTF-8")
    assert language() == "fr"


def test_using_overrides_the_environment_for_this_thread_only(lang):
    """How the supervisor answers each request in its caller's language while serving others at once."""
    lang("en")
    seen: dict[str, str] = {}
    inside, release = threading.Event(), threading.Event()

    def other() -> None:
        inside.wait(5)
        seen["other"] = _("connected")
        release.set()

    t = threading.Thread(target=other)
    t.start()
    with using("fr") as current:
        assert current == "fr" and language() == "fr" and _("connected") == "connecté"
        inside.set()
        release.wait(5)
        with using("en"):
            assert _("connected") == "connected"
        with using(None):  # no language sent (an older client): nothing changes
            assert language() == "fr"
        assert _("connected") == "connecté"
    t.join(5)
    assert seen["other"] == "connected"  # the other thread kept the process's language
    assert language() == "en"


def test_sandbox_client_sends_its_language(monkeypatch, lang, tmp_path):
    """Each request carries language(), so the supervisor (another process) answers in the notebook's language."""
    import json
    import socket

    from k8snet_tutorial.backends.sandbox import SandboxBackend
    from k8snet_tutorial.config import load_config

    backend = SandboxBackend(load_config(None, name="i18n-test"))
    backend.sock = tmp_path / "s.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(backend.sock))
    server.listen(1)
    got: dict = {}

    def answer() -> None:
        conn, _addr = server.accept()
        with conn:
            got.update(json.loads(conn.makefile().readline()))
            with using(got.get("lang")):
                message = _("pod {name} is not running").format(name="web")
            conn.sendall((json.dumps({"ok": False, "error": {"type": "UsageError", "message": message,
                                                             "hint": None}}) + "\n").encode())

    t = threading.Thread(target=answer)
    t.start()
    lang("fr")
    try:
        with pytest.raises(Exception, match="le pod web ne tourne pas"):
            backend.call("exec", command=["true"], pod="web")
    finally:
        t.join(5)
        server.close()
    assert got["lang"] == "fr" and got["op"] == "exec"

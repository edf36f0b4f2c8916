"""The supervisor answers each request in its caller's language, whatever its own environment says."""
from __future__ import annotations

import threading
from pathlib import Path

import pytest

from k8snet_tutorial.errors import UsageError
from k8snet_tutorial.i18n import using


@pytest.fixture(scope="module")
def pods(lab):
    lab.apply(str(Path(__file__).parent / "data" / "pods.yaml"))


def test_a_french_caller_gets_french_details_and_errors(lab, pods, monkeypatch):
    monkeypatch.setenv("K8SNET_LANG", "fr")
    r = lab.probe("client", "server-b", port=81)
    assert r.outcome == "refused" and r.detail == "connexion refusée (rien n'écoute à cette adresse)"
    assert ": refusé (connexion refusée" in r.summary()
    with pytest.raises(UsageError, match="exec : aucune commande donnée"):
        lab.exec("client", [])
    # What imitates kubectl stays exactly what kubectl prints, in every language.
    with pytest.raises(UsageError, match='Error from server \\(NotFound\\): pods "ghost" not found'):
        lab.exec("ghost", "true")
    monkeypatch.setenv("K8SNET_LANG", "en")
    assert lab.probe("client", "server-b", port=81).detail == "connection refused (nothing listens there)"


def test_callers_in_two_languages_at_once(lab, pods):
    details: dict[str, set[str]] = {"fr": set(), "en": set()}

    def ask(lang: str) -> None:
        with using(lang):
            for _ in range(5):
                details[lang].add(lab.probe("client", "server-a", port=81).detail)

    threads = [threading.Thread(target=ask, args=(lang,)) for lang in ("fr", "en", "fr", "en")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert details == {"fr": {"connexion refusée (rien n'écoute à cette adresse)"},
                       "en": {"connection refused (nothing listens there)"}}

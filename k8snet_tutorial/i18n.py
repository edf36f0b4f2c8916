"""The library's messages in the learner's language (gettext catalogs; English is the source language).

The language comes from a caller's override (`with using("fr"): …`, how the sandbox's supervisor answers each
request in the language of the notebook that sent it), else from $K8SNET_LANG, else from the notebook's folder
(`notebooks/fr/…` runs in French), else from $LANG. Code cells stay identical across languages: only where a
notebook lives changes.

Translate the template, then fill it in: `_("pod {name} is not running").format(name=...)`, so the catalog's
msgids stay stable. Texts that imitate real tools (kubectl, kube-proxy, CoreDNS) are never translated.
"""
from __future__ import annotations

import contextlib
import contextvars
import functools
import gettext
import io
import os
from pathlib import Path
from typing import Iterator

LANGUAGES = ("en", "fr")
LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "k8snet"

# Set for the current thread (or task) only: the supervisor serves many callers at once.
_override: contextvars.ContextVar[str | None] = contextvars.ContextVar("k8snet_lang", default=None)


def language() -> str:
    """The language messages are given in: 'fr' or 'en' (the one place that decides)."""
    forced = _override.get()
    if forced in LANGUAGES:
        return forced
    explicit = os.environ.get("K8SNET_LANG", "").lower()[:2]
    if explicit in LANGUAGES:
        return explicit
    for part in reversed(Path.cwd().parts):
        if part in LANGUAGES:
            return part
    return "fr" if os.environ.get("LANG", "").lower().startswith("fr") else "en"


@functools.lru_cache(maxsize=None)
def translations(lang: str) -> gettext.NullTranslations:
    """The catalog for a language, read from its .po file (compiled in memory with Babel)."""
    po = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    if lang == "en" or not po.exists():
        return gettext.NullTranslations()
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po
    with po.open("rb") as f:
        catalog = read_po(f, locale=lang)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return gettext.GNUTranslations(buf)


@contextlib.contextmanager
def using(lang: str | None) -> Iterator[str]:
    """Give messages in `lang` inside the block, for this thread only (an unknown or empty lang changes nothing)."""
    lang = (lang or "").lower()[:2]
    token = _override.set(lang) if lang in LANGUAGES else None
    try:
        yield language()
    finally:
        if token is not None:
            _override.reset(token)


def _(message: str) -> str:
    """Translate a message into the current language."""
    return translations(language()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """Translate a message whose form depends on a count (`{n} pod` / `{n} pods`)."""
    return translations(language()).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark a message for the catalog without translating it yet (tables of texts, translated where shown)."""
    return message

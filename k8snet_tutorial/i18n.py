"""The library's messages in the learner's language (gettext catalogs; English is the source language).

The language comes from $K8SNET_LANG, else from the notebook's folder (`notebooks/fr/…` runs in French),
else from $LANG. Code cells stay identical across languages: only where a notebook lives changes.
"""
from __future__ import annotations

import functools
import gettext
import io
import os
from pathlib import Path

LANGUAGES = ("en", "fr")
LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "k8snet"


def language() -> str:
    """The language messages are given in: 'fr' or 'en'."""
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


def _(message: str) -> str:
    """Translate a message into the current language."""
    return translations(language()).gettext(message)

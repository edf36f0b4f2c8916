"""The library's messages in the learner's language (gettext catalogs; English is the source language).

The language comes from a caller's override (`with using("fr"): …`, how the sandbox's supervisor answers each
request in the language of the notebook that sent it), else from $K8SNET_LANG, else from the notebook's folder
(`notebooks/fr/…` runs in French), else from $LANG. Code cells stay identical across languages: only where a
notebook lives changes.

Translate the template, then fill it in: `_("pod {name} is not running").format(name=...)`, so the catalog's
msgids stay stable. Texts that imitate real tools (kubectl, kube-proxy, CoreDNS) are never translated.
After adding or changing a message, `python -m k8snet_tutorial.i18n` brings the French catalog up to date (new
msgids arrive with an empty msgstr, which tests/unit/test_i18n.py refuses until someone translates them).
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


# ---------------------------------------------------------------------------------------------------
# The catalog's upkeep: `python -m k8snet_tutorial.i18n` adds new msgids (with empty msgstr, for a translator)
# and drops vanished ones, keeping the .po sorted by file with `#: path:line` references.
# ---------------------------------------------------------------------------------------------------

MARKERS = {"_": 1, "N_": 1, "ngettext": 2}  # function name -> how many leading literal arguments are msgids
PLURAL_FORMS = {"fr": "nplurals=2; plural=(n > 1);"}  # gettext's usual rule: 0 and 1 take the singular


def source_messages(package: Path | None = None) -> dict[str | tuple[str, str], list[tuple[str, int]]]:
    """Every literal msgid given to _(), N_() or ngettext() in the package's source, with where it appears.

    The source is parsed (not grepped), so calls inside f-strings count too; a singular/plural pair is a tuple.
    """
    import ast
    package = package or Path(__file__).parent
    found: dict[str | tuple[str, str], list[tuple[str, int]]] = {}
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(package.parent).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in MARKERS):
                continue
            args = node.args[:MARKERS[node.func.id]]
            if not args or not all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in args):
                continue  # _(variable): a message marked elsewhere with N_()
            key = args[0].value if len(args) == 1 else (args[0].value, args[1].value)
            found.setdefault(key, []).append((rel, node.lineno))
    for where in found.values():
        where.sort()  # ast.walk goes breadth-first: put each message's places back in file and line order
    return found


def update_catalog(lang: str = "fr") -> Path:
    """Rewrite a language's .po from the source: keep translations, add new msgids, drop vanished ones."""
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import read_po, write_po
    po = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    old = None
    if po.exists():
        with po.open("rb") as f:
            old = read_po(f, locale=lang)
    new = Catalog(locale=lang, domain=DOMAIN, project="k8snet", version="0.1", charset="utf-8", fuzzy=False,
                  header_comment=f"# {'French' if lang == 'fr' else lang} messages of the k8snet library.\n"
                                 "# Kept by `python -m k8snet_tutorial.i18n`; translations are written by hand.",
                  msgid_bugs_address="", last_translator="k8snet maintainers", language_team=lang,
                  creation_date=old.creation_date if old is not None else None)
    new.revision_date = new.creation_date
    new.mime_headers = [("Plural-Forms", PLURAL_FORMS.get(lang, "nplurals=2; plural=(n != 1);"))]
    for msgid, where in source_messages().items():
        previous = old.get(msgid) if old is not None else None
        string = previous.string if previous is not None else ("", "") if isinstance(msgid, tuple) else ""
        flags = ["python-brace-format"] if "{" in "".join(msgid if isinstance(msgid, tuple) else [msgid]) else []
        new.add(msgid, string, locations=where, flags=flags)
    out = io.BytesIO()
    write_po(out, new, width=120, sort_by_file=True, omit_header=False, ignore_obsolete=True)
    po.write_bytes(out.getvalue().replace(b'"Report-Msgid-Bugs-To: EMAIL@ADDRESS\\n"\n', b""))
    return po


def say(*, fr: str, en: str) -> None:
    """Print a notebook's own note in the notebook's language (code cells are shared by both languages)."""
    print(fr if language() == "fr" else en)


if __name__ == "__main__":
    print(update_catalog())

"""Kubernetes labels and label selectors (k8s.io/apimachinery/pkg/labels): parsing, validation, matching."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Iterable



class SelectorError(ValueError):
    """A label selector that does not parse or does not validate."""


_SELECTOR_SPECIAL = "=!(),<>"
LABEL_NAME_RE = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
DNS1123_SUBDOMAIN_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
NAME_MSG = ("name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
             "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
             "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')")
VALUE_MSG = ("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and "
              "must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', "
              "regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')")


def validate_label_key(key: str) -> str | None:
    """Why a label key is not a valid qualified name, or None when it is."""
    prefix, slash, name = key.rpartition("/")
    if not slash:
        prefix, name = "", key
    elif not prefix:
        return "prefix part must be non-empty"
    if prefix and (len(prefix) > 253 or not DNS1123_SUBDOMAIN_RE.match(prefix)):
        return ("prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
                "'-' or '.', and must start and end with an alphanumeric character")
    if not name:
        return "name part must be non-empty"
    if len(name) > 63:
        return "name part must be no more than 63 characters"
    if not LABEL_NAME_RE.match(name):
        return NAME_MSG
    return None


def validate_label_value(value: str) -> str | None:
    """Why a label value is invalid, or None when it is valid."""
    if len(value) > 63:
        return "must be no more than 63 characters"
    if value and not LABEL_NAME_RE.match(value):
        return VALUE_MSG
    return None


@dataclass(frozen=True)
class Requirement:
    """One term of a label selector: a key, an operator (=, ==, !=, in, notin, exists, !, gt, lt) and values."""

    key: str
    operator: str
    values: tuple[str, ...] = ()

    def matches(self, labels: dict[str, str] | None) -> bool:
        """Whether a label set satisfies this term (NotIn and != match when the key is absent)."""
        labels = labels or {}
        present = self.key in labels
        op = self.operator
        if op in ("=", "==", "in"):
            return present and labels[self.key] in self.values
        if op in ("!=", "notin"):
            return not present or labels[self.key] not in self.values
        if op == "exists":
            return present
        if op == "!":
            return not present
        if op in ("gt", "lt"):
            if not present:
                return False
            try:
                have, want = int(labels[self.key]), int(self.values[0])
            except ValueError:
                return False
            return have > want if op == "gt" else have < want
        raise SelectorError(f"{op!r} is not a valid label selector operator")

    def __str__(self) -> str:
        op = self.operator
        if op == "exists":
            return self.key
        if op == "!":
            return f"!{self.key}"
        if op in ("in", "notin"):
            return f"{self.key} {op} ({','.join(sorted(self.values))})"
        sym = {"gt": ">", "lt": "<"}.get(op, op)
        return f"{self.key}{sym}{self.values[0] if self.values else ''}"


def _lex_selector(s: str) -> list[tuple[str, str]]:
    """Tokens of a selector string: ('id', text) or ('op', symbol), ending with ('eos', '')."""
    tokens: list[tuple[str, str]] = []
    i = 0
    while i < len(s):
        ch = s[i]
        if ch.isspace():
            i += 1
            continue
        if ch in _SELECTOR_SPECIAL:
            two = s[i:i + 2]
            if two in ("==", "!="):
                tokens.append(("op", two))
                i += 2
            else:
                tokens.append(("op", ch))
                i += 1
            continue
        j = i
        while j < len(s) and not s[j].isspace() and s[j] not in _SELECTOR_SPECIAL:
            j += 1
        word = s[i:j]
        tokens.append(("op", word) if word in ("in", "notin") else ("id", word))
        i = j
    tokens.append(("eos", ""))
    return tokens


def _found(tok: tuple[str, str]) -> str:
    """How the labels parser names a token in its errors."""
    return "end of string" if tok[0] == "eos" else tok[1]


def _check_requirement(key: str, op: str, values: tuple[str, ...]) -> Requirement:
    """Validate one requirement the way labels.NewRequirement does."""
    why = validate_label_key(key)
    if why:
        raise SelectorError(f'key: Invalid value: "{key}": {why}')
    if op in ("in", "notin") and not values:
        raise SelectorError("values: Invalid value: []string{}: for 'in', 'notin' operators, values set can't be empty")
    if op in ("=", "==", "!=") and len(values) != 1:
        raise SelectorError("values: Invalid value: exact-match compatibility requires one single value")
    if op in ("gt", "lt"):
        if len(values) != 1:
            raise SelectorError("values: Invalid value: for 'Gt', 'Lt' operators, exactly one value is required")
        if not re.fullmatch(r"[+-]?\d+", values[0]):
            raise SelectorError(f'values[0]: Invalid value: "{values[0]}": for \'Gt\', \'Lt\' operators, '
                                "the value must be an integer")
    for i, v in enumerate(values):
        why = validate_label_value(v)
        if why and op not in ("gt", "lt"):
            raise SelectorError(f'values[{i}][{key}]: Invalid value: "{v}": {why}')
    return Requirement(key, op, tuple(values))


def parse_selector(s: str | None) -> list[Requirement]:
    """Parse a kubectl label selector (`k=v,k!=v,k in (a,b),k notin (c),k,!k,k>1`); raises SelectorError."""
    tokens = _lex_selector(s or "")
    pos = 0
    reqs: list[Requirement] = []

    def peek() -> tuple[str, str]:
        """The next token."""
        return tokens[pos]

    def take() -> tuple[str, str]:
        """Consume the next token."""
        nonlocal pos
        tok = tokens[pos]
        pos = min(pos + 1, len(tokens) - 1)
        return tok

    if peek()[0] == "eos":
        return reqs
    while True:
        tok = take()
        if tok == ("op", "!"):
            key_tok = take()
            if key_tok[0] != "id":
                raise SelectorError(f"found '{_found(key_tok)}', expected: identifier after '!'")
            reqs.append(_check_requirement(key_tok[1], "!", ()))
        elif tok[0] == "id":
            key = tok[1]
            nxt = peek()
            if nxt[0] == "eos" or nxt == ("op", ","):
                reqs.append(_check_requirement(key, "exists", ()))
            else:
                op_tok = take()
                op = op_tok[1]
                if op_tok[0] != "op" or op not in ("in", "notin", "=", "==", "!=", ">", "<"):
                    raise SelectorError(f"found '{_found(op_tok)}', expected: in, notin, =, ==, !=, gt, lt")
                if op in ("in", "notin"):
                    reqs.append(_check_requirement(key, op, _parse_set_values(take, peek)))
                else:
                    val_tok = peek()
                    if val_tok[0] == "id":
                        take()
                        value = val_tok[1]
                    elif val_tok[0] == "eos" or val_tok == ("op", ","):
                        value = ""
                    else:
                        raise SelectorError(f"found '{_found(val_tok)}', expected: identifier")
                    reqs.append(_check_requirement(key, {">": "gt", "<": "lt"}.get(op, op), (value,)))
        else:
            raise SelectorError(f"found '{_found(tok)}', expected: !, identifier, or 'end of string'")
        end = take()
        if end[0] == "eos":
            return reqs
        if end != ("op", ","):
            raise SelectorError(f"found '{_found(end)}', expected: ',' or 'end of string'")


def _parse_set_values(take: Callable[[], tuple[str, str]], peek: Callable[[], tuple[str, str]]) -> tuple[str, ...]:
    """The `(a,b,c)` part of an in/notin requirement."""
    tok = take()
    if tok != ("op", "("):
        raise SelectorError(f"found '{_found(tok)}', expected: '('")
    values: list[str] = []
    if peek() == ("op", ")"):
        take()
        return ("",)
    expect_value = True
    while True:
        tok = take()
        if tok[0] == "id" and expect_value:
            values.append(tok[1])
            expect_value = False
        elif tok == ("op", ","):
            if expect_value:
                values.append("")
            expect_value = True
        elif tok == ("op", ")"):
            if expect_value:
                values.append("")
            return tuple(dict.fromkeys(values))
        else:
            raise SelectorError(f"found '{_found(tok)}', expected: ',', ')' or identifier")


def selector_matches(requirements: Iterable[Requirement], labels: dict[str, str] | None) -> bool:
    """Whether a label set satisfies every requirement (an empty selector matches everything)."""
    return all(r.matches(labels) for r in requirements)


def label_selector_requirements(selector: dict | None) -> list[Requirement] | None:
    """An API LabelSelector (matchLabels + matchExpressions) as requirements sorted by key; None for a None selector."""
    if selector is None:
        return None
    reqs = [_check_requirement(k, "=", (str(v),)) for k, v in (selector.get("matchLabels") or {}).items()]
    ops = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!"}
    for expr in selector.get("matchExpressions") or []:
        op = ops.get(expr.get("operator", ""))
        if op is None:
            raise SelectorError(f"{expr.get('operator')!r} is not a valid label selector operator")
        values = tuple(str(v) for v in expr.get("values") or ())
        if op in ("exists", "!") and values:
            raise SelectorError("values: Invalid value: values set must be empty for exists and does not exist")
        reqs.append(_check_requirement(expr.get("key", ""), op, values))
    return sorted(reqs, key=lambda r: r.key)


def label_selector_matches(selector: dict | None, labels: dict[str, str] | None) -> bool:
    """Whether labels match an API LabelSelector: empty matches everything, None matches nothing."""
    reqs = label_selector_requirements(selector)
    return reqs is not None and selector_matches(reqs, labels)


def format_labels(labels: dict[str, str] | None) -> str:
    """labels.FormatLabels: `k=v,k2=v2` sorted by key, `<none>` when empty."""
    if not labels:
        return "<none>"
    return ",".join(f"{k}={labels[k]}" for k in sorted(labels))


def selector_string(selector: dict | None) -> str:
    """metav1.LabelSelectorAsSelector(...).String(): requirements joined by commas ('' when empty)."""
    try:
        reqs = label_selector_requirements(selector)
    except SelectorError:
        return "<error>"
    return ",".join(str(r) for r in reqs or [])


def format_label_selector(selector: dict | None) -> str:
    """metav1.FormatLabelSelector: the selector string, `<none>` when it is empty."""
    return selector_string(selector) or "<none>"

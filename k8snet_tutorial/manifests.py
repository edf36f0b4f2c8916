"""Read Kubernetes manifests (files, folders, stdin) into checked objects both backends apply.

Every object is validated against the Kubernetes 1.34 OpenAPI schemas shipped with
`kubernetes-validate`, in strict mode (an unknown field is an error, as with `kubectl apply`).
A few checks the API server makes and the schemas cannot express are added: object names,
label syntax, the allowed values of networking fields (protocols, Service types, policy types,
path types), at least one container, and a workload's selector matching its pod template. Every failure raises a
`ManifestError` whose message names the file, the document (and line), the object and the field.
"""
from __future__ import annotations

import difflib
import functools
import json
import os
import re
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

import yaml

from .errors import ManifestError

__all__ = [
    "KUBERNETES_VERSION",
    "MANIFEST_SUFFIXES",
    "Manifest",
    "iter_manifest_files",
    "load_paths",
    "load_text",
    "validate_object",
]

#: The Kubernetes version whose schemas manifests are checked against (kind's node image v1.34.0).
KUBERNETES_VERSION = "1.37"
#: File name endings a folder is searched for (as `kubectl apply -f <folder>` does).
MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
STDIN_SOURCE = "<stdin>"

# Workload kinds whose spec.selector must select spec.template's labels (the API server rejects them otherwise).
_TEMPLATED = {("apps/v1", "Deployment"), ("apps/v1", "ReplicaSet"), ("apps/v1", "StatefulSet"),
              ("apps/v1", "DaemonSet")}
# Kinds whose name must be an RFC 1035 label (Service) or RFC 1123 label (Namespace), not a DNS subdomain.
_DNS1035_NAMES = {"Service"}
_DNS1123_LABEL_NAMES = {"Namespace"}
_DNS1123_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_LABEL_RE = re.compile(rf"^{_DNS1123_LABEL}$")
_DNS1123_SUBDOMAIN_RE = re.compile(rf"^{_DNS1123_LABEL}(\.{_DNS1123_LABEL})*$")
_DNS1035_LABEL_RE = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_LABEL_VALUE_RE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")
_LABEL_NAME_RE = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")

# Values the API server accepts for fields whose OpenAPI schema is a bare string (no enum), for
# the fields that change networking behaviour; `*` stands for every item of a list.
_PROTOCOLS = ("SCTP", "TCP", "UDP")
_POD_SPEC_ENUMS: dict[str, tuple[str, ...]] = {
    "containers.*.ports.*.protocol": _PROTOCOLS,
    "initContainers.*.ports.*.protocol": _PROTOCOLS,
    "containers.*.imagePullPolicy": ("Always", "IfNotPresent", "Never"),
    "initContainers.*.imagePullPolicy": ("Always", "IfNotPresent", "Never"),
    "restartPolicy": ("Always", "Never", "OnFailure"),
    "dnsPolicy": ("ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"),
}
_ENUMS: dict[tuple[str, str], dict[str, tuple[str, ...]]] = {
    ("v1", "Service"): {
        "spec.type": ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort"),
        "spec.sessionAffinity": ("ClientIP", "None"),
        "spec.externalTrafficPolicy": ("Cluster", "Local"),
        "spec.internalTrafficPolicy": ("Cluster", "Local"),
        "spec.ipFamilyPolicy": ("PreferDualStack", "RequireDualStack", "SingleStack"),
        "spec.ipFamilies.*": ("IPv4", "IPv6"),
        "spec.ports.*.protocol": _PROTOCOLS,
    },
    ("networking.k8s.io/v1", "NetworkPolicy"): {
        "spec.policyTypes.*": ("Egress", "Ingress"),
        "spec.ingress.*.ports.*.protocol": _PROTOCOLS,
        "spec.egress.*.ports.*.protocol": _PROTOCOLS,
    },
    ("networking.k8s.io/v1", "Ingress"): {
        "spec.rules.*.http.paths.*.pathType": ("Exact", "ImplementationSpecific", "Prefix"),
    },
    ("apps/v1", "Deployment"): {"spec.strategy.type": ("Recreate", "RollingUpdate")},
    ("v1", "Pod"): {f"spec.{k}": v for k, v in _POD_SPEC_ENUMS.items()},
}
for _gvk in _TEMPLATED:
    _ENUMS.setdefault(_gvk, {}).update({f"spec.template.spec.{k}": v for k, v in _POD_SPEC_ENUMS.items()})


class Manifest(dict):
    """One Kubernetes object as a plain dict, remembering where it was read from."""

    source: str
    index: int
    line: int | None
    item: int | None

    def __init__(self, data: Any = (), *, source: str = "<memory>", index: int = 1,
                 line: int | None = None, item: int | None = None) -> None:
        super().__init__(data)
        self.source = source
        self.index = index
        self.line = line
        self.item = item

    @property
    def kind(self) -> str:
        """The object's kind, e.g. `Deployment` (empty when absent)."""
        return str(self.get("kind") or "")

    @property
    def api_version(self) -> str:
        """The object's apiVersion, e.g. `apps/v1` (empty when absent)."""
        return str(self.get("apiVersion") or "")

    @property
    def name(self) -> str:
        """The object's metadata.name (empty when absent)."""
        meta = self.get("metadata")
        return str(meta.get("name") or "") if isinstance(meta, dict) else ""

    @property
    def namespace(self) -> str | None:
        """The object's metadata.namespace, or None when the manifest does not set one."""
        meta = self.get("metadata")
        ns = meta.get("namespace") if isinstance(meta, dict) else None
        return str(ns) if ns else None

    @property
    def ref(self) -> str:
        """kubectl's short reference to the object, e.g. `deployment/frontend`."""
        return _ref(self)

    @property
    def location(self) -> str:
        """Where the object was read: `file, document N (line L)`, plus the List item when there is one."""
        return _where(self.source, self.index, self.line, self.item)

    def __repr__(self) -> str:
        return f"Manifest({self.ref} from {self.location})"

    def __reduce__(self) -> tuple:
        return (_rebuild_manifest, (dict(self), self.source, self.index, self.line, self.item))


def _rebuild_manifest(data: dict, source: str, index: int, line: int | None, item: int | None) -> Manifest:
    """Unpickle a Manifest with its origin."""
    return Manifest(data, source=source, index=index, line=line, item=item)


# --------------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------------

def load_paths(paths: Sequence[str | os.PathLike], *, stdin: TextIO | None = None,
               validate: bool = True) -> list[Manifest]:
    """Load every object from files, folders (recursively, in sorted path order) and `-` (stdin)."""
    objects: list[Manifest] = []
    for path in paths:
        if str(path) == "-":
            stream = stdin if stdin is not None else sys.stdin
            objects.extend(load_text(stream.read(), STDIN_SOURCE, validate=validate))
            continue
        for file in iter_manifest_files([path]):
            try:
                text = file.read_text(encoding="utf-8")
            except UnicodeDecodeError as exc:
                raise ManifestError(f"{file}: not a text file (UTF-8): {exc.reason}") from None
            except OSError as exc:
                raise ManifestError(f"{file}: cannot be read: {exc.strerror or exc}") from None
            objects.extend(load_text(text, str(file), validate=validate))
    return objects


def iter_manifest_files(paths: Sequence[str | os.PathLike]) -> Iterator[Path]:
    """Yield the files a list of paths names: files as given, folders' manifest files in sorted order."""
    for path in paths:
        p = Path(path)
        if p.is_dir():
            yield from _walk(p)
        elif p.is_file():
            yield p
        elif p.exists():
            raise ManifestError(f"{p}: not a regular file or folder")
        else:
            raise ManifestError(f"{p}: no such file or folder",
                                hint="Give a manifest file (.yaml, .yml, .json), a folder of them, or - for stdin.")


def _walk(folder: Path) -> Iterator[Path]:
    """A folder's manifest files, recursively, in the order `kubectl apply -R -f` visits them."""
    try:
        entries = sorted(folder.iterdir(), key=lambda e: e.name)
    except OSError as exc:
        raise ManifestError(f"{folder}: cannot be listed: {exc.strerror or exc}") from None
    for entry in entries:
        if entry.name.startswith("."):  # .ipynb_checkpoints, editor swap files
            continue
        if entry.is_dir():
            yield from _walk(entry)
        elif entry.is_file() and entry.name.endswith(MANIFEST_SUFFIXES):
            yield entry


def load_text(text: str, source: str, *, validate: bool = True) -> list[Manifest]:
    """Parse YAML (or JSON) text holding one or more documents; `kind: List` items are flattened."""
    objects: list[Manifest] = []
    for index, node, data in _documents(text, source):
        if data is None:
            continue  # an empty document
        line = node.start_mark.line + 1 if node is not None else None
        if not isinstance(data, dict):
            raise ManifestError(f"{_where(source, index, line)}: expected a Kubernetes object (a mapping with "
                                f"apiVersion, kind and metadata), found {_type_name(data)}")
        kind = data.get("kind")
        if isinstance(kind, str) and kind.endswith("List") and "items" in data:
            objects.extend(_flatten(data, node, source, index, validate))
            continue
        obj = Manifest(data, source=source, index=index, line=line)
        _check(obj, node, validate)
        objects.append(obj)
    return objects


def _flatten(data: dict, node: yaml.Node | None, source: str, index: int, validate: bool) -> list[Manifest]:
    """Turn a `kind: List` document into its items, each checked and located on its own."""
    items = data.get("items")
    where = _where(source, index, node.start_mark.line + 1 if node is not None else None)
    if not isinstance(items, list):
        raise ManifestError(f"{where} ({data.get('kind')}): field items: expected a list, found {_type_name(items)}")
    out = []
    items_node = _node_at(node, ["items"])[0] if node is not None else None
    for i, item in enumerate(items):
        item_node = _node_at(items_node, [i])[0] if items_node is not None else None
        line = item_node.start_mark.line + 1 if item_node is not None else None
        if not isinstance(item, dict):
            raise ManifestError(f"{_where(source, index, line, i)}: expected a Kubernetes object, "
                                f"found {_type_name(item)}")
        kind = item.get("kind")
        if isinstance(kind, str) and kind.endswith("List") and "items" in item:
            raise ManifestError(f"{_where(source, index, line, i)}: a {kind} inside a List is not supported")
        obj = Manifest(item, source=source, index=index, line=line, item=i)
        _check(obj, item_node, validate)
        out.append(obj)
    return out


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing duplicate keys as kubectl's strict decoding does."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: dict[Any, yaml.Node] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=deep)
            try:
                hashable = key in seen
            except TypeError:
                continue  # let the base class report an unhashable key
            if hashable:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping", node.start_mark,
                    f"found duplicate key {key!r} (first defined on line {seen[key].start_mark.line + 1})",
                    key_node.start_mark)
            seen[key] = key_node
        return super().construct_mapping(node, deep=deep)


def _construct_value(loader: yaml.SafeLoader, node: yaml.Node) -> str:
    """Read `=` as the string it is (PyYAML otherwise fails on it, see yaml/pyyaml#89)."""
    return str(loader.construct_scalar(node))  # type: ignore[arg-type]


_Loader.add_constructor("tag:yaml.org,2002:value", _construct_value)


def _documents(text: str, source: str) -> Iterator[tuple[int, yaml.Node | None, Any]]:
    """Yield (document number, YAML node, Python data) for every document of a text."""
    if source.endswith(".json") and text.lstrip().startswith(("{", "[")):
        yield from _json_document(text, source)
        return
    loader = _Loader(text)
    index = 0
    try:
        while loader.check_node():
            index += 1
            node = loader.get_node()
            yield index, node, loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        raise ManifestError(_yaml_error(exc, source, index)) from None
    except yaml.YAMLError as exc:
        raise ManifestError(f"{source}: document {index}: invalid YAML: {exc}") from None
    finally:
        loader.dispose()


def _json_document(text: str, source: str) -> Iterator[tuple[int, yaml.Node | None, Any]]:
    """A .json file is one document; read it with the YAML loader (for line numbers) or else as JSON."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError:
        node = None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ManifestError(f"{source}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    finally:
        loader.dispose()
    yield 1, node, data


def _yaml_error(exc: yaml.MarkedYAMLError, source: str, index: int) -> str:
    """Say where a YAML syntax error is: file, document, line and column, then what is wrong."""
    mark = exc.problem_mark or exc.context_mark
    where = f"{source}: document {max(index, 1)}"
    if mark is not None:
        where += f", line {mark.line + 1}, column {mark.column + 1}"
    problem = exc.problem or "syntax error"
    if exc.context and exc.context_mark is not None and exc.problem_mark is not None:
        problem += f" ({exc.context} on line {exc.context_mark.line + 1})"
    snippet = mark.get_snippet() if mark is not None else None
    message = f"{where}: invalid YAML: {problem}"
    return f"{message}\n{snippet}" if snippet and snippet.strip(" \n^") else message


# --------------------------------------------------------------------------------------------------
# Checking
# --------------------------------------------------------------------------------------------------

def validate_object(obj: dict, source: str, index: int) -> None:
    """Check one object: apiVersion, kind and name, then the Kubernetes schema and API-server rules."""
    if not isinstance(obj, dict):
        raise ManifestError(f"{_where(source, index)}: expected a Kubernetes object (a mapping), "
                            f"found {_type_name(obj)}")
    line = obj.line if isinstance(obj, Manifest) else None
    item = obj.item if isinstance(obj, Manifest) else None
    _check(Manifest(obj, source=source, index=index, line=line, item=item), None, True)


def _check(obj: Manifest, node: yaml.Node | None, validate: bool) -> None:
    """Run the identity checks always and the schema checks when asked."""
    _check_identity(obj, node)
    if validate:
        _check_schema(obj, node)
        _check_server_rules(obj, node)


def _check_identity(obj: Manifest, node: yaml.Node | None) -> None:
    """apiVersion, kind and metadata.name must be there, as strings."""
    for field in ("apiVersion", "kind"):
        value = obj.get(field)
        if value is None or value == "":
            raise _error(obj, node, [field], "is missing (every object needs apiVersion and kind)")
        if not isinstance(value, str):
            raise _error(obj, node, [field], f"expected a string, found {_type_name(value)}")
    meta = obj.get("metadata")
    if meta is None:
        raise _error(obj, node, ["metadata"], "is missing (every object needs metadata.name)")
    if not isinstance(meta, dict):
        raise _error(obj, node, ["metadata"], f"expected a mapping, found {_type_name(meta)}")
    name = meta.get("name")
    if name is None or name == "":
        hint = " (generateName is not supported: apply needs a fixed name)" if meta.get("generateName") else ""
        raise _error(obj, node, ["metadata", "name"], f"is missing{hint}")
    if not isinstance(name, str):
        raise _error(obj, node, ["metadata", "name"], f"expected a string, found {_type_name(name)}")
    ns = meta.get("namespace")
    if ns is not None and not isinstance(ns, str):
        raise _error(obj, node, ["metadata", "namespace"], f"expected a string, found {_type_name(ns)}")


def _check_schema(obj: Manifest, node: yaml.Node | None) -> None:
    """Validate against the strict Kubernetes schema; name the field and quote the schema's complaint."""
    api_version, kind = obj.api_version, obj.kind
    if (api_version, kind) not in _known_kinds():
        raise _error(obj, node, ["kind"], _unknown_kind_message(api_version, kind))
    import kubernetes_validate  # imported on first use: it costs ~1 s, which the sandbox supervisor never needs
    try:
        kubernetes_validate.validate(dict(obj), KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        path, message = _describe_schema_error(exc)
        raise _error(obj, node, path, message) from None
    except kubernetes_validate.SchemaNotFoundError:
        raise _error(obj, node, ["kind"], _unknown_kind_message(api_version, kind)) from None


def _describe_schema_error(exc: Any) -> tuple[list, str]:
    """Turn a jsonschema error into (field path, message), naming an unknown or missing field itself."""
    path = list(exc.absolute_path)
    instance, schema = exc.instance, exc.schema if isinstance(exc.schema, dict) else {}
    if exc.validator == "additionalProperties" and isinstance(instance, dict):
        allowed = set(schema.get("properties") or {})
        extra = [k for k in instance if k not in allowed]
        if extra:
            field = extra[0]
            close = difflib.get_close_matches(str(field), sorted(allowed), n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            return path + [field], f"unknown field {field!r}{hint}"
    if exc.validator == "required" and isinstance(instance, dict):
        missing = [k for k in exc.validator_value if k not in instance]
        if missing:
            return path + [missing[0]], "required field is missing"
    if exc.validator in ("oneOf", "anyOf") and isinstance(exc.validator_value, list) \
            and all(isinstance(sub, dict) and "type" in sub for sub in exc.validator_value):
        kinds = []
        for sub in exc.validator_value:
            kinds += [t for t in ([sub["type"]] if isinstance(sub["type"], str) else sub["type"]) if t != "null"]
        return path, f"expected {' or '.join(dict.fromkeys(kinds))}, found {_type_name(instance)} {json.dumps(instance)}"
    if exc.validator == "type" and isinstance(exc.validator_value, (list, str)):
        expected = [t for t in ([exc.validator_value] if isinstance(exc.validator_value, str)
                                else exc.validator_value) if t != "null"]
        hint = ""
        if expected == ["string"] and isinstance(instance, (bool, int, float)):
            hint = f" (quote it: \"{json.dumps(instance)}\")"
        return path, f"expected {' or '.join(expected)}, found {_type_name(instance)} {json.dumps(instance)}{hint}"
    return path, exc.message


def _check_server_rules(obj: Manifest, node: yaml.Node | None) -> None:
    """Rules the API server enforces that the schemas cannot express: names, labels, selectors."""
    name = obj.name
    if obj.kind in _DNS1035_NAMES:
        ok, rule = len(name) <= 63 and bool(_DNS1035_LABEL_RE.match(name)), \
            "an RFC 1035 label (at most 63 lowercase letters, digits and '-', starting with a letter)"
    elif obj.kind in _DNS1123_LABEL_NAMES:
        ok, rule = len(name) <= 63 and bool(_DNS1123_LABEL_RE.match(name)), \
            "an RFC 1123 label (at most 63 lowercase letters, digits and '-')"
    else:
        ok, rule = len(name) <= 253 and bool(_DNS1123_SUBDOMAIN_RE.match(name)), \
            "an RFC 1123 subdomain (lowercase letters, digits, '-' and '.')"
    if not ok:
        raise _error(obj, node, ["metadata", "name"], f"{name!r} is not a valid {obj.kind} name: it must be {rule}")
    _check_labels(obj, node, ["metadata", "labels"], obj["metadata"].get("labels"))
    for pattern, allowed in _ENUMS.get((obj.api_version, obj.kind), {}).items():
        for path, value in _find(obj, pattern.split(".")):
            if value is not None and value not in allowed:
                raise _error(obj, node, path, f"unsupported value {json.dumps(value)}: supported values: "
                             + ", ".join(json.dumps(v) for v in allowed))
    spec = obj.get("spec")
    pod_spec, pod_path = (spec, ["spec"]) if obj.kind == "Pod" and obj.api_version == "v1" else (None, [])
    if (obj.api_version, obj.kind) in _TEMPLATED and isinstance(spec, dict):
        pod_spec = ((spec.get("template") or {}).get("spec"))
        pod_path = ["spec", "template", "spec"]
    if isinstance(pod_spec, dict) and not pod_spec.get("containers"):
        raise _error(obj, node, pod_path + ["containers"], "at least one container is required")
    if (obj.api_version, obj.kind) in _TEMPLATED and isinstance(spec, dict):
        template = spec.get("template") or {}
        labels = (template.get("metadata") or {}).get("labels") or {}
        _check_labels(obj, node, ["spec", "template", "metadata", "labels"], labels)
        selector = spec.get("selector") or {}
        if not selector.get("matchLabels") and not selector.get("matchExpressions"):
            raise _error(obj, node, ["spec", "selector"], "an empty selector is not allowed: it would select every pod")
        if not _selector_matches(selector, labels):
            raise _error(obj, node, ["spec", "selector"],
                         f"selector {_format_selector(selector)} does not match the template's labels "
                         f"{_format_labels(labels)} (spec.template.metadata.labels)")


def _check_labels(obj: Manifest, node: yaml.Node | None, path: list, labels: Any) -> None:
    """Label keys and values must follow Kubernetes' syntax (values at most 63 characters)."""
    if not isinstance(labels, dict):
        return
    for key, value in labels.items():
        prefix, _, label_name = str(key).rpartition("/")
        if (prefix and (len(prefix) > 253 or not _DNS1123_SUBDOMAIN_RE.match(prefix))) or \
                len(label_name) > 63 or not _LABEL_NAME_RE.match(label_name):
            raise _error(obj, node, path + [key], f"{key!r} is not a valid label key")
        if not isinstance(value, str) or len(value) > 63 or not _LABEL_VALUE_RE.match(value):
            raise _error(obj, node, path + [key], f"{value!r} is not a valid label value "
                         "(a string of at most 63 letters, digits, '-', '_' or '.'; quote true/false and numbers)")


def _find(value: Any, pattern: Sequence[str], path: list | None = None) -> Iterator[tuple[list, Any]]:
    """Yield (path, value) for every field a dotted pattern names (`*` = each list item)."""
    path = path or []
    if not pattern:
        yield path, value
        return
    head, rest = pattern[0], pattern[1:]
    if head == "*":
        if isinstance(value, list):
            for i, item in enumerate(value):
                yield from _find(item, rest, path + [i])
    elif isinstance(value, dict) and head in value:
        yield from _find(value[head], rest, path + [head])


def _selector_matches(selector: dict, labels: dict) -> bool:
    """Evaluate a LabelSelector (matchLabels and matchExpressions) against a set of labels."""
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


# --------------------------------------------------------------------------------------------------
# Kinds known to the schemas
# --------------------------------------------------------------------------------------------------

def _schema_version() -> str:
    """The schema folder kubernetes-validate uses for KUBERNETES_VERSION (latest not newer than it)."""
    from kubernetes_validate.utils import all_versions, major_minor
    return [v for v in all_versions() if major_minor(v) <= KUBERNETES_VERSION][-1]


@functools.lru_cache(maxsize=1)
def _known_kinds() -> frozenset[tuple[str, str]]:
    """Every (apiVersion, kind) the Kubernetes API of KUBERNETES_VERSION serves, from its schemas."""
    from kubernetes_validate.utils import schema_contents
    definitions = schema_contents(f"kubernetes-json-schema/v{_schema_version()}-local-strict/_definitions.json",
                                  KUBERNETES_VERSION)
    known = set()
    for definition in definitions.get("$defs", {}).values():
        for gvk in definition.get("x-kubernetes-group-version-kind", []):
            group, version = gvk.get("group", ""), gvk.get("version", "")
            known.add((f"{group}/{version}" if group else version, gvk.get("kind", "")))
    return frozenset(known)


def _unknown_kind_message(api_version: str, kind: str) -> str:
    """Explain an unknown kind or apiVersion, with the apiVersion that serves that kind when there is one."""
    known = _known_kinds()
    served = sorted(v for v, k in known if k == kind and not k.endswith(("List", "Options")))
    if kind == "Ingress" and "networking.k8s.io/v1" in served:
        served = ["networking.k8s.io/v1"]
    if served:
        return (f"kind {kind} is not served by apiVersion {api_version} in Kubernetes {KUBERNETES_VERSION}; "
                f"use apiVersion {' or '.join(served)}")
    kinds = sorted({k for v, k in known if v == api_version})
    close = difflib.get_close_matches(kind, kinds, n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    if not kinds:
        hint = f" (no built-in API group serves {api_version})"
    return (f"unknown kind {kind!r} for apiVersion {api_version} in Kubernetes {KUBERNETES_VERSION}{hint}; "
            "custom resources are not supported")


# --------------------------------------------------------------------------------------------------
# Messages
# --------------------------------------------------------------------------------------------------

def _error(obj: Manifest, node: yaml.Node | None, path: list, message: str) -> ManifestError:
    """Build the ManifestError for a field of an object: where, which object, which field, what."""
    field_path = _format_path(path)
    line = _node_at(node, path)[1] if node is not None else None
    field = f"field {field_path}" + (f" (line {line})" if line else "")
    return ManifestError(f"{obj.location}, {_ref(obj)}: {field}: {message}")


def _where(source: str, index: int, line: int | None = None, item: int | None = None) -> str:
    """`file, document N (line L), items[i]`."""
    where = f"{source}, document {index}"
    if line:
        where += f" (line {line})"
    if item is not None:
        where += f", items[{item}]"
    return where


def _ref(obj: dict) -> str:
    """`kind/name` in kubectl's lowercase style, with placeholders for what is missing."""
    kind = obj.get("kind")
    meta = obj.get("metadata")
    name = meta.get("name") if isinstance(meta, dict) else None
    kind_text = kind.lower() if isinstance(kind, str) and kind else "<no kind>"
    name_text = name if isinstance(name, str) and name else "<no name>"
    return f"{kind_text}/{name_text}"


def _format_path(path: Sequence[Any]) -> str:
    """['spec', 'containers', 0, 'image'] → `spec.containers[0].image`; odd keys are quoted."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_$][A-Za-z0-9_$-]*", str(part)):
            out += f".{part}" if out else str(part)
        else:
            out += f"[{json.dumps(str(part))}]"
    return out or "<object>"


def _node_at(node: yaml.Node | None, path: Sequence[Any]) -> tuple[yaml.Node | None, int | None]:
    """Follow a field path through YAML nodes; return the deepest node found and its (1-based) line."""
    if node is None:
        return None, None
    line = node.start_mark.line + 1
    for part in path:
        found = None
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.value == str(part):
                    found, line = value_node, key_node.start_mark.line + 1
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            found = node.value[part]
            line = found.start_mark.line + 1
        if found is None:
            break
        node = found
    return node, line


def _format_selector(selector: dict) -> str:
    """A LabelSelector as kubectl prints it: `app=web,tier in (db)`."""
    parts = [f"{k}={v}" for k, v in (selector.get("matchLabels") or {}).items()]
    for expr in selector.get("matchExpressions") or []:
        op, values = expr.get("operator"), ",".join(str(v) for v in expr.get("values") or [])
        parts.append({"In": f"{expr.get('key')} in ({values})", "NotIn": f"{expr.get('key')} notin ({values})",
                      "Exists": str(expr.get("key")), "DoesNotExist": f"!{expr.get('key')}"}.get(op, str(expr)))
    return ",".join(parts) or "<empty>"


def _format_labels(labels: dict) -> str:
    """Labels as `a=b,c=d` (or `<none>`)."""
    return ",".join(f"{k}={v}" for k, v in labels.items()) or "<none>"


def _type_name(value: Any) -> str:
    """A YAML-ish name for a Python value's type."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__

"""The shipped manifests/ apply as they are, and the loader reports broken manifests precisely."""
from __future__ import annotations

import copy
import io
import pickle
import re
from collections import defaultdict
from pathlib import Path

import pytest

from k8snet_tutorial.errors import ManifestError, UsageError
from k8snet_tutorial.manifests import Manifest, iter_manifest_files, load_paths, load_text, validate_object

ROOT = Path(__file__).resolve().parents[2]
MANIFESTS = ROOT / "manifests"
CHAPTERS = [
    "01-model", "02-pods-nodes-services", "03-cluster-components", "04-dns",
    "05-pod-networking", "06-services-ingress", "07-network-policies", "08-troubleshooting",
]
FILES = sorted(p for p in MANIFESTS.rglob("*") if p.is_file() and p.suffix in (".yaml", ".yml", ".json"))
# The one Service that selects no pod on purpose: chapter 08's "Service without endpoints" bug.
DELIBERATE_MISMATCH = ("08-troubleshooting", "postgres-db-1-before.yaml", "default", "postgres-db")
# Images that run no server (tools only): they need no containerPorts.
TOOL_IMAGES = ("busybox", "nicolaka/netshoot")
POD_SPEC_KINDS = {"Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job"}
STAGE = re.compile(r"-(\d+)-[a-z0-9-]+\.ya?ml$")


def rel(path: Path) -> str:
    """A manifest's path relative to manifests/."""
    return path.relative_to(MANIFESTS).as_posix()


@pytest.fixture(scope="module")
def objects() -> list[Manifest]:
    """Every object of manifests/, loaded and validated once."""
    return load_paths([MANIFESTS])


def folder_of(obj: Manifest) -> str:
    """The chapter folder an object was read from."""
    return Path(obj.source).relative_to(MANIFESTS).parts[0]


def ns(obj: Manifest) -> str:
    """The namespace an object lands in when applied without -n."""
    return obj.namespace or "default"


def pod_spec(obj: Manifest) -> dict | None:
    """The pod spec of a Pod or a workload's template."""
    if obj.kind == "Pod":
        return obj.get("spec")
    if obj.kind in POD_SPEC_KINDS:
        return obj["spec"]["template"]["spec"]
    return None


def pod_labels(obj: Manifest) -> dict:
    """The labels a Pod (or the pods of a workload) carries."""
    if obj.kind == "Pod":
        return obj["metadata"].get("labels") or {}
    return obj["spec"]["template"]["metadata"].get("labels") or {}


def containers(obj: Manifest) -> list[dict]:
    """All containers (init and regular) of an object's pod spec."""
    spec = pod_spec(obj) or {}
    return list(spec.get("initContainers") or []) + list(spec.get("containers") or [])


def pod_templates(objs: list[Manifest]) -> list[Manifest]:
    """Objects that make pods."""
    return [o for o in objs if o.kind == "Pod" or o.kind in POD_SPEC_KINDS]


# --------------------------------------------------------------------------------------------------
# The shipped manifests
# --------------------------------------------------------------------------------------------------

def test_chapter_folders_exist_and_hold_manifests() -> None:
    found = sorted(p.name for p in MANIFESTS.iterdir() if p.is_dir())
    assert found == CHAPTERS
    for chapter in CHAPTERS:
        assert any((MANIFESTS / chapter).rglob("*.yaml")), chapter


@pytest.mark.parametrize("path", FILES, ids=rel)
def test_file_loads_and_validates(path: Path) -> None:
    objs = load_paths([path])
    assert objs, f"{rel(path)} holds no object"
    for obj in objs:
        assert obj.source == str(path)
        assert obj.kind and obj.name and obj.api_version


@pytest.mark.parametrize("path", FILES, ids=rel)
def test_file_starts_with_a_scenario_comment(path: Path) -> None:
    head = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        head.append(line)
    text = " ".join(head)
    assert head and head[0].startswith("# Scenario:"), f"{rel(path)}: no '# Scenario:' comment on top"
    assert re.search(r"[Cc]hapters? \d\d", text), f"{rel(path)}: the header does not say which chapter uses it"


def test_images_are_pinned(objects: list[Manifest]) -> None:
    seen = 0
    for obj in objects:
        for c in containers(obj):
            image = c["image"]
            seen += 1
            name_part = image.rsplit("/", 1)[-1]
            assert "@sha256:" in image or ":" in name_part, f"{obj.location} {obj.ref}: {image} has no tag"
            tag = name_part.split("@")[0].split(":", 1)[1] if ":" in name_part else ""
            assert tag != "latest", f"{obj.location} {obj.ref}: {image} uses :latest"
    assert seen > 50


def test_server_containers_declare_their_ports(objects: list[Manifest]) -> None:
    for obj in objects:
        for c in containers(obj):
            if c["image"].startswith(TOOL_IMAGES):
                continue
            assert c.get("ports"), f"{obj.location} {obj.ref}: container {c['name']} declares no containerPort"
            for port in c["ports"]:
                name = port.get("name")
                if name is not None:  # IANA_SVC_NAME, as the API server checks it
                    assert re.fullmatch(r"[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?", name) and "--" not in name, name


def test_no_host_network_host_ports_or_privileged(objects: list[Manifest]) -> None:
    for obj in objects:
        spec = pod_spec(obj)
        if spec is None:
            continue
        assert not spec.get("hostNetwork") and not spec.get("hostPID") and not spec.get("hostIPC"), obj.ref
        assert not spec.get("nodeSelector") and not spec.get("nodeName"), f"{obj.ref}: pinned to a node"
        for c in containers(obj):
            assert not any(p.get("hostPort") for p in c.get("ports") or []), f"{obj.ref}: hostPort"
            sc = c.get("securityContext") or {}
            assert not sc.get("privileged") and not (sc.get("capabilities") or {}).get("add"), obj.ref


def test_deployment_selectors_match_their_templates(objects: list[Manifest]) -> None:
    deployments = [o for o in objects if o.kind == "Deployment"]
    assert len(deployments) > 20
    for d in deployments:
        selector = d["spec"]["selector"]
        assert set(selector) == {"matchLabels"}, f"{d.ref}: only matchLabels expected"
        labels = pod_labels(d)
        for key, value in selector["matchLabels"].items():
            assert labels.get(key) == value, f"{d.location} {d.ref}: selector {key}={value} not in {labels}"


def test_services_select_pods_of_their_folder_and_namespace(objects: list[Manifest]) -> None:
    templates = defaultdict(list)
    for t in pod_templates(objects):
        templates[(folder_of(t), ns(t))].append(t)
    mismatches = []
    for svc in (o for o in objects if o.kind == "Service"):
        selector = svc["spec"].get("selector")
        if svc["spec"].get("type") == "ExternalName":
            assert not selector, svc.ref
            continue
        assert selector, f"{svc.location} {svc.ref}: no selector"
        matched = [t for t in templates[(folder_of(svc), ns(svc))]
                   if all(pod_labels(t).get(k) == v for k, v in selector.items())]
        key = (folder_of(svc), Path(svc.source).name, ns(svc), svc.name)
        if key == DELIBERATE_MISMATCH:
            mismatches.append(svc)
            assert not matched, "the deliberate postgres-db mismatch must select no pod"
            continue
        assert matched, f"{svc.location} {svc.ref}: selector {selector} matches no pod template"
        for port in svc["spec"]["ports"]:
            target = port.get("targetPort", port["port"])
            for t in matched:
                declared = [p for c in containers(t) for p in c.get("ports") or []]
                if isinstance(target, str):
                    ok = any(p.get("name") == target for p in declared)
                else:
                    ok = any(p["containerPort"] == target for p in declared)
                assert ok, f"{svc.location} {svc.ref}: targetPort {target} is not a port of {t.ref}"
    assert len(mismatches) == 1


def test_probes_use_declared_ports(objects: list[Manifest]) -> None:
    for obj in objects:
        for c in containers(obj):
            names = {p.get("name") for p in c.get("ports") or []}
            numbers = {p["containerPort"] for p in c.get("ports") or []}
            for probe_kind in ("readinessProbe", "livenessProbe", "startupProbe"):
                probe = c.get(probe_kind) or {}
                for handler in ("httpGet", "tcpSocket"):
                    if handler in probe:
                        port = probe[handler]["port"]
                        assert port in (names if isinstance(port, str) else numbers), f"{obj.ref}: {probe_kind}"


def _allows_port_53(rule: dict) -> bool:
    return any(p.get("port") in (53, "dns", "dns-tcp") for p in rule.get("ports") or [])


def test_dns_egress_rules_allow_udp_and_tcp_to_the_dns_pods(objects: list[Manifest]) -> None:
    dns_rules = 0
    for pol in (o for o in objects if o.kind == "NetworkPolicy"):
        for rule in pol["spec"].get("egress") or []:
            if not _allows_port_53(rule):
                continue
            dns_rules += 1
            protocols = {p.get("protocol", "TCP") for p in rule["ports"] if p.get("port") == 53}
            assert protocols == {"UDP", "TCP"}, f"{pol.location} {pol.ref}: DNS egress allows only {protocols}"
            for peer in rule.get("to") or []:
                assert "ipBlock" not in peer, f"{pol.ref}: DNS egress to an ipBlock (the Service range is DNAT'd)"
                assert peer.get("namespaceSelector") == {
                    "matchLabels": {"kubernetes.io/metadata.name": "kube-system"}}, pol.ref
                assert peer.get("podSelector") == {"matchLabels": {"k8s-app": "kube-dns"}}, pol.ref
    assert dns_rules >= 2


def test_namespaces_are_created_before_use(objects: list[Manifest]) -> None:
    created: dict[str, set[str]] = defaultdict(lambda: {"default"})
    for obj in objects:  # in the order a folder is applied
        folder = folder_of(obj)
        if obj.kind == "Namespace":
            created[folder].add(obj.name)
        elif obj.namespace:
            assert obj.namespace in created[folder], f"{obj.location} {obj.ref}: namespace {obj.namespace} not yet created"


def test_names_are_unique_within_a_folder_except_stages(objects: list[Manifest]) -> None:
    where: dict[tuple, list[Manifest]] = defaultdict(list)
    for obj in objects:
        where[(folder_of(obj), obj.kind, ns(obj), obj.name)].append(obj)
    for key, objs in where.items():
        files = {Path(o.source).name for o in objs}
        if len(objs) == 1:
            continue
        assert len(files) == len(objs), f"{key} defined twice in one file"
        stems = {STAGE.sub("", f) for f in files}
        assert all(STAGE.search(f) for f in files) and len(stems) == 1, f"{key} defined in {sorted(files)}"


def test_objects_shared_between_chapters_are_compatible(objects: list[Manifest]) -> None:
    """Applying one chapter after another must not hit immutable fields (selectors, nodePorts)."""
    deployments: dict[tuple, Manifest] = {}
    node_ports: dict[int, Manifest] = {}
    for obj in objects:
        if obj.kind == "Deployment":
            other = deployments.setdefault((ns(obj), obj.name), obj)
            assert other["spec"]["selector"] == obj["spec"]["selector"], f"{obj.ref} in {obj.source} and {other.source}"
        if obj.kind == "Service":
            for port in obj["spec"].get("ports") or []:
                if "nodePort" in port:
                    other = node_ports.setdefault(port["nodePort"], obj)
                    assert (ns(other), other.name) == (ns(obj), obj.name), f"nodePort {port['nodePort']} reused"


def test_staged_scenarios_apply_on_their_own(objects: list[Manifest]) -> None:
    stages: dict[tuple, list[str]] = defaultdict(list)
    for path in FILES:
        if STAGE.search(path.name):
            stages[(path.parent.name, STAGE.sub("", path.name))].append(path.name)
    assert set(stages) >= {("02-pods-nodes-services", "database-migration"), ("04-dns", "order-service"),
                           ("08-troubleshooting", "postgres-db")}
    for (folder, _), files in stages.items():
        assert len(files) >= 2, files
        for name in files:  # each stage is self-contained: its Services find their pods in the same file
            objs = load_paths([MANIFESTS / folder / name])
            pods = pod_templates(objs)
            for svc in (o for o in objs if o.kind == "Service" and o["spec"].get("selector")):
                if (folder, name, ns(svc), svc.name) == DELIBERATE_MISMATCH:
                    continue
                assert any(ns(p) == ns(svc) and all(pod_labels(p).get(k) == v for k, v in svc["spec"]["selector"].items())
                           for p in pods), f"{name}: {svc.ref}"


def test_seed_scenarios_are_all_there(objects: list[Manifest]) -> None:
    refs = {(folder_of(o), o.kind, ns(o), o.name) for o in objects}
    expected = [
        ("01-model", "Deployment", "shop", "catalog"), ("01-model", "Deployment", "shop", "payment"),
        ("01-model", "Pod", "default", "cart"), ("01-model", "Pod", "default", "catalog"),
        ("02-pods-nodes-services", "Service", "default", "nginx-service"),
        ("02-pods-nodes-services", "Service", "default", "database-service"),
        ("02-pods-nodes-services", "Pod", "default", "app-pod"),
        ("02-pods-nodes-services", "Service", "default", "my-nodeport-service"),
        ("02-pods-nodes-services", "Service", "default", "web-app"),
        ("03-cluster-components", "Service", "default", "my-service"),
        ("04-dns", "Deployment", "default", "order-service"),
        ("04-dns", "Service", "finance", "payment-service"),
        ("05-pod-networking", "Pod", "default", "api-service"),
        ("06-services-ingress", "Ingress", "default", "company-apps"),
        ("06-services-ingress", "Service", "default", "db-service"),
        ("07-network-policies", "NetworkPolicy", "payment-processing", "pci-payment-policy"),
        ("07-network-policies", "Pod", "production", "checkout"),
        ("07-network-policies", "Pod", "default", "test-pod"),
        ("08-troubleshooting", "Service", "default", "postgres-db"),
        ("08-troubleshooting", "Pod", "default", "netshoot"),
    ]
    for ref in expected:
        assert ref in refs, ref
    replicas = {(folder_of(o), o.name): o["spec"]["replicas"] for o in objects if o.kind == "Deployment"}
    assert replicas[("03-cluster-components", "my-service")] == 3
    assert replicas[("02-pods-nodes-services", "frontend")] == 3
    assert replicas[("02-pods-nodes-services", "backend")] == 5
    assert replicas[("02-pods-nodes-services", "postgres")] == 2
    types = {o.name: o["spec"].get("type", "ClusterIP") for o in objects
             if o.kind == "Service" and folder_of(o) == "06-services-ingress"}
    assert {"ClusterIP", "NodePort", "LoadBalancer", "ExternalName"} <= set(types.values())
    ingress = next(o for o in objects if o.kind == "Ingress")
    assert ingress["spec"]["ingressClassName"] == "nginx" and ingress["spec"]["tls"][0]["secretName"]
    assert [p["path"] for p in ingress["spec"]["rules"][0]["http"]["paths"]] == ["/dashboard", "/api", "/docs"]
    proxy = next(o for o in objects if o.kind == "Pod" and o.name == "api-service")
    envoy = next(c for c in proxy["spec"]["containers"] if "envoy" in c["image"])
    assert {p["containerPort"] for p in envoy["ports"]} >= {15001, 15006}


# --------------------------------------------------------------------------------------------------
# The loader
# --------------------------------------------------------------------------------------------------

POD = """apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
    - name: nginx
      image: nginx:1.27-alpine
"""


def test_manifest_attributes() -> None:
    [obj] = load_text(POD, "x.yaml")
    assert isinstance(obj, Manifest) and isinstance(obj, dict)
    assert (obj.source, obj.index, obj.line) == ("x.yaml", 1, 1)
    assert (obj.kind, obj.name, obj.namespace, obj.ref) == ("Pod", "web", None, "pod/web")
    assert obj["spec"]["containers"][0]["image"] == "nginx:1.27-alpine"
    assert type(obj["spec"]) is dict
    assert "__source__" not in obj and set(obj) == {"apiVersion", "kind", "metadata", "spec"}
    for clone in (copy.deepcopy(obj), pickle.loads(pickle.dumps(obj))):
        assert clone == obj and (clone.source, clone.index, clone.ref) == ("x.yaml", 1, "pod/web")


def test_documents_are_numbered_and_empty_ones_skipped() -> None:
    text = "---\n# only a comment\n---\n" + POD + "---\n---\n" + POD.replace("name: web", "name: api\n  namespace: prod")
    objs = load_text(text, "multi.yaml")
    assert [(o.index, o.name, o.namespace) for o in objs] == [(2, "web", None), (4, "api", "prod")]
    assert objs[1].line == 14


def test_bad_yaml_names_file_and_line() -> None:
    text = POD + "  labels: [unclosed\n"
    with pytest.raises(ManifestError) as err:
        load_text(text, "broken.yaml")
    message = str(err.value)
    assert "broken.yaml" in message and "line 9" in message and "invalid YAML" in message


def test_bad_yaml_in_a_later_document_names_that_line(tmp_path: Path) -> None:
    path = tmp_path / "two.yaml"
    path.write_text(POD + "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n\tbad: tab\n")
    with pytest.raises(ManifestError, match=r"two\.yaml: document 2, line 14"):
        load_paths([path])


def test_unknown_kind_is_named() -> None:
    with pytest.raises(ManifestError) as err:
        load_text(POD.replace("kind: Pod", "kind: Pood"), "k.yaml")
    message = str(err.value)
    assert "k.yaml" in message and "pood/web" in message and "unknown kind 'Pood'" in message
    assert "did you mean Pod" in message and "field kind (line 2)" in message


def test_kind_under_the_wrong_api_version_names_the_right_one() -> None:
    text = "apiVersion: extensions/v1beta1\nkind: Ingress\nmetadata:\n  name: old\n"
    with pytest.raises(ManifestError, match=r"ingress/old: field kind .*not served by apiVersion "
                                            r"extensions/v1beta1.*networking\.k8s\.io/v1"):
        load_text(text, "i.yaml")


def test_unknown_field_names_the_field_path() -> None:
    text = POD.replace("image: nginx", "imagee: nginx")
    with pytest.raises(ManifestError) as err:
        load_text(text.replace("- name: nginx\n", "- name: nginx\n      image: nginx:1.27\n"), "f.yaml")
    message = str(err.value)
    assert "f.yaml, document 1" in message and "pod/web" in message
    assert "field spec.containers[0].imagee (line 9)" in message and "unknown field 'imagee'" in message
    assert "did you mean image" in message


def test_unknown_field_in_a_deployment_template() -> None:
    text = """apiVersion: apps/v1
kind: Deployment
metadata: {name: frontend}
spec:
  selector: {matchLabels: {app: frontend}}
  template:
    metadata: {labels: {app: frontend}}
    spec:
      containers:
        - name: web
          image: nginx:1.27-alpine
          imagePullPolicyy: Always
"""
    with pytest.raises(ManifestError, match=r"deployment/frontend: field spec\.template\.spec\.containers\[0\]"
                                            r"\.imagePullPolicyy \(line 12\): unknown field"):
        load_text(text, "d.yaml")


def test_wrong_type_names_field_and_schema_message() -> None:
    text = "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  ports:\n    - port: \"80\"\n"
    with pytest.raises(ManifestError, match=r"service/s: field spec\.ports\[0\]\.port \(line 6\): expected integer"):
        load_text(text, "s.yaml")


def test_unquoted_boolean_label_is_explained() -> None:
    text = POD.replace("name: web\n", "name: web\n  labels:\n    pci: true\n")
    with pytest.raises(ManifestError, match=r'metadata\.labels\.pci \(line 6\): expected string.*quote it'):
        load_text(text, "l.yaml")


def test_missing_required_field_is_named() -> None:
    text = POD.replace("    - name: nginx\n      image", "    - image")
    with pytest.raises(ManifestError, match=r"pod/web: field spec\.containers\[0\]\.name .*required"):
        load_text(text, "r.yaml")


@pytest.mark.parametrize("drop, field", [("apiVersion: v1\n", "apiVersion"), ("kind: Pod\n", "kind"),
                                         ("  name: web\n", "metadata.name")])
def test_missing_identity_fields_are_named(drop: str, field: str) -> None:
    text = POD.replace(drop, "  labels: {app: web}\n" if field == "metadata.name" else "")
    with pytest.raises(ManifestError) as err:
        load_text(text, "id.yaml")
    assert "id.yaml, document 1" in str(err.value) and f"field {field}" in str(err.value)
    assert "is missing" in str(err.value)


def test_missing_name_even_without_schema_validation() -> None:
    with pytest.raises(ManifestError, match=r"pod/<no name>: field metadata\.name .*is missing"):
        load_text("apiVersion: v1\nkind: Pod\nmetadata: {}\n", "n.yaml", validate=False)


def test_validate_false_skips_the_schema() -> None:
    [obj] = load_text(POD.replace("image:", "imagee:"), "v.yaml", validate=False)
    assert obj["spec"]["containers"][0]["imagee"]


def test_not_a_mapping() -> None:
    with pytest.raises(ManifestError, match=r"list\.yaml, document 1 \(line 1\): expected a Kubernetes object"):
        load_text("- a\n- b\n", "list.yaml")


def test_duplicate_keys_are_refused() -> None:
    with pytest.raises(ManifestError, match=r"dup\.yaml: document 1, line 5, column 3: .*duplicate key 'name' \(first defined on line 4\)"):
        load_text("apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  name: b\n", "dup.yaml")


def test_selector_not_matching_template_is_refused() -> None:
    text = """apiVersion: apps/v1
kind: Deployment
metadata: {name: d}
spec:
  selector: {matchLabels: {app: a}}
  template:
    metadata: {labels: {app: b}}
    spec: {containers: [{name: c, image: "nginx:1.27-alpine"}]}
"""
    with pytest.raises(ManifestError, match=r"deployment/d: field spec\.selector \(line 5\): selector app=a "
                                            r"does not match the template's labels app=b"):
        load_text(text, "sel.yaml")


def test_invalid_service_name_is_refused() -> None:
    text = "apiVersion: v1\nkind: Service\nmetadata: {name: My_Service}\nspec: {ports: [{port: 80}]}\n"
    with pytest.raises(ManifestError, match=r"field metadata\.name .*not a valid Service name"):
        load_text(text, "bad-name.yaml")


def test_missing_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ManifestError, match=re.escape(str(missing))) as err:
        load_paths([missing])
    assert isinstance(err.value, UsageError) and err.value.exit_code == 2


def test_folder_is_loaded_recursively_in_sorted_order(tmp_path: Path) -> None:
    def pod(name: str) -> str:
        return POD.replace("name: web", f"name: {name}")

    (tmp_path / "b").mkdir()
    (tmp_path / ".ipynb_checkpoints").mkdir()
    (tmp_path / "10-second.yaml").write_text(pod("second"))
    (tmp_path / "00-first.yml").write_text(pod("first"))
    (tmp_path / "b" / "inner.yaml").write_text(pod("inner"))
    (tmp_path / "c.json").write_text('{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "json-ns"}}')
    (tmp_path / "README.md").write_text("not a manifest")
    (tmp_path / ".ipynb_checkpoints" / "x.yaml").write_text(pod("checkpoint"))
    objs = load_paths([tmp_path])
    assert [o.name for o in objs] == ["first", "second", "inner", "json-ns"]
    assert objs[2].source == str(tmp_path / "b" / "inner.yaml")
    assert [p.name for p in iter_manifest_files([tmp_path])] == ["00-first.yml", "10-second.yaml", "inner.yaml",
                                                                 "c.json"]


def test_json_errors_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"apiVersion": "v1",\n "kind": "Pod",\n "metadata": {"name": "x"},\n "spec": {"containers": [{"name": "c", "image": "nginx:1.27-alpine"}],\n'
                    '          "hostnetwork": true}}')
    with pytest.raises(ManifestError, match=r"bad\.json, document 1 \(line 1\), pod/x: field spec\.hostnetwork "
                                            r"\(line 5\): unknown field 'hostnetwork' \(did you mean hostNetwork\?\)"):
        load_paths([path])


def test_stdin_is_read_for_dash(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(POD.replace("name: web", "name: from-file"))
    objs = load_paths([tmp_path / "a.yaml", "-"], stdin=io.StringIO(POD))
    assert [(o.name, o.source) for o in objs] == [("from-file", str(tmp_path / "a.yaml")), ("web", "<stdin>")]
    with pytest.raises(ManifestError, match=r"<stdin>, document 1.*imagee"):
        load_paths(["-"], stdin=io.StringIO(POD.replace("image:", "imagee:")))


def test_list_items_are_flattened() -> None:
    text = """apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: Namespace
    metadata: {name: team}
  - apiVersion: v1
    kind: Service
    metadata: {name: svc, namespace: team}
    spec: {ports: [{port: 80}]}
---
""" + POD
    objs = load_text(text, "list.yaml")
    assert [(o.ref, o.namespace, o.index, o.item) for o in objs] == [
        ("namespace/team", None, 1, 0), ("service/svc", "team", 1, 1), ("pod/web", None, 2, None)]
    assert objs[1].line == 7 and "kind" in objs[1] and "items" not in objs[1]
    bad = text.replace("ports: [{port: 80}]", "portz: [{port: 80}]")
    with pytest.raises(ManifestError, match=r"list\.yaml, document 1 \(line 7\), items\[1\], service/svc: "
                                            r"field spec\.portz \(line 10\)"):
        load_text(bad, "list.yaml")


def test_validate_object_directly() -> None:
    validate_object({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ok"}}, "mem", 3)
    with pytest.raises(ManifestError, match=r"mem, document 3, namespace/ok: field spec\.nope: unknown field"):
        validate_object({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ok"},
                         "spec": {"nope": 1}}, "mem", 3)


@pytest.mark.parametrize("text, expected", [
    ("apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 80, protocol: TCPP}]}\n",
     r'service/s: field spec\.ports\[0\]\.protocol \(line 4\): unsupported value "TCPP": supported values: '
     r'"SCTP", "TCP", "UDP"'),
    ("apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {type: Clusterip, ports: [{port: 80}]}\n",
     r'field spec\.type \(line 4\): unsupported value "Clusterip"'),
    ("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: n}\n"
     "spec: {podSelector: {}, policyTypes: [Ingres]}\n",
     r'networkpolicy/n: field spec\.policyTypes\[0\] \(line 4\): unsupported value "Ingres"'),
    ("apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 80, targetPort: [1]}]}\n",
     r"field spec\.ports\[0\]\.targetPort \(line 4\): expected string or integer, found a list"),
    ("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: []}\n",
     r"pod/p: field spec\.containers \(line 4\): at least one container is required"),
])
def test_api_server_rules_the_schemas_lack(text: str, expected: str) -> None:
    with pytest.raises(ManifestError, match=expected):
        load_text(text, "rules.yaml")

"""The filters that turn kubernetes.core results into plain answers: who may read what, and whose
objects are whose. Pure functions over registered results, so the inputs are the shapes
ansible-playbook registers; the 403 text is what the local cluster's kube-apiserver v1.35.8
answered a ServiceAccount bound to `admin` in the inventory's namespaces only."""

from __future__ import annotations

import importlib.util
from pathlib import Path

FILTERS = Path(__file__).resolve().parents[2] / "plugins" / "filter"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, FILTERS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


results = _load("netfence_results")
ownership = _load("netfence_ownership")

# kubernetes.core's k8s_info message for a 403, as registered (headers and traceback shortened).
FORBIDDEN = (
    "Exception '403\nReason: Forbidden\nHTTP response headers: HTTPHeaderDict({'Audit-Id': 'e7c0', "
    "'Content-Type': 'application/json', 'Content-Length': '298'})\nHTTP response body: "
    '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"services is forbidden: '
    'User \\"system:serviceaccount:kube-system:netfence-scoped\\" cannot list resource \\"services\\" in API '
    'group \\"\\" at the cluster scope","reason":"Forbidden","details":{"kind":"services"},"code":403}\n\n'
    "Original traceback: \n  File \"client.py\", line 54, in inner\n' raised while trying to get resource"
)


def test_the_api_servers_words_are_kept_and_the_traceback_dropped():
    assert results.api_error(FORBIDDEN) == (
        '403 Forbidden: services is forbidden: User "system:serviceaccount:kube-system:netfence-scoped" '
        'cannot list resource "services" in API group "" at the cluster scope')
    assert results.api_error("HTTPConnectionPool(host='127.0.0.1', port=1): Max retries exceeded\nmore") == \
        "HTTPConnectionPool(host='127.0.0.1', port=1): Max retries exceeded"
    assert results.api_error(None) == "no answer"


def test_failures_name_each_failed_item_and_skip_the_rest():
    looped = {"failed": True, "results": [
        {"item": "dev", "failed": False, "resources": []},
        {"item": "prod", "failed": True, "msg": FORBIDDEN},
        {"item": "gateway", "skipped": True}]}
    assert list(results.failures(looped)) == ["prod"]
    assert results.failures(looped)["prod"].startswith("403 Forbidden: services is forbidden")
    assert results.failures({"failed": True, "msg": "timed out"}) == {"": "timed out"}
    assert results.failures({"changed": False}) == {}
    assert [r["item"] for r in results.succeeded_items(looped)] == ["dev"]


def _ns(name, labels=None, annotations=None):
    return {"metadata": {"name": name, "labels": labels or {}, **({"annotations": annotations} if annotations else {})}}


MANAGED = {"app.kubernetes.io/managed-by": "netfence"}


def test_a_namespace_is_this_inventorys_only_with_its_instance_annotation():
    namespaces = [
        _ns("dev", MANAGED, {"netfence.io/instance": "lab/lab"}),
        _ns("team", MANAGED, {"netfence.io/instance": "lab/team-b"}),   # another inventory's
        _ns("old", MANAGED),                                            # before instance annotations
        _ns("users", {}, {"netfence.io/instance": "lab/lab"}),         # annotation without the label
    ]
    assert ownership.owned_names(namespaces, "lab/lab") == ["dev"]
    assert ownership.owned_names(namespaces) == ["dev", "team", "old"]
    assert ownership.owned_names(namespaces, unmarked=True) == ["old"]


def test_foreign_objects_are_what_netfence_did_not_create_minus_the_built_ins():
    content = {"results": [
        {"item": ["dev", {"kind": "ConfigMap"}], "resources": [
            _ns("kube-root-ca.crt"), _ns("team-settings"), _ns("netfence-x", MANAGED)]},
        {"item": ["dev", {"kind": "ServiceAccount"}], "resources": [_ns("default"), _ns("ci-bot")]},
        {"item": ["dev", {"kind": "Secret"}], "resources": [{**_ns("ci-bot-token"), "type": "kubernetes.io/service-account-token"}]},
        {"item": ["prod", {"kind": "Pod"}], "resources": [_ns("my-api-1", MANAGED)]},
    ]}
    assert ownership.foreign_objects(content) == {"dev": ["ConfigMap team-settings", "ServiceAccount ci-bot"]}

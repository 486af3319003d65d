"""A small, honest Kubernetes API double served over HTTP on 127.0.0.1.

It implements only what netfence's roles and modules use, with the real API's wire shapes, so
the official client and kubernetes.core talk to it unchanged:

* discovery (``/api``, ``/apis``, ``/api/v1``, ``/apis/networking.k8s.io/v1``, ``/version``);
* namespaces, pods, services, configmaps, serviceaccounts (core/v1), deployments (apps/v1; stored only, no controller, no
  status) and networkpolicies (networking.k8s.io/v1):
  list (namespaced and cluster-wide, with equality/existence ``labelSelector``), get, create,
  replace, delete, JSON merge patch, and server-side apply (``application/apply-patch+yaml``
  with ``fieldManager``, ``force``);
* ``dryRun=All`` on every write: the answer is computed, nothing is stored;
* a namespaced write into a namespace that does not exist fails with 404, as on a cluster;
* pods "start" on create: ``Running`` with a pod IP, or ``Pending``/``ImagePullBackOff`` when
  the image name contains ``does-not-exist``;
* RBAC for one namespace-scoped identity (:attr:`ApiDouble.scoped_to`): as the RBAC authorizer
  answers a user bound only by RoleBindings, every request outside those namespaces, and every
  cluster-scope list, is 403 Forbidden with the apiserver's message (``forbiddenMessage`` in
  k8s.io/apiserver/pkg/endpoints/handlers/responsewriters/errors.go); a GET of a Namespace
  counts as a request in that namespace (``requestinfo.go`` sets the namespace to the name).

What it does NOT do, and tests must not claim: schema validation, admission, field ownership
beyond "another manager owns this object and the applied spec differs → 409 Conflict",
strategic merge (treated as JSON merge), watches, and exec (answered 400: no websocket).
Every request is recorded in :attr:`ApiDouble.calls` so tests can assert, for example, that a
probe pod was deleted.
"""

from __future__ import annotations

import copy
import itertools
import json
import threading
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml

from cluster_support import write_kubeconfig  # sibling module: tests/cluster is on sys.path

CORE = {
    "namespaces": ("Namespace", False),
    "pods": ("Pod", True),
    "services": ("Service", True),
    "configmaps": ("ConfigMap", True),
    "serviceaccounts": ("ServiceAccount", True),
}
# The named API groups the double serves: group/version -> {plural: (kind, namespaced)}.
GROUPS = {
    "networking.k8s.io/v1": {"networkpolicies": ("NetworkPolicy", True)},
    "apps/v1": {"deployments": ("Deployment", True)},
    "discovery.k8s.io/v1": {"endpointslices": ("EndpointSlice", True)},
}
VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]


def _resource_list(group_version: str, resources: dict[str, tuple[str, bool]]) -> dict[str, Any]:
    items = [{"name": plural, "singularName": kind.lower(), "namespaced": namespaced, "kind": kind, "verbs": VERBS}
             for plural, (kind, namespaced) in resources.items()]
    if group_version == "v1":
        items.append({"name": "pods/exec", "singularName": "", "namespaced": True, "kind": "PodExecOptions", "verbs": ["create", "get"]})
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": items}


def _status(code: int, reason: str, message: str) -> dict[str, Any]:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message, "reason": reason, "code": code}


def _matches(labels: dict[str, str], selector: str) -> bool:
    for term in filter(None, (t.strip() for t in selector.split(","))):
        if "!=" in term:
            key, value = term.split("!=", 1)
            if labels.get(key) == value:
                return False
        elif "=" in term:
            key, value = term.split("==", 1) if "==" in term else term.split("=", 1)
            if labels.get(key) != value:
                return False
        elif term.startswith("!"):
            if term[1:] in labels:
                return False
        elif term not in labels:
            return False
    return True


def _merge(base: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(base) if isinstance(base, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = _merge(result.get(key), value)
    return result


def _content(obj: dict[str, Any]) -> dict[str, Any]:
    """What counts as a change: everything but server bookkeeping."""
    meta = {k: v for k, v in obj.get("metadata", {}).items()
            if k not in ("resourceVersion", "managedFields", "generation", "uid", "creationTimestamp")}
    return {**{k: v for k, v in obj.items() if k not in ("metadata", "status")}, "metadata": meta}


class ApiDouble:
    """The store, the call log and the HTTP server."""

    def __init__(self, namespaces: tuple[str, ...] = ("default", "kube-system")) -> None:
        self.lock = threading.Lock()
        self.objects: dict[str, dict[tuple[str, str], dict[str, Any]]] = {
            p: {} for p in [*CORE, *(plural for resources in GROUPS.values() for plural in resources)]}
        self.calls: list[dict[str, Any]] = []
        # None: an identity that may do everything. A set: bound only in these namespaces.
        self.scoped_to: set[str] | None = None
        self.user = "system:serviceaccount:kube-system:netfence-scoped"
        self._rv = itertools.count(1000)
        self._ip = itertools.count(10)
        for ns in namespaces:
            self.put("namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    # -- lifecycle -------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> "ApiDouble":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def write_kubeconfig(self, path: Path, context: str = "kind-netfence-test") -> Path:
        return write_kubeconfig(path, self.url, context)

    # -- store helpers for tests ------------------------------------------------------------
    def put(self, plural: str, obj: dict[str, Any]) -> dict[str, Any]:
        obj = copy.deepcopy(obj)
        meta = obj.setdefault("metadata", {})
        meta.setdefault("uid", str(uuid.uuid4()))
        meta.setdefault("creationTimestamp", "2026-11-26T00:00:00Z")
        meta["resourceVersion"] = str(next(self._rv))
        meta.setdefault("generation", 1)
        if plural == "pods":
            obj["status"] = self._pod_status(obj)
        self.objects[plural][(meta.get("namespace", ""), meta["name"])] = obj
        return obj

    def names(self, plural: str, namespace: str | None = None) -> list[str]:
        return sorted(f"{ns}/{name}" if ns else name for ns, name in self.objects[plural] if namespace in (None, ns))

    def get(self, plural: str, namespace: str, name: str) -> dict[str, Any] | None:
        return self.objects[plural].get((namespace, name))

    def writes(self, method: str | None = None, plural: str | None = None, dry_run: bool | None = None) -> list[dict[str, Any]]:
        return [c for c in self.calls if c["method"] != "GET" and (method is None or c["method"] == method)
                and (plural is None or c["plural"] == plural) and (dry_run is None or c["dry_run"] == dry_run)]

    def _pod_status(self, pod: dict[str, Any]) -> dict[str, Any]:
        images = [c.get("image", "") for c in pod.get("spec", {}).get("containers", [])]
        if any("does-not-exist" in image for image in images):
            return {"phase": "Pending", "containerStatuses": [
                {"name": "probe", "ready": False, "restartCount": 0, "image": images[0], "imageID": "",
                 "state": {"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image"}}}]}
        return {"phase": "Running", "podIP": f"10.244.0.{next(self._ip)}"}

    # -- HTTP ----------------------------------------------------------------------------------
    def _handler(self):
        double = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _send(self, code: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _body(self) -> Any:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                return yaml.safe_load(raw) if raw else None

            def _dispatch(self, method: str) -> None:
                parsed = urllib.parse.urlsplit(self.path)
                query = {k: v[-1] for k, v in urllib.parse.parse_qs(parsed.query).items()}
                body = self._body() if method in ("POST", "PUT", "PATCH") else None
                code, payload = double.handle(method, parsed.path.rstrip("/"), query, self.headers.get("Content-Type", ""), body)
                self._send(code, payload)

            def do_GET(self) -> None:  # noqa: N802
                self._dispatch("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._dispatch("POST")

            def do_PUT(self) -> None:  # noqa: N802
                self._dispatch("PUT")

            def do_PATCH(self) -> None:  # noqa: N802
                self._dispatch("PATCH")

            def do_DELETE(self) -> None:  # noqa: N802
                self._dispatch("DELETE")

        return Handler

    def handle(self, method: str, path: str, query: dict[str, str], ctype: str, body: Any) -> tuple[int, dict[str, Any]]:
        if path == "/version":
            return 200, {"major": "1", "minor": "34", "gitVersion": "v1.34.0-apidouble", "platform": "linux/amd64"}
        if path == "/api":
            return 200, {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]}
        if path == "/apis":
            groups = []
            for group_version in GROUPS:
                group, version = group_version.split("/")
                gv = {"groupVersion": group_version, "version": version}
                groups.append({"name": group, "versions": [gv], "preferredVersion": gv})
            return 200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}
        if path == "/api/v1":
            return 200, _resource_list("v1", CORE)
        if path.startswith("/apis/") and path[len("/apis/"):] in GROUPS:
            return 200, _resource_list(path[len("/apis/"):], GROUPS[path[len("/apis/"):]])
        parts = path.strip("/").split("/")
        if parts[:2] == ["api", "v1"]:
            api_version, rest, resources = "v1", parts[2:], CORE
        elif parts[0] == "apis" and "/".join(parts[1:3]) in GROUPS:
            api_version = "/".join(parts[1:3])
            rest, resources = parts[3:], GROUPS[api_version]
        else:
            return 404, _status(404, "NotFound", f"the server could not find the requested resource ({path})")
        namespace = ""
        if len(rest) >= 3 and rest[0] == "namespaces" and rest[2] in resources:
            namespace, rest = rest[1], rest[2:]
        if not rest or rest[0] not in resources:
            return 404, _status(404, "NotFound", f"the server could not find the requested resource ({path})")
        plural, name, sub = rest[0], (rest[1] if len(rest) > 1 else None), (rest[2] if len(rest) > 2 else None)
        dry_run = query.get("dryRun") == "All"
        with self.lock:
            self.calls.append({"method": method, "path": path, "plural": plural, "namespace": namespace, "name": name,
                               "query": query, "content_type": ctype, "dry_run": dry_run, "body": body})
            if (denied := self._forbidden(method, plural, api_version, namespace, name, sub)) is not None:
                return 403, denied
            if sub == "exec":
                return 400, _status(400, "BadRequest", "the API double does not implement exec (no websocket)")
            kind, namespaced = resources[plural]
            if namespaced and namespace and method != "GET" and ("", namespace) not in self.objects["namespaces"]:
                return 404, _status(404, "NotFound", f'namespaces "{namespace}" not found')
            if name is None:
                if method == "GET":
                    items = [copy.deepcopy(o) for (ns, _), o in sorted(self.objects[plural].items())
                             if (not namespace or ns == namespace) and _matches(o["metadata"].get("labels") or {}, query.get("labelSelector", ""))]
                    for item in items:
                        item.pop("kind", None)
                        item.pop("apiVersion", None)
                    return 200, {"kind": f"{kind}List", "apiVersion": api_version, "metadata": {"resourceVersion": str(next(self._rv))}, "items": items}
                if method == "POST":
                    return self._create(plural, kind, api_version, namespace, body, dry_run)
                return 405, _status(405, "MethodNotAllowed", f"{method} on a collection")
            key = (namespace, name)
            existing = self.objects[plural].get(key)
            if method == "GET":
                if existing is None:
                    return 404, _status(404, "NotFound", f'{plural} "{name}" not found')
                return 200, copy.deepcopy(existing)
            if method == "DELETE":
                if existing is None:
                    return 404, _status(404, "NotFound", f'{plural} "{name}" not found')
                if not dry_run:
                    del self.objects[plural][key]
                return 200, copy.deepcopy(existing)
            if method == "PUT":
                if existing is None:
                    return 404, _status(404, "NotFound", f'{plural} "{name}" not found')
                return self._store(plural, key, existing, body, dry_run, manager=query.get("fieldManager", "unknown"), operation="Update")
            if method == "PATCH":
                return self._patch(plural, kind, api_version, key, existing, ctype, body, query, dry_run)
        return 405, _status(405, "MethodNotAllowed", method)

    def _forbidden(self, method, plural, api_version, namespace, name, sub) -> dict[str, Any] | None:
        """The RBAC authorizer's 403 for a namespace-scoped identity, or None when allowed."""
        if self.scoped_to is None:
            return None
        scope = name if plural == "namespaces" and name else namespace
        verb = {"GET": "get" if name else "list", "POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}[method]
        # the admin/edit/view ClusterRoles grant get on the Namespace itself, never a write to it
        if scope and scope in self.scoped_to and (plural != "namespaces" or verb == "get"):
            return None
        group = api_version.rpartition("/")[0]
        resource = f"{plural}/{sub}" if sub else plural
        where = f'in the namespace "{scope}"' if scope else "at the cluster scope"
        what = f'{resource} "{name}"' if name else resource
        message = f'{what} is forbidden: User "{self.user}" cannot {verb} resource "{resource}" in API group "{group}" {where}'
        return {**_status(403, "Forbidden", message), "details": {"name": name or "", "group": group, "kind": plural}}

    def _create(self, plural, kind, api_version, namespace, body, dry_run):
        if not isinstance(body, dict) or not body.get("metadata", {}).get("name"):
            return 422, _status(422, "Invalid", f"{kind}.metadata.name: Required value")
        key = (namespace, body["metadata"]["name"])
        if key in self.objects[plural]:
            return 409, _status(409, "AlreadyExists", f'{plural} "{key[1]}" already exists')
        obj = copy.deepcopy(body)
        obj.update({"apiVersion": api_version, "kind": kind})
        if namespace:
            obj["metadata"]["namespace"] = namespace
        return self._store(plural, key, None, obj, dry_run, manager="unknown", operation="Update")

    def _patch(self, plural, kind, api_version, key, existing, ctype, body, query, dry_run):
        if ctype.startswith("application/apply-patch"):
            manager = query.get("fieldManager")
            if not manager:
                return 422, _status(422, "Invalid", "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value")
            if existing is None:
                obj = copy.deepcopy(body)
                obj.setdefault("metadata", {})["namespace"] = key[0] or None
                if not key[0]:
                    obj["metadata"].pop("namespace")
                return self._store(plural, key, None, obj, dry_run, manager=manager, operation="Apply", code=201)
            others = {f["manager"] for f in existing["metadata"].get("managedFields", [])} - {manager}
            if others and existing.get("spec") != body.get("spec") and query.get("force") != "true":
                return 409, _status(409, "Conflict", f"Apply failed with conflicts: conflicts with {sorted(others)}: .spec")
            merged = copy.deepcopy(existing)
            merged["spec"] = copy.deepcopy(body.get("spec"))
            for field in ("labels", "annotations"):
                if body.get("metadata", {}).get(field):
                    merged["metadata"][field] = {**(existing["metadata"].get(field) or {}), **body["metadata"][field]}
            return self._store(plural, key, existing, merged, dry_run, manager=manager, operation="Apply")
        if ctype.startswith(("application/merge-patch+json", "application/strategic-merge-patch+json")):
            if existing is None:
                return 404, _status(404, "NotFound", f'{plural} "{key[1]}" not found')
            return self._store(plural, key, existing, _merge(existing, body), dry_run, manager=query.get("fieldManager", "unknown"), operation="Update")
        return 415, _status(415, "UnsupportedMediaType", f"the API double does not support {ctype}")

    def _store(self, plural, key, existing, obj, dry_run, *, manager, operation, code=None):
        obj = copy.deepcopy(obj)
        meta = obj.setdefault("metadata", {})
        if existing is not None and _content(existing) == _content(obj):
            return 200, copy.deepcopy(existing)
        managers = [f for f in (existing or {}).get("metadata", {}).get("managedFields", []) if f["manager"] != manager]
        meta["managedFields"] = [*managers, {"manager": manager, "operation": operation, "apiVersion": obj.get("apiVersion")}]
        if existing is not None:
            meta["uid"] = existing["metadata"]["uid"]
            meta["creationTimestamp"] = existing["metadata"]["creationTimestamp"]
            meta["generation"] = existing["metadata"].get("generation", 1) + 1
        if dry_run:
            meta.setdefault("uid", "dry-run")
            meta["resourceVersion"] = existing["metadata"]["resourceVersion"] if existing else ""
            return code or (200 if existing else 201), obj
        stored = self.put(plural, obj)
        return code or (200 if existing else 201), copy.deepcopy(stored)

"""The probe transport over the Kubernetes API: exec into probe pods, read pod state.

This is the only module of :mod:`netfence.probes` that does network I/O. ``kubernetes.stream``
swaps the ``ApiClient``'s ``call_api`` while an exec is open, so an ``ApiClient`` must never be
shared between threads: each worker thread gets its own (``threading.local``). Every call has
a request timeout, so a half-open API endpoint costs bounded time.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any, Mapping

from netfence.errors import NetfenceError
from netfence.probes.command import ExecResult
from netfence.labels import ROLE_LABEL


ERROR_CHANNEL = 3  # the exec websocket's channel for the final Status (kubernetes.stream.ws_client)


def exit_status(status_text: str) -> tuple[int | None, str | None]:
    """The exit code, or why there is none, from the Status the kubelet sends on the error channel.

    The official client's ``WSClient.returncode`` does ``int(details.causes[0].message)``, which
    raises when the command never started: the kubelet then answers ``Reason: InternalError`` and
    a cause whose message is text (for example ``exec: "dig": executable file not found in $PATH``).
    Read the Status ourselves so such a probe reports the kubelet's own words as an error.
    """
    try:
        doc: Any = json.loads(status_text) if status_text and status_text.strip() else None
    except ValueError:
        doc = None
    if not isinstance(doc, Mapping):
        return None, f"no exit status from the kubelet ({status_text.strip()[:200] or 'empty error channel'})"
    if doc.get("status") == "Success":
        return 0, None
    details = doc.get("details") if isinstance(doc.get("details"), Mapping) else {}
    for cause in details.get("causes") or []:
        if isinstance(cause, Mapping) and cause.get("reason") == "ExitCode":
            try:
                return int(cause.get("message", "")), None
            except ValueError:
                break
    return None, f"the probe command did not run: {doc.get('message') or doc.get('reason') or status_text.strip()[:200]}"


class KubernetesTransport:
    """Exec and pod reads through the official client, one ``ApiClient`` per thread."""

    def __init__(self, kubeconfig: str | None, context: str | None, request_timeout: float = 10.0) -> None:
        from kubernetes import client, config
        from kubernetes.config.config_exception import ConfigException

        self._client = client
        self._configuration = client.Configuration()
        try:
            config.load_kube_config(config_file=kubeconfig, context=context, client_configuration=self._configuration)
        except (ConfigException, OSError) as exc:
            raise NetfenceError(f"cannot load kubeconfig {kubeconfig!r} (context {context!r}): {exc}") from None
        self._request_timeout = request_timeout
        self._local = threading.local()


    def _api(self):  # -> client.CoreV1Api
        api = getattr(self._local, "api", None)
        if api is None:
            api = self._local.api = self._client.CoreV1Api(self._client.ApiClient(self._configuration))
        return api

    def exec(self, namespace: str, pod: str, argv: list[str], timeout: float) -> ExecResult:
        from kubernetes.client.exceptions import ApiException
        from kubernetes.stream import stream

        deadline = time.monotonic() + timeout
        api = self._api()
        opened: dict[str, object] = {}

        def open_stream() -> None:
            try:
                opened["resp"] = stream(
                    api.connect_get_namespaced_pod_exec, pod, namespace, command=argv, container="probe",
                    stderr=True, stdin=False, stdout=True, tty=False, _preload_content=False,
                    _request_timeout=min(self._request_timeout, timeout),
                )
            except Exception as exc:  # noqa: BLE001 - reported below
                opened["error"] = exc

        # kubernetes.stream opens its websocket with no timeout at all, so a half-open API
        # endpoint would hang the handshake for ever: open it in a helper thread with a deadline.
        opener = threading.Thread(target=open_stream, name="netfence-exec-open", daemon=True)
        opener.start()
        opener.join(timeout)
        if opener.is_alive():
            self._local.api = None  # stream() left this ApiClient patched; never reuse it
            return ExecResult(None, error=f"the API server did not open the exec stream within {timeout:g}s")
        error = opened.get("error")
        if isinstance(error, ApiException):
            return ExecResult(None, error=f"exec refused by the API server: {error.status} {error.reason}")
        if error is not None:
            return ExecResult(None, error=f"exec failed: {type(error).__name__}: {error}")
        resp = opened["resp"]
        out: list[str] = []
        err: list[str] = []
        try:
            while resp.is_open():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return ExecResult(None, "".join(out), "".join(err), error=f"no exit status within {timeout:g}s")
                resp.update(timeout=min(remaining, 0.5))
                if resp.peek_stdout():
                    out.append(resp.read_stdout())
                if resp.peek_stderr():
                    err.append(resp.read_stderr())
            out.append(resp.read_stdout() or "")
            err.append(resp.read_stderr() or "")
            code, why = exit_status(resp.read_channel(ERROR_CHANNEL))
            return ExecResult(code, "".join(out), "".join(err), error=why)
        finally:
            resp.close()

    def pod_ip(self, namespace: str, selector: Mapping[str, str]) -> str | None:
        terms = [f"{k}={v}" for k, v in sorted(selector.items())] + [f"{ROLE_LABEL}!=probe"]
        pods = self._api().list_namespaced_pod(namespace, label_selector=",".join(terms), _request_timeout=self._request_timeout)
        for item in sorted(pods.items, key=lambda p: p.metadata.name):
            if item.status and item.status.phase == "Running" and item.status.pod_ip:
                return item.status.pod_ip
        return None

    def pod_state(self, namespace: str, name: str) -> tuple[str, str | None]:
        from kubernetes.client.exceptions import ApiException

        try:
            pod = self._api().read_namespaced_pod(name, namespace, _request_timeout=self._request_timeout)
        except ApiException as exc:
            if exc.status == 404:
                return "Missing", None
            raise
        status = pod.status
        reason = None
        for cs in (status.container_statuses or []) if status else []:
            if cs.state and cs.state.waiting and cs.state.waiting.reason:
                reason = cs.state.waiting.reason
        return (status.phase if status and status.phase else "Unknown"), reason

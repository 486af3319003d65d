"""KubernetesTransport's pod reads and exec failure paths against the API double (no exec there)."""

from __future__ import annotations

import time

import pytest
from urllib3.exceptions import MaxRetryError

from cluster_support import closed_port_url, silent_endpoint, write_kubeconfig
from netfence.errors import NetfenceError
from netfence.probes.transport_k8s import KubernetesTransport


def pod(ns, name, labels, image="agnhost"):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": ns, "labels": labels},
            "spec": {"containers": [{"name": "probe", "image": image}]}}


def test_pod_state_and_pod_ip(api, kubeconfig):
    api.put("pods", pod("dev", "my-api-1", {"app": "my-api"}))
    api.put("pods", pod("dev", "netfence-probe-x", {"app": "my-api", "netfence.io/role": "probe"}))
    api.put("pods", pod("dev", "broken", {"app": "x"}, image="registry.example/does-not-exist:1"))
    transport = KubernetesTransport(str(kubeconfig), "kind-netfence-test", request_timeout=5)
    assert transport.pod_state("dev", "my-api-1") == ("Running", None)
    assert transport.pod_state("dev", "broken") == ("Pending", "ImagePullBackOff")
    assert transport.pod_state("dev", "gone") == ("Missing", None)
    assert transport.pod_ip("dev", {"app": "my-api"}) == api.get("pods", "dev", "my-api-1")["status"]["podIP"]
    lists = [c for c in api.calls if c["path"] == "/api/v1/namespaces/dev/pods" and c["method"] == "GET"]
    assert lists[-1]["query"]["labelSelector"] == "app=my-api,netfence.io/role!=probe"
    assert transport.pod_ip("prod", {"app": "my-api"}) is None


def test_exec_that_the_server_refuses_is_an_unfinished_result_not_a_crash(api, kubeconfig):
    api.put("pods", pod("dev", "p", {}))
    transport = KubernetesTransport(str(kubeconfig), "kind-netfence-test", request_timeout=5)
    started = time.monotonic()
    result = transport.exec("dev", "p", ["curl", "http://x"], timeout=5)
    assert time.monotonic() - started < 10
    assert result.exit_code is None and "exec refused by the API server" in (result.error or "")
    assert "does not implement exec" in result.error


def test_unreachable_api_is_bounded(tmp_path):
    kc = write_kubeconfig(tmp_path / "kc", closed_port_url(), "c")
    transport = KubernetesTransport(str(kc), "c", request_timeout=2)
    started = time.monotonic()
    with pytest.raises(MaxRetryError, match="Connection refused"):
        transport.pod_state("dev", "p")
    assert time.monotonic() - started < 30


def test_bad_kubeconfig_is_a_user_error(tmp_path):
    with pytest.raises(NetfenceError, match="cannot load kubeconfig"):
        KubernetesTransport(str(tmp_path / "missing"), "nope")


def test_half_open_api_costs_bounded_time(tmp_path):
    """An endpoint that accepts TCP and never answers: every call ends after the request timeout."""
    with silent_endpoint() as server:
        kc = write_kubeconfig(tmp_path / "kc", server, "c")
        transport = KubernetesTransport(str(kc), "c", request_timeout=1)
        started = time.monotonic()
        with pytest.raises(MaxRetryError, match="ReadTimeoutError|Read timed out"):
            transport.pod_ip("dev", {"app": "x"})
        result = transport.exec("dev", "p", ["true"], timeout=2)
    assert result.exit_code is None
    assert time.monotonic() - started < 15


# The Status documents the kubelet sends on the exec error channel, shaped as in kubernetes
# pkg/kubelet/cri/streaming/remotecommand (exit codes: Reason NonZeroExitCode with an ExitCode
# cause; a command that never started: apierrors.NewInternalError, whose cause is text). The
# message of NOT_STARTED is what kubelet v1.35.8 with containerd 1.6.20 sent on the local cluster.
SUCCESS = '{"metadata":{},"status":"Success"}'
EXIT_7 = ('{"metadata":{},"status":"Failure","message":"command terminated with non-zero exit code: error executing '
          'command [curl http://x], exit code 7","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"7"}]}}')
NOT_STARTED = ('{"metadata":{},"status":"Failure","message":"Internal error occurred: error executing command in container: '
               'failed to exec in container: failed to start exec \\"bc372a38068c\\": OCI runtime exec failed: exec failed: unable '
               'to start container process: exec: \\"dig\\": executable file not found in $PATH: unknown","reason":"InternalError",'
               '"details":{"causes":[{"message":"error executing command in container: failed to exec in container: failed to start '
               'exec \\"bc372a38068c\\": OCI runtime exec failed: exec failed: unable to start container process: exec: \\"dig\\": '
               'executable file not found in $PATH: unknown"}]},"code":500}')


def test_exit_status_reads_codes_and_reports_a_command_that_never_started():
    from netfence.probes.command import ExecResult, classify
    from netfence.probes.transport_k8s import exit_status

    assert exit_status(SUCCESS) == (0, None)
    assert exit_status(EXIT_7) == (7, None)
    code, why = exit_status(NOT_STARTED)
    assert code is None and "did not run" in why and "executable file not found" in why
    assert exit_status("")[0] is None and "empty error channel" in exit_status("")[1]
    outcome, detail = classify(["dig", "x"], ExecResult(code, error=why))
    assert outcome == "error" and "executable file not found" in detail


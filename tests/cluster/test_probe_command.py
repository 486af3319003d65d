"""The probe command's classification against real sockets on loopback (no cluster, no internet).

The "drops packets" case uses a listening socket that never accept()s, with its accept queue
already full: Linux then drops further SYNs, exactly what a policy-enforcing CNI does to a denied
connection, so the client's connect times out. Only 127.0.0.0/8 is used; no iptables needed.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from netfence.errors import NetfenceError
from netfence.probes.command import ExecResult, build_command, classify

def run_local(argv: list[str], method: str = "tcp") -> tuple[str, str]:
    # a missing tool fails the test, never skips it: .ci/run installs curl before the tests run
    if shutil.which(argv[0]) is None:
        pytest.fail(f"{argv[0]} is needed to run the probe command locally (apt-get install {argv[0]}); see .ci/run")
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    return classify(argv, ExecResult(proc.returncode, proc.stdout, proc.stderr), method=method)


class _Ok(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def http_port():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()


@pytest.fixture
def closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # bound then closed: nothing listens, the kernel answers RST
    return port


@pytest.fixture
def dropping_port():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(4):  # fill the accept queue; later SYNs are dropped
        c = socket.socket()
        c.setblocking(False)
        try:
            c.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        fillers.append(c)
    time.sleep(0.2)
    yield port
    for c in fillers:
        c.close()
    listener.close()


@pytest.fixture
def silent_port():
    """Accepts TCP and never answers: a half-open endpoint."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    listener.close()


def test_open_port_is_allowed(http_port):
    assert run_local(build_command("service", "127.0.0.1", http_port, timeout=2)) == ("allowed", "connected; HTTP 204")


def test_http_get_records_the_status(http_port):
    outcome, detail = run_local(build_command("service", "127.0.0.1", http_port, method="http", timeout=2), "http")
    assert (outcome, detail) == ("allowed", "connected; HTTP 204")


def test_closed_port_is_refused_not_blocked(closed_port):
    outcome, detail = run_local(build_command("pod", "127.0.0.1", closed_port, timeout=2))
    assert outcome == "refused"
    assert "(7)" in detail  # curl 7.x says "Couldn't connect", 8.x "Connection refused"


def test_dropped_syn_is_blocked_within_the_timeout(dropping_port):
    started = time.monotonic()
    outcome, _ = run_local(build_command("pod", "127.0.0.1", dropping_port, timeout=1))
    assert outcome == "blocked"
    assert time.monotonic() - started < 5


def test_half_open_endpoint_counts_as_reachable_and_ends(silent_port):
    started = time.monotonic()
    outcome, detail = run_local(build_command("service", "127.0.0.1", silent_port, timeout=1))
    assert (outcome, detail) == ("allowed", "TCP connection established")
    http_outcome, http_detail = run_local(build_command("service", "127.0.0.1", silent_port, method="http", timeout=1), "http")
    assert (http_outcome, http_detail) == ("allowed", "connected; no HTTP response")
    assert time.monotonic() - started < 10


def test_unresolvable_name_is_a_dns_error():
    outcome, _ = run_local(build_command("service", "netfence-no-such-host.invalid", 80, timeout=2))
    assert outcome in ("dns-error", "blocked")  # a resolver that cannot be reached times out instead


# Pure classification of outputs the loopback cannot produce (ICMP rejects, dig, exec failures).

def test_icmp_reject_is_a_block_not_a_refusal():
    argv = build_command("pod", "10.0.0.1", 80)
    result = ExecResult(7, "0.000000 000", "curl: (7) Failed to connect to 10.0.0.1 port 80: No route to host")
    assert classify(argv, result)[0] == "blocked"


def test_missing_curl_in_image_is_an_error():
    argv = build_command("pod", "10.0.0.1", 80)
    assert classify(argv, ExecResult(127, "", "sh: curl: not found"))[0] == "error"


def test_unfinished_command_is_an_error():
    argv = build_command("pod", "10.0.0.1", 80)
    assert classify(argv, ExecResult(None, error="no exit status within 7s")) == ("error", "no exit status within 7s")


@pytest.mark.parametrize(
    ("code", "stdout", "outcome"),
    [(0, "10.96.0.1\n", "allowed"), (0, "", "allowed"), (9, ";; connection timed out; no servers could be reached", "blocked"),
     (9, ";; communications error to 10.96.0.10#53: connection refused", "refused"), (10, "internal error", "error")],
)
def test_dig_outcomes(code, stdout, outcome):
    argv = build_command("dns", "kubernetes.default.svc.cluster.local", 53, protocol="UDP")
    assert argv[0] == "dig" and "+tcp" not in argv
    assert classify(argv, ExecResult(code, stdout, ""))[0] == outcome


def test_command_shapes():
    tcp = build_command("service", "my-api.dev.svc.cluster.local", 80, timeout=2)
    assert tcp[0] == "curl" and tcp[-1] == "http://my-api.dev.svc.cluster.local:80/" and "--insecure" not in tcp
    https = build_command("api", "kubernetes.default.svc.cluster.local", 443, method="http")
    assert https[-1].startswith("https://") and "--insecure" in https
    assert build_command("external", "2001:db8::1", 443)[-1] == "http://[2001:db8::1]:443/"
    assert "+tcp" in build_command("dns", "kubernetes.default", 53, protocol="TCP")


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"kind": "service", "host": "", "port": 80}, "no host"),
    ({"kind": "service", "host": "x", "port": 70000}, "outside 1-65535"),
    ({"kind": "service", "host": "x", "port": 80, "protocol": "UDP"}, "only DNS probes"),
    ({"kind": "service", "host": "x", "port": 80, "method": "icmp"}, "tcp or http"),
])
def test_bad_commands_are_refused(kwargs, message):
    with pytest.raises(NetfenceError, match=message):
        build_command(**kwargs)


def test_a_resolver_timeout_is_a_dns_error_not_a_block_of_the_target():
    from netfence.probes.command import ExecResult, classify

    argv = ["curl", "-sS", "http://my-api.prod.svc.cluster.local:80/"]
    # curl lib/multi.c: failf(data, "Resolving timed out after %ld milliseconds", ...), exit 28
    resolving = ExecResult(28, "0.000000 000", "curl: (28) Resolving timed out after 2001 milliseconds")
    connecting = ExecResult(28, "0.000000 000", "curl: (28) Connection timed out after 2001 milliseconds")
    assert classify(argv, resolving)[0] == "dns-error"
    assert classify(argv, connecting)[0] == "blocked"

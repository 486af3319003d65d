"""The command a probe pod runs, and how its result is read. Pure: no I/O here.

TCP and HTTP probes run ``curl``; DNS probes run ``dig``. Both ship in the default probe image
(agnhost, whose Dockerfile installs ``curl`` and ``bind-tools``). ``curl`` is used even for a
plain TCP check because its exit codes and ``%{time_connect}`` separate the cases that matter
for policy: a completed TCP handshake (reachable, whatever the server then says), a refused
connection (reached, nothing listening: not a policy block), a timeout (dropped: what most CNIs
do for a denied packet), an ICMP rejection (also a block) and a name that does not resolve.
"""

from __future__ import annotations

import dataclasses

from netfence.errors import NetfenceError
from netfence.probes.records import ALLOWED, BLOCKED, DNS_ERROR, ERROR, REFUSED

# curl exit codes (curl(1), "EXIT CODES").
CURL_OK = 0
CURL_COULDNT_RESOLVE_HOST = 6
CURL_COULDNT_CONNECT = 7
CURL_OPERATION_TIMEDOUT = 28
# dig exit codes (dig(1), "RETURN CODES").
DIG_OK = 0
DIG_NO_REPLY = 9

_REJECTED = ("no route to host", "network is unreachable", "host is unreachable")
WRITE_OUT = "%{time_connect} %{http_code}"


@dataclasses.dataclass(frozen=True)
class ExecResult:
    """What a transport saw: exit status (None if the command never finished) and output."""

    exit_code: int | None
    stdout: str = ""
    stderr: str = ""
    error: str | None = None


def _seconds(timeout: float) -> str:
    return f"{max(timeout, 0.1):g}"


def build_command(kind: str, host: str, port: int, *, method: str = "tcp", protocol: str = "TCP", timeout: float = 2.0) -> list[str]:
    """argv for one probe. ``kind`` is the target kind; ``dns`` probes resolve ``host``."""
    if not host:
        raise NetfenceError("probe target has no host to reach")
    if not 1 <= int(port) <= 65535:
        raise NetfenceError(f"probe port {port} is outside 1-65535")
    protocol = protocol.upper()
    if kind == "dns":
        if protocol not in ("UDP", "TCP"):
            raise NetfenceError(f"DNS probes use UDP or TCP, not {protocol}")
        argv = ["dig", f"+time={max(1, round(timeout))}", "+tries=1", "+short", "-p", str(port)]
        if protocol == "TCP":
            argv.append("+tcp")
        return [*argv, host]
    if protocol != "TCP":
        raise NetfenceError(f"only DNS probes may use {protocol}; TCP connect and HTTP GET need TCP")
    if method not in ("tcp", "http"):
        raise NetfenceError(f"probe method must be tcp or http, not {method!r}")
    bracketed = f"[{host}]" if ":" in host else host
    scheme = "https" if method == "http" and int(port) == 443 else "http"
    argv = ["curl", "-sS", "-o", "/dev/null", "--connect-timeout", _seconds(timeout), "--max-time", _seconds(timeout), "-w", WRITE_OUT]
    if scheme == "https":
        # Reachability only: no credentials are sent, so skipping verification discloses nothing.
        argv.append("--insecure")
    return [*argv, f"{scheme}://{bracketed}:{port}/"]


def _connected(stdout: str) -> tuple[bool, str]:
    fields = stdout.strip().split()
    if len(fields) != 2:
        return False, ""
    try:
        return float(fields[0]) > 0, fields[1]
    except ValueError:
        return False, ""


def classify(argv: list[str], result: ExecResult, *, method: str = "tcp") -> tuple[str, str]:
    """Map a finished (or unfinished) probe to ``(outcome, detail)``."""
    if result.exit_code is None:
        return ERROR, result.error or "the probe command did not finish"
    tool = argv[0] if argv else ""
    text = f"{result.stdout}\n{result.stderr}".strip()
    last_line = text.splitlines()[-1] if text else ""
    if tool == "dig":
        return _classify_dig(result, text, last_line)
    if tool == "curl":
        return _classify_curl(method, result, last_line)
    return ERROR, f"unknown probe tool {tool!r}"


def _classify_dig(result: ExecResult, text: str, last_line: str) -> tuple[str, str]:
    lowered = text.lower()
    if "refused" in lowered:
        return REFUSED, last_line or "connection refused by the DNS server"
    if result.exit_code == DIG_OK:
        answer = result.stdout.strip()
        return ALLOWED, f"DNS answered: {answer.splitlines()[0]}" if answer else "DNS answered (no records)"
    if result.exit_code == DIG_NO_REPLY or "timed out" in lowered or "no servers could be reached" in lowered:
        return BLOCKED, last_line or "no reply from the DNS server"
    return ERROR, f"dig exited {result.exit_code}: {last_line}"


def _classify_curl(method: str, result: ExecResult, last_line: str) -> tuple[str, str]:
    connected, http_code = _connected(result.stdout)
    http = method == "http"
    if connected:
        if http_code and http_code != "000":
            return ALLOWED, f"connected; HTTP {http_code}"
        detail = "connected; no HTTP response" if http else "TCP connection established"
        return ALLOWED, detail
    code = result.exit_code
    stderr = result.stderr.lower()
    if code == CURL_COULDNT_RESOLVE_HOST:
        return DNS_ERROR, last_line or "could not resolve host"
    if code == CURL_COULDNT_CONNECT:
        if any(reason in stderr for reason in _REJECTED):
            return BLOCKED, f"rejected by the network: {last_line}"
        return REFUSED, last_line or "connection refused"
    if code == CURL_OPERATION_TIMEDOUT:
        if "resolving timed out" in stderr:
            # the name never resolved (curl's lib/multi.c: "Resolving timed out after N milliseconds"):
            # DNS is what failed, not the connection to the target
            return DNS_ERROR, last_line or "resolving the target name timed out"
        return BLOCKED, last_line or "connection timed out"
    if code == CURL_OK:
        return ERROR, f"curl succeeded but reported no connection: {result.stdout.strip()!r}"
    if code in (126, 127):
        return ERROR, f"curl is not runnable in the probe image (exit {code}): {last_line}"
    return ERROR, f"curl exited {code}: {last_line}"

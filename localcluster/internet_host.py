#!/usr/bin/env python3
"""The local cluster's stand-in for "the internet": an HTTPS server on 203.0.113.10:443.

Why: the blast-radius test asks whether a rogue pod can reach the internet, but nothing may
leave this machine. cluster.sh runs this server inside a network namespace of its own,
reachable only through a veth pair from the node, so a pod that "reaches the internet" reaches
this process. It answers every GET with 200 and a short body naming itself.
"""
from __future__ import annotations

import argparse
import http.server
import ssl


class Handler(http.server.BaseHTTPRequestHandler):
    """Answers every GET; logs nothing (the probes' evidence is the record)."""

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        body = b"netfence local internet host\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        return


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--port", type=int, default=443)
    args = parser.parse_args()
    server = http.server.ThreadingHTTPServer(("0.0.0.0", args.port), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.cert, args.key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

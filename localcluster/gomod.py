#!/usr/bin/env python3
"""Write the go.mod of a module of ours that builds commands of an upstream Go module.

Why this exists: upstream projects such as Kubernetes keep their staging modules in the same
repository and point at them with `replace k8s.io/api => ./staging/src/k8s.io/api`, requiring
them at the non-existent version `v0.0.0` (kubernetes/kubernetes#79384). `go build` of one of
their commands from another module ignores their `replace` lines, so a module of ours must
repeat them with published versions. Generating that list from the pinned upstream go.mod,
instead of typing it, keeps it exact when the pin moves.

Usage: gomod.py MODULE VERSION LOCAL_VERSION [--require MOD@VER ...] > go.mod
  MODULE         upstream module path (k8s.io/kubernetes)
  VERSION        its pinned version (v1.35.8)
  LOCAL_VERSION  version that replaces every local-path replace (v0.35.8)
The upstream go.mod is read with `go mod download -json`, so it is checksum-verified (go.sum).

When a pin moves (localcluster/versions.env), regenerate modules/kubernetes/go.mod, then add the
commands and let Go record every requirement and checksum:
  cd localcluster/modules/kubernetes
  python3 ../../gomod.py k8s.io/kubernetes v1.35.8 v0.35.8 --name netfence.local/build/kubernetes > /tmp/go.mod
  mv /tmp/go.mod go.mod
  GOFLAGS=-mod=mod go get -tool k8s.io/kubernetes/cmd/kube-apiserver@v1.35.8 ... go.etcd.io/etcd/server/v3@v3.6.5
(the full list is the `tool` block of the current go.mod).
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys

_REPLACE_LOCAL = re.compile(r"^\s*(\S+)\s+=>\s+(\./\S+)\s*$")
_GO_LINE = re.compile(r"^go\s+(\S+)\s*$", re.M)


def local_replaces(gomod_text: str) -> list[str]:
    """Module paths that upstream replaces with a folder of its own repository."""
    return [m.group(1) for line in gomod_text.splitlines() if (m := _REPLACE_LOCAL.match(line))]


def render(module: str, version: str, local_version: str, gomod_text: str,
           extra: list[str], ours: str) -> str:
    """The go.mod text of our build module."""
    go_version = (_GO_LINE.search(gomod_text) or re.match(r"(.*)", "1.22")).group(1)
    requires = [f"{module} {version}"] + [r.replace("@", " ", 1) for r in extra]
    lines = [
        "// Written by localcluster/gomod.py (module, replace list), then `go get -tool` of the commands (requires, tool).",
        f"module {ours}",
        "",
        f"go {go_version}",
        "",
        "require (",
        *(f"\t{r}" for r in requires),
        ")",
        "",
        "replace (",
        *(f"\t{p} => {p} {local_version}" for p in local_replaces(gomod_text)),
        ")",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("module")
    parser.add_argument("version")
    parser.add_argument("local_version")
    parser.add_argument("--require", action="append", default=[], metavar="MOD@VER")
    parser.add_argument("--name", default="netfence.local/build",
                        help="module path of the generated module")
    args = parser.parse_args(argv)
    out = subprocess.run(["go", "mod", "download", "-json", f"{args.module}@{args.version}"],
                         check=True, capture_output=True, text=True).stdout
    with open(json.loads(out)["GoMod"], encoding="utf-8") as fh:
        text = fh.read()
    sys.stdout.write(render(args.module, args.version, args.local_version, text,
                            args.require, args.name))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

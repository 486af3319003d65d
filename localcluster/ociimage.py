#!/usr/bin/env python3
"""Build a single-layer OCI image archive from a folder, for `ctr images import`.

Why: the local cluster has no registry to pull from and no Docker engine to build with, yet
containerd only runs images. An OCI image is a tar of a rootfs plus two small JSON documents
addressed by sha256 (the OCI image-spec's image layout), so building one needs nothing beyond
the standard library. The output is deterministic: files are added in sorted order with fixed
owners and modification times, so the same folder always gives the same image digest.

Usage: ociimage.py ROOTFS REF OUT.tar [--entrypoint JSON] [--cmd JSON] [--user UID]
         [--env K=V ...] [--label K=V ...] [--arch GOARCH]
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import os
import tarfile

EPOCH = 0  # every file's mtime, for reproducible digests


def layer_tar(rootfs: str) -> bytes:
    """An uncompressed tar of ``rootfs``: sorted, root-owned, mtime 0, symlinks kept."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for dirpath, dirnames, filenames in os.walk(rootfs):
            dirnames.sort()
            for name in sorted(dirnames) + sorted(filenames):
                full = os.path.join(dirpath, name)
                arcname = os.path.relpath(full, rootfs)
                info = tar.gettarinfo(full, arcname)
                info.uid = info.gid = 0
                info.uname = info.gname = "root"
                info.mtime = EPOCH
                if info.isfile():
                    with open(full, "rb") as fh:
                        tar.addfile(info, fh)
                else:
                    tar.addfile(info)
    return buf.getvalue()


def _blob(data: bytes) -> tuple[str, bytes]:
    return "sha256:" + hashlib.sha256(data).hexdigest(), data


def build(rootfs: str, ref: str, *, entrypoint: list[str] | None = None, cmd: list[str] | None = None,
          user: str = "", env: list[str] | None = None, labels: dict[str, str] | None = None,
          arch: str = "amd64") -> tuple[bytes, str]:
    """The image archive's bytes and the manifest digest (the image's digest in containerd)."""
    raw = layer_tar(rootfs)
    diff_id = "sha256:" + hashlib.sha256(raw).hexdigest()
    layer_digest, layer = _blob(gzip.compress(raw, mtime=EPOCH))
    config: dict = {
        "architecture": arch,
        "os": "linux",
        "config": {
            "Env": env or ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
            **({"Entrypoint": entrypoint} if entrypoint else {}),
            **({"Cmd": cmd} if cmd else {}),
            **({"User": user} if user else {}),
            **({"Labels": labels} if labels else {}),
        },
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created_by": "netfence localcluster/ociimage.py"}],
    }
    config_digest, config_bytes = _blob(json.dumps(config, sort_keys=True).encode())
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": config_digest, "size": len(config_bytes)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": layer_digest, "size": len(layer)}],
    }
    manifest_digest, manifest_bytes = _blob(json.dumps(manifest, sort_keys=True).encode())
    index = {
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": manifest_digest,
            "size": len(manifest_bytes),
            "platform": {"architecture": arch, "os": "linux"},
            # containerd names the imported image from this annotation
            "annotations": {"io.containerd.image.name": ref,
                            "org.opencontainers.image.ref.name": ref.rsplit(":", 1)[-1]},
        }],
    }
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        def add(name: str, data: bytes) -> None:
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), EPOCH, 0o644
            tar.addfile(info, io.BytesIO(data))

        add("oci-layout", json.dumps({"imageLayoutVersion": "1.0.0"}).encode())
        add("index.json", json.dumps(index, sort_keys=True).encode())
        for digest, data in ((layer_digest, layer), (config_digest, config_bytes),
                             (manifest_digest, manifest_bytes)):
            add("blobs/sha256/" + digest.split(":", 1)[1], data)
    return out.getvalue(), manifest_digest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("rootfs")
    parser.add_argument("ref", help="image reference, e.g. localhost/netfence/pause:3.10")
    parser.add_argument("out")
    parser.add_argument("--entrypoint", type=json.loads, default=None)
    parser.add_argument("--cmd", type=json.loads, default=None)
    parser.add_argument("--user", default="")
    parser.add_argument("--env", action="append", default=None)
    parser.add_argument("--label", action="append", default=[])
    parser.add_argument("--arch", default="amd64", help="GOARCH of the binaries inside (go env GOARCH)")
    args = parser.parse_args(argv)
    labels = dict(item.split("=", 1) for item in args.label)
    data, digest = build(args.rootfs, args.ref, entrypoint=args.entrypoint, cmd=args.cmd,
                         user=args.user, env=args.env, labels=labels, arch=args.arch)
    tmp = args.out + ".tmp"
    with open(tmp, "wb") as fh:
        fh.write(data)
    os.replace(tmp, args.out)
    print(f"{args.ref} {digest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

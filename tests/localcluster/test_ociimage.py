"""ociimage.py: an OCI image archive containerd can import, the same bytes for the same folder."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile

from localcluster_support import load

ociimage = load("ociimage")


def rootfs(tmp_path):
    root = tmp_path / "root"
    (root / "bin").mkdir(parents=True)
    (root / "bin" / "busybox").write_bytes(b"\x7fELF fake")
    os.chmod(root / "bin" / "busybox", 0o755)
    os.symlink("busybox", root / "bin" / "sh")
    return root


def blobs(archive: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}


def test_the_archive_is_an_addressed_oci_layout_named_for_containerd(tmp_path):
    data, digest = ociimage.build(str(rootfs(tmp_path)), "localhost/netfence/t:1", entrypoint=["/bin/sh"], user="65532")
    files = blobs(data)
    index = json.loads(files["index.json"])
    [entry] = index["manifests"]
    assert entry["digest"] == digest
    assert entry["annotations"]["io.containerd.image.name"] == "localhost/netfence/t:1"
    assert json.loads(files["oci-layout"]) == {"imageLayoutVersion": "1.0.0"}
    for name, content in files.items():  # every blob is stored under its own sha256
        if name.startswith("blobs/sha256/"):
            assert hashlib.sha256(content).hexdigest() == name.rsplit("/", 1)[1]
    manifest = json.loads(files["blobs/sha256/" + digest.split(":")[1]])
    config = json.loads(files["blobs/sha256/" + manifest["config"]["digest"].split(":")[1]])
    assert config["config"]["Entrypoint"] == ["/bin/sh"] and config["config"]["User"] == "65532"
    layer = gzip.decompress(files["blobs/sha256/" + manifest["layers"][0]["digest"].split(":")[1]])
    assert config["rootfs"]["diff_ids"] == ["sha256:" + hashlib.sha256(layer).hexdigest()]
    with tarfile.open(fileobj=io.BytesIO(layer)) as tar:
        members = {m.name: m for m in tar.getmembers()}
    assert members["bin/sh"].issym() and members["bin/sh"].linkname == "busybox"
    assert members["bin/busybox"].mode & 0o111 and members["bin/busybox"].mtime == 0 and members["bin/busybox"].uid == 0


def test_the_same_folder_gives_the_same_digest_and_a_change_another(tmp_path):
    root = rootfs(tmp_path)
    _, first = ociimage.build(str(root), "localhost/t:1")
    _, again = ociimage.build(str(root), "localhost/t:1")
    (root / "bin" / "busybox").write_bytes(b"\x7fELF other")
    _, changed = ociimage.build(str(root), "localhost/t:1")
    assert first == again != changed

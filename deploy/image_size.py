"""Estimate the Docker image's size without a Docker engine.

The image is the python slim base plus what `pip install -r requirements.txt` puts in
site-packages, plus the code. This sums the installed files (each distribution's RECORD) of
requirements.txt's dependency closure in the current environment, which must have them installed
(on linux/x86_64, so tensorflow-cpu is the one chosen). `--compressed` also gzips them, roughly
what a registry stores and a `docker pull` downloads. An estimate, not a measurement of an image.

    .venv/bin/python deploy/image_size.py [--compressed]
"""

from __future__ import annotations

import argparse
import gzip
import importlib.metadata as md
import os
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
# python:3.11-slim-bookworm (linux/amd64): about 125 MB unpacked, about 45 MB compressed.
BASE_IMAGE_MB = 125
BASE_IMAGE_COMPRESSED_MB = 45


def closure(requirements: Path) -> dict[str, md.Distribution]:
    """The installed distributions that requirements.txt pulls in, by canonical name."""
    todo = []
    for line in requirements.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            todo.append(Requirement(line))
    found: dict[str, md.Distribution] = {}
    while todo:
        req = todo.pop()
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue
        name = canonicalize_name(req.name)
        if name in found:
            continue
        found[name] = md.distribution(req.name)
        todo.extend(Requirement(r) for r in found[name].requires or [])
    return found


def files(dist: md.Distribution) -> list[Path]:
    paths = (Path(dist.locate_file(f)) for f in dist.files or [])
    return [p for p in paths if p.is_file()]


def gzipped_size(paths: list[Path]) -> int:
    total = 0
    for path in paths:
        total += len(gzip.compress(path.read_bytes(), compresslevel=6))
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compressed", action="store_true", help="also gzip every file (slow: ~2 GB)")
    args = parser.parse_args()
    dists = closure(ROOT / "requirements.txt")
    sizes = {name: sum(os.path.getsize(p) for p in files(d)) for name, d in dists.items()}
    for name, size in sorted(sizes.items(), key=lambda kv: -kv[1])[:8]:
        print(f"{size / 1e6:9.1f} MB  {name}")
    site = sum(sizes.values()) / 1e6
    print(f"{site:9.1f} MB  site-packages of {len(dists)} distributions")
    print(f"{BASE_IMAGE_MB:9.1f} MB  base image (python:3.11-slim-bookworm)")
    print(f"~{(site + BASE_IMAGE_MB) / 1000:.1f} GB unpacked image (estimate)")
    if args.compressed:
        packed = sum(gzipped_size(files(d)) for d in dists.values()) / 1e6
        print(f"~{(packed + BASE_IMAGE_COMPRESSED_MB) / 1000:.2f} GB compressed, as pulled (estimate)")


if __name__ == "__main__":
    main()

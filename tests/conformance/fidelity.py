#!/usr/bin/env python3
"""Fidelity of argocd-wasm-plugin's kustomize builds on real-world trees.

For every kustomization directory under the given source trees that `kubectl kustomize`
renders (it fails on remote bases and Helm charts without network or --enable-helm, so
those drop out), render it with the plugin and count:

  identical  the same objects in the same order
  refused    the plugin failed (an unsupported field, or an error kubectl does not make)
  different  the plugin rendered something else

  tests/conformance/fidelity.py [--binary PATH] [--details] SOURCE_DIR...

Each SOURCE_DIR is treated as a repository root (the plugin never reads outside it); a
`.git` marker is created there if missing. Fetched sources are never committed.
"""

import argparse
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import yaml  # PyYAML, YAML 1.1 like kubectl's reader

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
TIMEOUT = 60


def kustomization_dirs(root: Path):
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d != ".git")
        if any(name in filenames for name in KUSTOMIZATION_FILES):
            yield Path(dirpath)


def kubectl(dir_: Path):
    try:
        result = subprocess.run(
            ["kubectl", "kustomize", str(dir_)],
            capture_output=True, text=True, timeout=TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        return None
    if result.returncode != 0:
        return None
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc is not None]


def ours(binary: str, dir_: Path):
    result = subprocess.run(
        [binary, "render", "--output", "json", str(dir_)],
        capture_output=True, text=True, timeout=TIMEOUT,
    )
    if result.returncode != 0:
        return None, result.stderr.strip().splitlines()[-1:] or ["(no message)"]
    return json.loads(result.stdout) if result.stdout.strip().startswith("[") else [
        json.loads(line) for line in result.stdout.splitlines() if line.strip()
    ], None


def normalize(value):
    """PyYAML reads timestamps as datetimes; compare them as the strings kubectl wrote."""
    if isinstance(value, dict):
        return {k: normalize(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalize(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", default=str(
        Path(__file__).resolve().parents[2] / "target/debug/argocd-wasm-plugin"))
    parser.add_argument("--details", action="store_true", help="list every directory")
    parser.add_argument("sources", nargs="+", type=Path)
    args = parser.parse_args()

    counts = Counter()
    reasons = Counter()
    for source in args.sources:
        source = source.resolve()
        (source / ".git").mkdir(exist_ok=True)
        for dir_ in kustomization_dirs(source):
            expected = kubectl(dir_)
            if expected is None:
                counts["kubectl fails"] += 1
                continue
            if not expected:
                # The plugin refuses an empty render on purpose (Argo CD would prune the app).
                counts["kubectl renders nothing"] += 1
                continue
            actual, error = ours(args.binary, dir_)
            if error is not None:
                outcome = "refused"
                reasons[error[0][:160]] += 1
            elif normalize(expected) == normalize(actual):
                outcome = "identical"
            else:
                outcome = "different"
            counts[outcome] += 1
            if args.details or outcome != "identical":
                print(f"{outcome:10} {dir_}" + (f"  ({error[0][:200]})" if error else ""),
                      flush=True)

    rendered = counts["identical"] + counts["refused"] + counts["different"]
    print()
    print(f"kubectl renders {rendered} directories (skipped: {counts['kubectl fails']} it fails on, "
          f"{counts['kubectl renders nothing']} it renders empty)")
    for outcome in ("identical", "refused", "different"):
        share = 100.0 * counts[outcome] / rendered if rendered else 0.0
        print(f"  {outcome:10} {counts[outcome]:5}  {share:5.1f}%")
    if reasons:
        print("most common refusals:")
        for reason, count in reasons.most_common(10):
            print(f"  {count:4}  {reason}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Times `kubectl kustomize` and `argocd-wasm-plugin render` on generated magento-like trees.

For each N it writes a base with N services (per service: blue and green Deployments, a
Service, an HPA, a PDB and a ConfigMap: 6N objects) and an overlay that sets a namespace,
commonLabels, commonAnnotations, images and a patch targeting every Deployment. Both tools
render the overlay in the same run; the script checks they produce the same objects and
prints both times and the ratio.

    cargo build --release -p argocd-wasm-plugin
    python3 tests/bench/kustomize_vs_plugin.py                 # N = 10, 100, 1000
    python3 tests/bench/kustomize_vs_plugin.py --sizes 10,100 --runs 5

kubectl kustomize takes minutes at N = 1000; --kubectl-max N skips it above N.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SERVICE = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: svc{i}-{colour}
  labels: {{app: svc{i}, color: {colour}}}
spec:
  replicas: 2
  selector:
    matchLabels: {{app: svc{i}, color: {colour}}}
  template:
    metadata:
      labels: {{app: svc{i}, color: {colour}}}
    spec:
      containers:
        - name: php-fpm
          image: magento:2.4.7
          envFrom:
            - configMapRef: {{name: svc{i}-config}}
        - name: nginx
          image: nginx:1.27
"""

OTHERS = """\
apiVersion: v1
kind: Service
metadata:
  name: svc{i}
spec:
  selector: {{app: svc{i}, color: blue}}
  ports: [{{port: 80, targetPort: 8080}}]
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: svc{i}
spec:
  scaleTargetRef: {{apiVersion: apps/v1, kind: Deployment, name: svc{i}-blue}}
  minReplicas: 2
  maxReplicas: 10
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: svc{i}
spec:
  minAvailable: 1
  selector:
    matchLabels: {{app: svc{i}}}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: svc{i}-config
data:
  LOG_LEVEL: info
"""

OVERLAY = """\
namespace: stage
resources:
  - ../../base
commonLabels:
  environment: stage
commonAnnotations:
  owner: platform
images:
  - name: magento
    newName: 123456789.dkr.ecr.eu-west-1.amazonaws.com/magento
    newTag: feature-xyz-abc1234
patches:
  - target:
      kind: Deployment
    patch: |
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: any
      spec:
        template:
          spec:
            containers:
              - name: php-fpm
                resources:
                  limits: {memory: 1Gi}
"""


def write_tree(root: Path, services: int) -> Path:
    base = root / "base"
    overlay = root / "overlays" / "stage"
    base.mkdir(parents=True)
    overlay.mkdir(parents=True)
    (root / ".git").mkdir()  # the repository root: paths may not leave it
    files = []
    for i in range(services):
        name = f"svc{i}.yaml"
        docs = [SERVICE.format(i=i, colour=c) for c in ("blue", "green")]
        docs.append(OTHERS.format(i=i))
        (base / name).write_text("---\n".join(docs))
        files.append(name)
    (base / "kustomization.yaml").write_text(
        "resources:\n" + "".join(f"  - {f}\n" for f in files)
    )
    (overlay / "kustomization.yaml").write_text(OVERLAY)
    return overlay


def timed(command: list[str]) -> tuple[float, bytes]:
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{result.stderr.decode()}")
    return elapsed, result.stdout


def keyed(objects: list[dict]) -> dict:
    def key(o):
        m = o.get("metadata", {})
        return (o.get("apiVersion"), o.get("kind"), m.get("namespace"), m.get("name"))
    return {key(o): o for o in objects}


def kubectl_objects(stdout: bytes) -> list[dict]:
    # kubectl can print JSON only through `kubectl kustomize | kubectl convert`; parse its
    # YAML with the plugin itself (a plain manifests directory renders unchanged).
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "out.yaml").write_bytes(stdout)
        _, out = timed([ARGS.binary, "render", "--output", "json", tmp])
    return [json.loads(line) for line in out.splitlines()]


def bench(services: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        overlay = write_tree(Path(tmp), services)
        ours_cmd = [ARGS.binary, "render", "--output", "json", str(overlay)]
        cold, ours_out = timed(ours_cmd)  # first run also fills the module cache
        warm = [timed(ours_cmd)[0] for _ in range(ARGS.runs)]
        ours_s = statistics.median(warm)
        row = f"{services:>6} {6 * services:>8} {cold * 1000:>10.1f} {ours_s * 1000:>10.1f}"
        if services > ARGS.kubectl_max:
            print(f"{row} {'skipped':>12} {'-':>8}  -", flush=True)
            return
        theirs_s, theirs_out = timed(["kubectl", "kustomize", str(overlay)])
        ours_objs = [json.loads(line) for line in ours_out.splitlines()]
        same = keyed(ours_objs) == keyed(kubectl_objects(theirs_out))
        print(
            f"{row} {theirs_s * 1000:>12.1f} {theirs_s / ours_s:>7.0f}x  "
            f"{'same objects' if same else 'OBJECTS DIFFER'}",
            flush=True,
        )


def main() -> None:
    print(f"binary: {ARGS.binary}; median of {ARGS.runs} warm runs; cold = first run")
    print(f"{'N':>6} {'objects':>8} {'cold ms':>10} {'plugin ms':>10} {'kubectl ms':>12} {'speedup':>8}  check")
    for size in ARGS.sizes:
        bench(size)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=str(Path(__file__).resolve().parents[2] / "target/release/argocd-wasm-plugin"))
    parser.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")], default=[10, 100, 1000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--kubectl-max", type=int, default=1_000_000)
    ARGS = parser.parse_args()
    ARGS.binary = str(Path(ARGS.binary).resolve())
    if not os.access(ARGS.binary, os.X_OK):
        sys.exit(f"{ARGS.binary} not found: cargo build --release -p argocd-wasm-plugin")
    main()

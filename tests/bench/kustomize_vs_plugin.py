#!/usr/bin/env python3
"""Times `argocd-wasm-plugin render` against `kubectl kustomize` and against the floor, on
generated magento-like trees.

For each N it writes a base with N services (per service: blue and green Deployments, a
Service, an HPA, a PDB and a ConfigMap: 6N objects) and an overlay that sets a namespace,
commonLabels, commonAnnotations, images and a patch targeting every Deployment. In one run
it measures, per N:

- ours: `render` of the overlay (YAML out), the median of warm runs, and its peak RSS;
- in-process: the same render asked of a warm `serve` daemon over its socket (no process
  start, modules instantiated from memory); with two CPUs or more, also with the daemon
  pinned to one CPU and this script to another ("pinned"). Unpinned, the scheduler moves
  the render thread between CPUs, and a small render then runs on cold caches: on a 2-vCPU
  VM that adds up to half its time, and varies from request to request. The daemon keeps
  the files it parsed by their text, so these renders reuse them; "new text" renders after
  giving every file of the tree new text (a comment line), so that it parses them all
  again, as after a commit that touched every file;
- kubectl: `kubectl kustomize` of the same overlay, checked to give the same objects;
- floor: parsing our output, a JSON round trip of every object and emitting YAML again, in
  one process (`yaml-bench floor`, tests/bench/yaml): what any render of it costs at least.

    cargo build --release -p argocd-wasm-plugin
    cargo build --release --manifest-path tests/bench/yaml/Cargo.toml
    python3 tests/bench/kustomize_vs_plugin.py                 # N = 10, 100, 1000
    python3 tests/bench/kustomize_vs_plugin.py --sizes 10,100 --runs 5

kubectl kustomize takes minutes at N = 1000 on a busy machine; --kubectl-max N skips it
above N.
"""

import argparse
import http.client
import json
import os
import socket
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


def timed(command: list[str]) -> tuple[float, bytes, int]:
    """Wall seconds, stdout and peak RSS (KiB) of one run of `command`."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        if os.waitstatus_to_exitcode(status) != 0:
            sys.exit(f"{' '.join(command)} failed:\n{err.read().decode()}")
        return elapsed, out.read(), usage.ru_maxrss


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str):
        super().__init__("localhost")
        self.path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.path)


class Daemon:
    """A warm `serve` daemon: renders in-process, timed from its socket."""

    def __init__(self, workdir: Path):
        self.socket = str(workdir / "serve.sock")
        self.process = subprocess.Popen(
            [ARGS.binary, "serve", "--socket", self.socket],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        for _ in range(300):
            if subprocess.run([ARGS.binary, "serve", "--check", "--socket", self.socket],
                              capture_output=True).returncode == 0:
                return
            time.sleep(0.1)
        sys.exit("the daemon did not become ready")

    def render(self, directory: Path) -> float:
        body = json.dumps({"dir": str(directory), "env": {}, "format": "yaml"})
        connection = UnixHTTPConnection(self.socket)
        started = time.perf_counter()
        connection.request("POST", "/v1/generate", body, {"Content-Type": "application/json"})
        response = connection.getresponse()
        payload = response.read()
        elapsed = time.perf_counter() - started
        if response.status != 200:
            sys.exit(f"the daemon failed: {payload[:2000].decode()}")
        return elapsed

    def median_ms(self, directory: Path, before_each=lambda: None) -> float:
        """The median of as many renders as fit in about two seconds (at least --runs, at
        most 300): a warm render's time varies from request to request, and a median of a
        few misses where most of them fall. `before_each` runs, untimed, before each."""
        before_each()
        first = self.render(directory)
        samples = max(ARGS.runs, min(300, int(2.0 / max(first, 1e-4))))
        times = []
        for _ in range(samples):
            before_each()
            times.append(self.render(directory))
        return median_ms(times)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait()

    def pinned_ms(self, directory: Path) -> float | None:
        """The median render with the daemon on the last CPU and this script on the first;
        None with fewer than two CPUs. The affinities are restored afterwards."""
        cpus = sorted(os.sched_getaffinity(0))
        if len(cpus) < 2:
            return None
        # Every thread of the daemon: the runtime's workers and the render threads exist
        # already, and a thread they start inherits the CPU.
        threads = [int(tid) for tid in os.listdir(f"/proc/{self.process.pid}/task")]
        daemon_cpus = {tid: os.sched_getaffinity(tid) for tid in threads}
        for tid in threads:
            os.sched_setaffinity(tid, {cpus[-1]})
        os.sched_setaffinity(0, {cpus[0]})
        try:
            return self.median_ms(directory)
        finally:
            os.sched_setaffinity(0, set(cpus))
            for tid, affinity in daemon_cpus.items():
                os.sched_setaffinity(tid, affinity)


class NewText:
    """Gives every YAML file of a tree new text on each call (the same objects: a comment
    line is appended), so that a daemon parses them all again; restores them on exit."""

    def __init__(self, *dirs: Path):
        files = sorted(f for d in dirs for f in d.rglob("*.yaml"))
        self.originals = {f: f.read_text() for f in files}
        self.count = 0

    def __call__(self) -> None:
        self.count += 1
        for file, text in self.originals.items():
            body = text.rstrip("\n")
            file.write_text(f"{body}\n# {self.count}\n")

    def __enter__(self) -> "NewText":
        return self

    def __exit__(self, *_) -> None:
        for file, text in self.originals.items():
            file.write_text(text)


def keyed(objects: list[dict]) -> dict:
    def key(o):
        m = o.get("metadata", {})
        return (o.get("apiVersion"), o.get("kind"), m.get("namespace"), m.get("name"))
    return {key(o): o for o in objects}


def as_json(directory: Path) -> list[dict]:
    _, out, _ = timed([ARGS.binary, "render", "--output", "json", str(directory)])
    return [json.loads(line) for line in out.splitlines()]


def yaml_objects(stdout: bytes) -> list[dict]:
    # Read a YAML stream with the plugin itself: a plain manifests directory renders unchanged.
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "out.yaml").write_bytes(stdout)
        return as_json(Path(tmp))


def floor_ms(output_file: str) -> float:
    """The floor of one render of `output_file`, in milliseconds (one run in a new process)."""
    _, out, _ = timed([ARGS.floor, "floor", output_file, "1"])
    return float(out)


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def bench(services: int, daemon: Daemon) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        overlay = write_tree(Path(tmp), services)
        ours_cmd = [ARGS.binary, "render", str(overlay)]
        _, ours_out, _ = timed(ours_cmd)  # the first run also fills the module cache
        output_file = Path(tmp, "output.yaml")
        output_file.write_bytes(ours_out)
        # Interleaved, so that a machine whose speed drifts shifts both sides of the ratio.
        runs, floors = [], []
        for _ in range(ARGS.runs):
            runs.append(timed(ours_cmd))
            floors.append(floor_ms(str(output_file)))
        ours = median_ms([elapsed for elapsed, _, _ in runs])
        floor = statistics.median(floors)
        rss_mib = max(rss for _, _, rss in runs) / 1024
        in_process = daemon.median_ms(overlay)
        pinned = daemon.pinned_ms(overlay)
        pinned_text = "-" if pinned is None else f"{pinned:.1f}"
        with NewText(Path(tmp, "base"), Path(tmp, "overlays")) as new_text:
            reparsed = daemon.median_ms(overlay, before_each=new_text)
        row = (f"{services:>6} {6 * services:>7} {ours:>9.1f} {rss_mib:>8.1f} {in_process:>11.1f} "
               f"{pinned_text:>7} {reparsed:>8.1f} {floor:>9.1f} {ours / floor:>9.2f}x")
        if services > ARGS.kubectl_max:
            print(f"{row} {'skipped':>11} {'-':>8}  -", flush=True)
            return
        theirs_s, theirs_out, _ = timed(["kubectl", "kustomize", str(overlay)])
        same = keyed(yaml_objects(ours_out)) == keyed(yaml_objects(theirs_out))
        print(
            f"{row} {theirs_s * 1000:>11.1f} {theirs_s * 1000 / ours:>7.1f}x  "
            f"{'same objects' if same else 'OBJECTS DIFFER'}",
            flush=True,
        )


def main() -> None:
    print(f"binary: {ARGS.binary}; medians of {ARGS.runs} warm runs; load average "
          f"{os.getloadavg()[0]:.1f}")
    print("ours: `render` wall time and peak RSS; in-process: a warm daemon's render "
          "(pinned: daemon and client each on one CPU; new text: every file changed before "
          "each render);")
    print("floor: parse + JSON round trip + emit of the same output (yaml-bench floor)")
    print(f"{'N':>6} {'objects':>7} {'ours ms':>9} {'RSS MiB':>8} {'in-proc ms':>11} "
          f"{'pinned':>7} {'new text':>8} {'floor ms':>9} {'ours/floor':>10} {'kubectl ms':>11} {'speedup':>8}  check")
    with tempfile.TemporaryDirectory() as workdir:
        daemon = Daemon(Path(workdir))
        try:
            for size in ARGS.sizes:
                bench(size, daemon)
        finally:
            daemon.stop()


if __name__ == "__main__":
    repo = Path(__file__).resolve().parents[2]
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=str(repo / "target/release/argocd-wasm-plugin"))
    parser.add_argument("--floor", default=str(repo / "tests/bench/yaml/target/release/yaml-bench"))
    parser.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")], default=[10, 100, 1000])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--kubectl-max", type=int, default=1_000_000)
    ARGS = parser.parse_args()
    for tool, build in ((ARGS.binary, "cargo build --release -p argocd-wasm-plugin"),
                        (ARGS.floor, "cargo build --release --manifest-path tests/bench/yaml/Cargo.toml")):
        if not os.access(tool, os.X_OK):
            sys.exit(f"{tool} not found: {build}")
    ARGS.binary = str(Path(ARGS.binary).resolve())
    main()

#!/usr/bin/env python3
"""`generate` and `parameters` latency with the module cache set up as in the pod
(deploy/Dockerfile, deploy/repo-server-sidecar.yaml): the built-ins precompiled into a
read-only directory at "image build", an empty writable directory standing in for the
emptyDir, on the magento stage fixture.

    cargo build --release -p argocd-wasm-plugin
    python3 tests/bench/pod_cache_latency.py --requests 50

Cold: a fresh process per request (what the sidecar does when the daemon is down), and
the daemon's start until ready. Warm: forwarded to the running daemon. For comparison, the
same without the precompiled directory and cache (every process compiles).
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
APP = REPO / "tests/fixtures/magento-stage"


def timed(env: dict, *args: str) -> float:
    started = time.perf_counter()
    result = subprocess.run([ARGS.binary, *args], cwd=APP, env=env, capture_output=True, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"{args[0]} failed:\n{result.stderr.decode()}")
    if b"compiled in" in result.stderr:
        sys.exit(f"{args[0]} compiled a module:\n{result.stderr.decode()}")
    return elapsed


def start_daemon(env: dict, socket: Path) -> tuple[subprocess.Popen, float]:
    started = time.perf_counter()
    daemon = subprocess.Popen([ARGS.binary, "serve", "--socket", str(socket)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while subprocess.run([ARGS.binary, "serve", "--check", "--socket", str(socket)],
                         capture_output=True).returncode != 0:
        if time.perf_counter() - started > 60:
            sys.exit("the daemon did not become ready")
        time.sleep(0.005)
    return daemon, time.perf_counter() - started


def stop(daemon: subprocess.Popen) -> None:
    daemon.terminate()
    daemon.wait()


def row(label: str, samples: list[float]) -> None:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]
    print(f"{label:<52} {statistics.median(samples) * 1000:>8.1f} {p99 * 1000:>8.1f} {len(samples):>4}")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        precompiled, cache, socket = Path(tmp, "precompiled"), Path(tmp, "cache"), Path(tmp, "serve.sock")
        subprocess.run([ARGS.binary, "serve", "--precompile-builtins", "--cache-dir", str(precompiled)], check=True)
        subprocess.run(["chmod", "-R", "a-w", str(precompiled)], check=True)
        cache.mkdir()
        pod = {"PATH": os.environ["PATH"], "ARGOCD_APP_PARAMETERS": "null",
               "ARGOCD_APP_SOURCE_PATH": "tests/fixtures/magento-stage",
               "ARGOCD_WASM_PLUGIN_PRECOMPILED_DIR": str(precompiled),
               "ARGOCD_WASM_PLUGIN_CACHE_DIR": str(cache), "ARGOCD_WASM_PLUGIN_LOG": "info"}
        n = ARGS.requests
        cold_generate = [timed(pod, "generate") for _ in range(n)]
        cold_parameters = [timed(pod, "parameters") for _ in range(n)]
        starts = []
        for _ in range(5):
            daemon, ready_after = start_daemon(pod, socket)
            starts.append(ready_after)
            stop(daemon)
        daemon, _ = start_daemon(pod, socket)
        try:
            warm = {**pod, "ARGOCD_WASM_PLUGIN_SOCKET": str(socket)}
            warm_generate = [timed(warm, "generate") for _ in range(n)]
            warm_parameters = [timed(warm, "parameters") for _ in range(n)]
        finally:
            stop(daemon)
        bare = {key: value for key, value in pod.items() if not key.startswith("ARGOCD_WASM_PLUGIN_")}
        compiling = []
        for _ in range(3):
            started = time.perf_counter()
            subprocess.run([ARGS.binary, "--no-cache", "generate"], cwd=APP, env=bare, capture_output=True, check=True)
            compiling.append(time.perf_counter() - started)
        subprocess.run(["chmod", "-R", "u+w", str(precompiled)], check=True)
    print(f"binary: {ARGS.binary}; magento stage fixture (3 built-in modules)")
    print(f"{'':<52} {'p50 ms':>8} {'p99 ms':>8} {'n':>4}")
    row("cold: generate in a fresh process, precompiled", cold_generate)
    row("cold: parameters in a fresh process, precompiled", cold_parameters)
    row("cold: daemon start until ready, precompiled", starts)
    row("warm: generate forwarded to the daemon", warm_generate)
    row("warm: parameters forwarded to the daemon", warm_parameters)
    row("before: generate in a fresh process, compiling", compiling)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=str(REPO / "target/release/argocd-wasm-plugin"))
    parser.add_argument("--requests", type=int, default=50)
    ARGS = parser.parse_args()
    ARGS.binary = str(Path(ARGS.binary).resolve())
    if not os.access(ARGS.binary, os.X_OK):
        sys.exit(f"{ARGS.binary} not found: cargo build --release -p argocd-wasm-plugin")
    main()

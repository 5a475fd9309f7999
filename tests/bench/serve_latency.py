#!/usr/bin/env python3
"""Per-request latency of `generate` on the magento stage fixture: forwarded to a warm
`serve` daemon versus rendered cold in-process, once loading the compiled modules from the
disk cache and once compiling them (no cache: e.g. a read-only filesystem).

    cargo build --release -p argocd-wasm-plugin
    python3 tests/bench/serve_latency.py --requests 200

Prints p50 and p99 of each, and the ratio.
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


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def timed_generate(env: dict, *flags: str) -> float:
    started = time.perf_counter()
    result = subprocess.run(
        [ARGS.binary, "generate", *flags], cwd=REPO / "tests/fixtures/magento-stage",
        env=env, capture_output=True, check=False,
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"generate failed:\n{result.stderr.decode()}")
    return elapsed


def wait_ready(socket: Path) -> None:
    for _ in range(300):
        check = subprocess.run([ARGS.binary, "serve", "--check", "--socket", str(socket)], capture_output=True)
        if check.returncode == 0:
            return
        time.sleep(0.1)
    sys.exit("the daemon did not become ready")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp, "cache")
        socket = Path(tmp, "serve.sock")
        base = {"PATH": os.environ["PATH"], "ARGOCD_APP_PARAMETERS": "null", "ARGOCD_WASM_PLUGIN_CACHE_DIR": str(cache)}
        timed_generate(base)  # fill the disk cache: "cold" below means a new process, not a compile
        in_process = [timed_generate(base) for _ in range(ARGS.requests)]
        compiling = [timed_generate(base, "--no-cache") for _ in range(max(3, ARGS.requests // 10))]
        daemon = subprocess.Popen(
            [ARGS.binary, "serve", "--socket", str(socket)], env=base,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            wait_ready(socket)
            forwarded_env = {**base, "ARGOCD_WASM_PLUGIN_SOCKET": str(socket)}
            timed_generate(forwarded_env)
            forwarded = [timed_generate(forwarded_env) for _ in range(ARGS.requests)]
        finally:
            daemon.terminate()
            daemon.wait()
    print(f"binary: {ARGS.binary}; {ARGS.requests} sequential requests each")
    print(f"{'path':<28} {'p50 ms':>8} {'p99 ms':>8} {'mean ms':>8}")
    rows = (
        ("in-process, compiling", compiling),
        ("in-process, disk cache", in_process),
        ("forwarded to warm serve", forwarded),
    )
    for label, samples in rows:
        print(f"{label:<28} {percentile(samples, 50) * 1000:>8.2f} {percentile(samples, 99) * 1000:>8.2f} "
              f"{statistics.mean(samples) * 1000:>8.2f}")
    print(f"p50 speedup of serve: {percentile(in_process, 50) / percentile(forwarded, 50):.1f}x over the "
          f"disk cache, {percentile(compiling, 50) / percentile(forwarded, 50):.1f}x over compiling")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=str(REPO / "target/release/argocd-wasm-plugin"))
    parser.add_argument("--requests", type=int, default=100)
    ARGS = parser.parse_args()
    ARGS.binary = str(Path(ARGS.binary).resolve())
    if not os.access(ARGS.binary, os.X_OK):
        sys.exit(f"{ARGS.binary} not found: cargo build --release -p argocd-wasm-plugin")
    main()

#!/usr/bin/env python3
"""Daemon fairness and containment (issue #13), against a release build:

1. 300 concurrent `generate`s over 20 apps (the magento stage fixture), forwarded to one
   `serve` daemon: once all good, then with 5% (15) looping requests from one app, spread
   through the run and all first. Prints the good requests' p50/p99 and the ratio to the run
   without loops (the goal: p99 within 2x).
2. A killed client: with one slot, a looping render whose `generate` is killed; how long
   until the next request gets the slot (the goal: within 100 ms).
3. A hung daemon (SIGSTOP): how long `generate` takes to fall back to rendering in-process,
   against the in-process render alone (the goal: at most 5 s more).

    cargo build --release -p argocd-wasm-plugin
    python3 tests/bench/daemon_fairness.py
"""

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MAGENTO = REPO / "tests/fixtures/magento-stage"
SPIN = REPO / "target/guest-wasm/wasm32-wasip2/release/spin.wasm"


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def make_apps(root: Path) -> tuple[list[Path], Path]:
    (root / ".git").mkdir(parents=True)
    apps = []
    for i in range(20):
        app = root / f"apps/app-{i:02}"
        shutil.copytree(MAGENTO, app)
        apps.append(app)
    loops = root / "apps/loops"
    loops.mkdir(parents=True)
    shutil.copy(SPIN, loops / "spin.wasm")
    (loops / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n")
    (loops / "wasm-pipeline.yaml").write_text("steps:\n  - module: spin.wasm\n")
    return apps, loops


def env_for(base: dict, app: Path, name: str) -> dict:
    rel = app.relative_to(app.parents[1])
    return {**base, "ARGOCD_APP_NAME": name, "ARGOCD_APP_NAMESPACE": "stage",
            "ARGOCD_APP_SOURCE_PATH": str(rel), "ARGOCD_APP_PARAMETERS": "null"}


def timed_run(app: Path, env: dict) -> tuple[float, int]:
    started = time.perf_counter()
    result = subprocess.run([ARGS.binary, "generate"], cwd=app, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - started, result.returncode


class Daemon:
    def __init__(self, base: dict, socket: Path, *flags: str):
        self.socket = socket
        self.process = subprocess.Popen([ARGS.binary, "serve", "--socket", str(socket), *flags],
                                        env=base, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(300):
            check = subprocess.run([ARGS.binary, "serve", "--check", "--socket", str(socket)],
                                   capture_output=True)
            if check.returncode == 0:
                return
            time.sleep(0.1)
        sys.exit("the daemon did not become ready")

    def stop(self):
        self.process.kill()
        self.process.wait()


def burst(base: dict, apps: list[Path], loops: Path, loop_positions: set[int]) -> list[float]:
    """300 generates started at once; returns the good ones' latencies. Looping clients
    still running when every good one is done are killed (which cancels their renders)."""
    good: list[float] = []
    failures = []
    loopers: list[subprocess.Popen] = []
    lock = threading.Lock()
    barrier = threading.Barrier(300)

    def good_request(app: Path):
        env = env_for(base, app, app.name)
        barrier.wait()
        elapsed, code = timed_run(app, env)
        with lock:
            (good if code == 0 else failures).append(elapsed)

    threads = []
    for i in range(300):
        if i in loop_positions:
            def looping():
                barrier.wait()
                process = subprocess.Popen([ARGS.binary, "generate"], cwd=loops,
                                           env=env_for(base, loops, "loops"),
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                with lock:
                    loopers.append(process)
            threads.append(threading.Thread(target=looping))
        else:
            threads.append(threading.Thread(target=good_request, args=(apps[i % len(apps)],)))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for process in loopers:
        process.kill()
        process.wait()
    if failures:
        sys.exit(f"{len(failures)} good requests failed")
    return good


def killed_client_release(base: dict, apps: list[Path], loops: Path, tmp: Path) -> tuple[float, float]:
    """With one slot: the next request's latency after a looping client is killed, and the
    same request's latency on an idle daemon."""
    daemon = Daemon(base, tmp / "one.sock", "--concurrency", "1")
    env = {**base, "ARGOCD_WASM_PLUGIN_SOCKET": str(daemon.socket)}
    try:
        app = apps[0]
        timed_run(app, env_for(env, app, "loops"))
        idle = statistics.median(timed_run(app, env_for(env, app, "loops"))[0] for _ in range(10))
        after_kill = []
        for _ in range(10):
            looping = subprocess.Popen([ARGS.binary, "generate"], cwd=loops, env=env_for(env, loops, "loops"),
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(0.5)
            looping.kill()
            looping.wait()
            after_kill.append(timed_run(app, env_for(env, app, "loops"))[0])
        return idle, statistics.median(after_kill)
    finally:
        daemon.stop()


def hung_daemon(base: dict, apps: list[Path], tmp: Path) -> tuple[float, float]:
    daemon = Daemon(base, tmp / "hung.sock")
    try:
        app = apps[0]
        in_process = statistics.median(timed_run(app, env_for(base, app, "a"))[0] for _ in range(5))
        os.kill(daemon.process.pid, signal.SIGSTOP)
        env = {**base, "ARGOCD_WASM_PLUGIN_SOCKET": str(daemon.socket)}
        elapsed, code = timed_run(app, env_for(env, app, "a"))
        os.kill(daemon.process.pid, signal.SIGCONT)
        if code != 0:
            sys.exit("generate failed against a hung daemon")
        return in_process, elapsed
    finally:
        daemon.stop()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        apps, loops = make_apps(tmp / "repo")
        base = {"PATH": os.environ["PATH"], "ARGOCD_WASM_PLUGIN_CACHE_DIR": str(tmp / "cache")}
        daemon = Daemon(base, tmp / "serve.sock")
        forwarded = {**base, "ARGOCD_WASM_PLUGIN_SOCKET": str(daemon.socket)}
        try:
            timed_run(apps[0], env_for(forwarded, apps[0], "warm"))
            runs = {}
            runs["no loops"] = burst(forwarded, apps, loops, set())
            runs["5% loops, spread"] = burst(forwarded, apps, loops, set(range(0, 300, 20)))
            runs["5% loops, first"] = burst(forwarded, apps, loops, set(range(15)))
        finally:
            daemon.stop()
        cores = os.cpu_count()
        print(f"binary: {ARGS.binary}; {cores} cores; 300 concurrent generates over 20 apps")
        print(f"{'run':<20} {'good':>5} {'p50 s':>7} {'p99 s':>7} {'p99 / no loops':>15}")
        baseline = percentile(runs["no loops"], 99)
        for label, samples in runs.items():
            p99 = percentile(samples, 99)
            print(f"{label:<20} {len(samples):>5} {percentile(samples, 50):>7.3f} {p99:>7.3f} {p99 / baseline:>15.2f}")
        idle, after_kill = killed_client_release(base, apps, loops, tmp)
        print(f"killed client, one slot: next request {after_kill * 1000:.0f} ms after the kill, "
              f"{idle * 1000:.0f} ms on an idle daemon: slot freed in ~{max(0.0, after_kill - idle) * 1000:.0f} ms")
        in_process, hung = hung_daemon(base, apps, tmp)
        print(f"hung daemon (SIGSTOP): generate {hung:.2f} s, in-process alone {in_process:.2f} s: "
              f"{hung - in_process:.2f} s lost before the fallback")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=str(REPO / "target/release/argocd-wasm-plugin"))
    ARGS = parser.parse_args()
    ARGS.binary = str(Path(ARGS.binary).resolve())
    if not os.access(ARGS.binary, os.X_OK):
        sys.exit(f"{ARGS.binary} not found: cargo build --release -p argocd-wasm-plugin")
    if not SPIN.exists():
        sys.exit(f"{SPIN} not found: the host's build compiles it")
    main()

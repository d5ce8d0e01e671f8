"""Times a function's cold start as Lambda sees it: from exec to its first `GET .../invocation/next` on the
Runtime API, plus the process's peak RSS. Runs each binary several times against a fake Runtime API on loopback
and prints the median and worst run. No network I/O beyond loopback; the fake API never hands out an event.

Usage: .venv/bin/python scripts/bench_startup.py [--runs 20] BINARY [BINARY ...]
(build with `cargo build --release --bin <name>`; binaries are in target/release/)
"""

import argparse
import http.server
import os
import signal
import statistics
import subprocess
import threading
import time


class FirstNext(http.server.BaseHTTPRequestHandler):
    """Records when the function first asks for an event, then holds the request open."""

    arrived = threading.Event()
    at = 0.0

    def do_GET(self):  # noqa: N802 (the http.server API)
        if self.path.endswith("/runtime/invocation/next") and not FirstNext.arrived.is_set():
            FirstNext.at = time.perf_counter()
            FirstNext.arrived.set()
        time.sleep(30)

    def log_message(self, *args):
        pass


def run_once(binary, port):
    FirstNext.arrived.clear()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{port}",
        "AWS_LAMBDA_FUNCTION_NAME": os.path.basename(binary),
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "TABLE_NAME": "requests",
        "SETTINGS_SECRET_ID": "settings",
    }
    started = time.perf_counter()
    process = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if not FirstNext.arrived.wait(timeout=10):
        process.kill()
        raise SystemExit(f"{binary} never asked for an event")
    elapsed_ms = (FirstNext.at - started) * 1000
    process.send_signal(signal.SIGKILL)
    _, _, usage = os.wait4(process.pid, 0)
    return elapsed_ms, usage.ru_maxrss / 1024


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("binaries", nargs="+")
    args = parser.parse_args()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FirstNext)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]

    print(f"{'binary':<22} {'size MB':>8} {'start ms (median / max)':>24} {'peak RSS MB':>12}")
    for binary in args.binaries:
        runs = [run_once(binary, port) for _ in range(args.runs)]
        times = [t for t, _ in runs]
        rss = max(r for _, r in runs)
        size = os.path.getsize(binary) / 1e6
        print(f"{os.path.basename(binary):<22} {size:>8.1f} {statistics.median(times):>11.1f} / {max(times):>9.1f} {rss:>12.1f}")
    server.shutdown()


if __name__ == "__main__":
    main()

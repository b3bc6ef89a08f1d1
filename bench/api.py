"""API load benchmark: submit N previews jobs concurrently against a running service, poll them
to completion, and print requests/s and p50/p95 latency for job creation and status reads.

    make run                      # in one terminal (or any running service)
    .venv/bin/python bench/api.py --jobs 200 --concurrency 16

Reads URL, token and project from the flags, else from var/demo-credentials.txt (first start).
"""

import argparse
import io
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import requests
from PIL import Image


def percentile(values, q):
    return float(np.percentile(values, q)) * 1000 if values else float("nan")


def demo_credentials(path: Path) -> dict:
    if not path.exists():
        return {}
    return dict(line.split(": ", 1) for line in path.read_text().splitlines() if ": " in line)


def main():
    creds = demo_credentials(Path(__file__).resolve().parent.parent / "var" / "demo-credentials.txt")
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--token", default=creds.get("token"))
    parser.add_argument("--project", default=creds.get("project"))
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    if not (args.token and args.project):
        sys.exit("no token/project: pass --token and --project, or start the service once with `make run`")

    local = threading.local()

    def http():
        if not hasattr(local, "session"):
            local.session = requests.Session()
            local.session.headers["Authorization"] = f"Token {args.token}"
        return local.session

    base = f"{args.url}/api/v1/projects/{args.project}"
    pixels = (np.random.default_rng(0).random((256, 256, 3)) * 255).astype(np.uint8)
    png = io.BytesIO()
    Image.fromarray(pixels).save(png, format="PNG")
    upload = http().post(f"{base}/uploads", files={"files": ("bench.png", png.getvalue())},
                         data={"previews": "false", "name": "api benchmark"})
    upload.raise_for_status()
    asset_id = upload.json()["assets"][0]["id"]

    def create(_):
        start = time.perf_counter()
        response = http().post(f"{base}/jobs", json={"kind": "previews", "inputs": {"assets": [asset_id]}})
        elapsed = time.perf_counter() - start
        response.raise_for_status()
        return elapsed, response.headers["Location"]

    with ThreadPoolExecutor(args.concurrency) as pool:
        t0 = time.perf_counter()
        created = list(pool.map(create, range(args.jobs)))
        create_wall = time.perf_counter() - t0

    create_latency = [c[0] for c in created]
    read_latency, finished = [], {}
    lock = threading.Lock()
    deadline = time.monotonic() + args.timeout

    def poll(url):
        while time.monotonic() < deadline:
            start = time.perf_counter()
            job = http().get(url).json()
            with lock:
                read_latency.append(time.perf_counter() - start)
            if job["status"] in ("succeeded", "failed", "cancelled"):
                finished[url] = job
                return
            time.sleep(0.05)

    with ThreadPoolExecutor(args.concurrency) as pool:
        t1 = time.perf_counter()
        list(pool.map(poll, [c[1] for c in created]))
        poll_wall = time.perf_counter() - t1
    all_done = time.perf_counter() - t0

    statuses = [j["status"] for j in finished.values()]
    from datetime import datetime

    def seconds(job, a, b):
        return (datetime.fromisoformat(job[b]) - datetime.fromisoformat(job[a])).total_seconds()

    turnaround = [seconds(j, "queued_at", "finished_at") for j in finished.values() if j["finished_at"]]
    rows = [
        ("job creation (POST /jobs)", len(create_latency), len(create_latency) / create_wall,
         percentile(create_latency, 50), percentile(create_latency, 95)),
        ("status read (GET /jobs/{id})", len(read_latency), len(read_latency) / poll_wall,
         percentile(read_latency, 50), percentile(read_latency, 95)),
    ]
    print(f"{args.jobs} previews jobs, concurrency {args.concurrency}, against {args.url}")
    print(f"{'operation':32} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8}")
    for name, count, rate, p50, p95 in rows:
        print(f"{name:32} {count:9d} {rate:8.1f} {p50:8.1f} {p95:8.1f}")
    print(f"jobs finished: {len(finished)}/{args.jobs} ({statistics.mode(statuses) if statuses else '-'}); "
          f"throughput {len(finished) / all_done:.1f} jobs/s; queued->finished p50 "
          f"{np.percentile(turnaround, 50):.2f} s, p95 {np.percentile(turnaround, 95):.2f} s")
    if len(finished) < args.jobs or any(s != "succeeded" for s in statuses):
        sys.exit(1)


if __name__ == "__main__":
    main()

"""Server load benchmark: concurrent uploads and status requests while a collect runs.

A real ``xlplan serve`` on loopback serves the example's workspace. The 15 departments' returns
are uploaded and a collect of them (plus ``--copies`` more copies, so that it lasts) is started;
while it runs, ``--clients`` threads upload more returns and ask for the status as fast as they
can. The same requests are then timed on the idle server: the floor, in the same run. Printed:
latency percentiles of both, their ratio, and whether every upload reached the inbox or the
archive (nothing lost). Nothing is asserted.

    python benchmarks/bench_serve.py                      # 8 clients, 200 copies
    python benchmarks/bench_serve.py --clients 20 --copies 400
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import xlplan
from tests.serving import Server
from xlplan.demo.respond import fill_response
from xlplan.examples import load_example
from xlplan.workspace.folder import init_workspace


def _percentiles(samples: list[float]) -> dict[str, float]:
    if not samples:
        return {}
    ordered = sorted(samples)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1)

    return {"n": len(ordered), "p50_ms": at(0.5), "p90_ms": at(0.9), "p99_ms": at(0.99), "max_ms": at(1.0)}


def _load(
    server: Server, name: str, body: bytes, clients: int, stop: threading.Event
) -> dict[str, list[float]]:
    """Each client alternates a status request and an upload until ``stop``; latencies in seconds."""
    found: dict[str, list[float]] = {"status": [], "upload": []}
    lock = threading.Lock()

    def client(number: int) -> None:
        with server.client(timeout=600) as http:
            count = 0
            while not stop.is_set():
                began = time.perf_counter()
                assert http.get(f"/api/v1/workspaces/{name}/status").status_code == 200
                status = time.perf_counter() - began
                began = time.perf_counter()
                files = {"file": (f"負荷{number}-{count}.xlsx", body)}
                assert http.post(f"/api/v1/workspaces/{name}/returns", files=files).status_code == 201
                upload = time.perf_counter() - began
                count += 1
                with lock:
                    found["status"].append(status)
                    found["upload"].append(upload)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--copies", type=int, default=200)
    parser.add_argument("--idle-seconds", type=float, default=5.0)
    args = parser.parse_args()

    example = load_example("ogi")
    base = Path(tempfile.mkdtemp(prefix="xlplan-bench-serve-"))
    workspace = init_workspace(base / "令和2年度", example.plan)
    sent = xlplan.distribute(workspace)
    returns = []
    for item in sent.departments:
        assert item.workbook is not None
        answers = [
            a for a in example.answers if example.plan.canonical_department(a.department) == item.department
        ]
        target = base / f"{item.department}.xlsx"
        fill_response(item.workbook, answers, target)
        returns.append(target)
    for index in range(args.copies):  # more work for the collect that the load runs beside
        source = returns[index % len(returns)]
        (workspace.inbox / f"写し{index:04d}_{source.name}").write_bytes(source.read_bytes())
    body = returns[0].read_bytes()
    name = workspace.root.name

    server = Server([workspace.root]).start()
    try:
        # The floor: the same requests on the idle server.
        stop = threading.Event()
        timer = threading.Timer(args.idle_seconds, stop.set)
        timer.start()
        idle = _load(server, name, body, args.clients, stop)
        idle_uploads = len(idle["upload"])

        stop = threading.Event()
        collect_seconds: list[float] = []

        def collect() -> None:
            began = time.perf_counter()
            with server.client(timeout=3600) as http:
                assert http.post(f"/api/v1/workspaces/{name}/collect").status_code == 200
            collect_seconds.append(time.perf_counter() - began)
            stop.set()

        running = threading.Thread(target=collect)
        running.start()
        loaded = _load(server, name, body, args.clients, stop)
        running.join()
        loaded_uploads = len(loaded["upload"])
        with server.client(timeout=3600) as http:  # take in what the load uploaded
            http.post(f"/api/v1/workspaces/{name}/collect")
    finally:
        server.stop()

    import sqlite3

    with sqlite3.connect(workspace.ledger_path) as connection:
        received = connection.execute("SELECT COUNT(*) FROM receipts WHERE source = 'inbox'").fetchone()[0]
        unchecked = connection.execute("SELECT COUNT(*) FROM receipts WHERE status = 'archived'").fetchone()[
            0
        ]
    expected = args.copies + idle_uploads + loaded_uploads
    result = {
        "clients": args.clients,
        "collect_files": args.copies + idle_uploads,
        "collect_seconds": round(collect_seconds[0], 2) if collect_seconds else None,
        "idle": {kind: _percentiles(samples) for kind, samples in idle.items()},
        "during_collect": {kind: _percentiles(samples) for kind, samples in loaded.items()},
        "ratio_p50": {
            kind: round(statistics.median(loaded[kind]) / statistics.median(idle[kind]), 2)
            for kind in ("status", "upload")
            if loaded[kind] and idle[kind]
        },
        "uploads": expected,
        "receipts": received,
        "unchecked": unchecked,
        "nothing_lost": received == expected and unchecked == 0,
    }
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()

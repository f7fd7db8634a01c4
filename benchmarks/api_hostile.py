"""A 100 MB body without a key while other clients read: how fast is it refused, and do the
readers notice?

Starts `serve` on a fresh SQLite file, lets `--clients` readers GET /v1/network/points and
/v1/fleet in a loop, and meanwhile streams `--mb` MB to POST /v1/vroom without a key over a raw
socket, timing until the status line arrives (target: < 1 s). Prints that time, the bytes the
client got to send, and the readers' p50/p95/max latency (target p95 < 50 ms). Loopback only,
bounded in time.

    .venv/bin/python -m benchmarks.api_hostile [--mb 100] [--clients 5] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from api.auth import create_key
from api.db import make_engine
from api.migrate import migrate
from benchmarks.api_load import serve_on_loopback

CHUNK = 1024 * 1024


def hostile_post(base: str, megabytes: int) -> tuple[float, int, str]:
    """Stream `megabytes` MB to /v1/vroom without a key: (seconds to the answer, bytes sent,
    status line)."""
    url = urlsplit(base)
    sock = socket.create_connection((url.hostname or "127.0.0.1", url.port or 80))
    sock.settimeout(10)
    total = megabytes * CHUNK
    head = (
        f"POST /v1/vroom HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {total}\r\n\r\n"
    ).encode()
    started = time.perf_counter()
    sock.sendall(head)
    answer: list[bytes] = []

    def read() -> None:
        try:
            answer.append(sock.recv(4096))
        except OSError:
            answer.append(b"")

    reader = threading.Thread(target=read)
    reader.start()
    sent = 0
    chunk = b"[" * CHUNK
    while sent < total and reader.is_alive():
        try:
            sock.sendall(chunk)
        except OSError:
            break
        sent += CHUNK
    reader.join(timeout=10)
    elapsed = time.perf_counter() - started
    sock.close()
    status = answer[0].split(b"\r\n", 1)[0].decode() if answer and answer[0] else "(closed)"
    return elapsed, sent, status


async def readers(base: str, key: str, clients: int, seconds: float) -> list[float]:
    """Latencies (ms) of GETs by `clients` concurrent readers for `seconds`."""
    latencies: list[float] = []
    stop = time.monotonic() + seconds
    headers = {"Authorization": f"Bearer {key}"}

    async def one(c: httpx.AsyncClient, k: int) -> None:
        paths = ("/v1/network/points", "/v1/fleet")
        while time.monotonic() < stop:
            t = time.perf_counter()
            r = await c.get(paths[k % 2], headers=headers)
            latencies.append((time.perf_counter() - t) * 1000)
            assert r.status_code == 200, r.text
            k += 1
            await asyncio.sleep(0.05)

    async with httpx.AsyncClient(base_url=base, timeout=30) as c:
        await asyncio.gather(*(one(c, k) for k in range(clients)))
    return latencies


def main() -> None:
    """Run the benchmark and print the numbers."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=int, default=100)
    parser.add_argument("--clients", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'hostile.sqlite3'}"
        engine = make_engine(url)
        migrate(engine)
        key = create_key(engine, "planner")
        engine.dispose()
        with serve_on_loopback(url) as (base, _):
            httpx.get(f"{base}/v1/network/points", headers={"Authorization": f"Bearer {key}"})
            result: list[tuple[float, int, str]] = []

            def attack() -> None:
                time.sleep(args.seconds / 3)
                result.append(hostile_post(base, args.mb))

            attacker = threading.Thread(target=attack)
            attacker.start()
            latencies = sorted(asyncio.run(readers(base, key, args.clients, args.seconds)))
            attacker.join()
    elapsed, sent, status = result[0]
    p = lambda q: latencies[min(len(latencies) - 1, int(q / 100 * len(latencies)))]  # noqa: E731
    print(f"{args.mb} MB without a key: {status!r} after {elapsed:.3f} s ({sent // CHUNK} MB sent)")
    print(
        f"readers: {len(latencies)} GETs, p50 {p(50):.1f} ms, p95 {p(95):.1f} ms, "
        f"max {latencies[-1]:.1f} ms"
    )


if __name__ == "__main__":
    main()

"""Failure modes: a lost or read-only database, a killed server's worker process groups."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import httpx
import psutil
import pytest
from sqlalchemy import create_engine, text

from tests.api.conftest import DAY, Keys, make_client, manifest_bytes
from tests.api.live import new_key, server, wait_for


class TcpProxy:
    """A loopback TCP proxy to `upstream` that a test can cut and restore."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.port = 0
        self._listener: socket.socket | None = None
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        self.restore()

    def restore(self) -> None:
        """Listen (again, on the same port) and forward connections."""
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        """Stop listening and drop every connection: the database is gone."""
        assert self._listener is not None
        self._listener.close()
        with self._lock:
            for conn in self._conns:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
                conn.close()
            self._conns.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.upstream)
            with self._lock:
                self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)


def _via(url: str, port: int) -> str:
    """`url` with its host and port replaced by 127.0.0.1:`port`."""
    parts = urlsplit(url)
    user = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
    return urlunsplit(parts._replace(netloc=f"{user}127.0.0.1:{port}"))


def test_lost_database_answers_503_and_recovers(pg_url: str) -> None:
    parts = urlsplit(pg_url)
    proxy = TcpProxy((parts.hostname or "127.0.0.1", parts.port or 5432))
    with make_client(_via(pg_url, proxy.port)) as client:
        keys = Keys(client)
        assert client.get("/v1/manifests", headers=keys.dispatcher).status_code == 200
        proxy.cut()
        for _ in range(3):
            r = client.get("/v1/manifests", headers=keys.dispatcher)
            assert r.status_code == 503, r.text
            assert int(r.headers["Retry-After"]) > 0
            assert set(r.json()) == {"detail"} and "127.0.0.1" not in r.text
        proxy.restore()
        deadline = time.monotonic() + 10
        while client.get("/v1/manifests", headers=keys.dispatcher).status_code != 200:
            assert time.monotonic() < deadline, "no recovery without a restart"
            time.sleep(0.2)
        proxy.cut()


def test_read_only_database_answers_503_and_recovers(pg_url: str) -> None:
    role = f"rd_ro_{uuid.uuid4().hex[:8]}"
    schema = pg_url.split("search_path%3D")[-1]
    admin = create_engine(pg_url.split("?")[0], isolation_level="AUTOCOMMIT")

    def sql(statement: str) -> None:
        with admin.connect() as conn:
            conn.execute(text(statement))

    def reconnect_all() -> None:
        sql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{role}'")

    sql(f'CREATE ROLE "{role}" LOGIN')
    sql(f'GRANT ALL ON SCHEMA "{schema}" TO "{role}"')
    parts = urlsplit(pg_url)
    url = urlunsplit(parts._replace(netloc=f"{quote(role)}@{parts.hostname}:{parts.port or 5432}"))
    try:
        with make_client(url) as client:
            keys = Keys(client)
            fleet = client.get("/v1/fleet", headers=keys.planner).text.encode()
            sql(f'ALTER ROLE "{role}" SET default_transaction_read_only = on')
            reconnect_all()
            r = client.put("/v1/fleet", content=fleet, headers=keys.dispatcher)
            assert r.status_code == 503 and "Retry-After" in r.headers, r.text
            sql(f'ALTER ROLE "{role}" RESET default_transaction_read_only')
            reconnect_all()
            deadline = time.monotonic() + 10
            while (
                client.put("/v1/fleet", content=fleet, headers=keys.dispatcher).status_code != 200
            ):
                assert time.monotonic() < deadline, "no recovery without a restart"
                time.sleep(0.2)
    finally:
        reconnect_all()
        sql(f'DROP OWNED BY "{role}" CASCADE')
        sql(f'DROP ROLE "{role}"')
        admin.dispose()


def _group(pgid: int) -> list[int]:
    """Running processes of process group `pgid` (an exited one not yet reaped is a zombie)."""
    out = []
    for p in psutil.process_iter():
        try:
            if os.getpgid(p.pid) == pgid and p.status() != psutil.STATUS_ZOMBIE:
                out.append(p.pid)
        except (OSError, psutil.Error):
            continue
    return out


@pytest.mark.slow
def test_worker_groups_die_within_a_second_of_the_server(
    sqlite_url: str, county, manifest_dir: Path
) -> None:
    key = new_key(sqlite_url, "dispatcher")
    data = manifest_bytes(county, manifest_dir, 300, seed=61)
    with (
        server(sqlite_url) as (base, proc),
        httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}) as c,
    ):
        mid = c.post("/v1/manifests", content=data, headers={"Content-Type": "text/csv"}).json()
        body = {"date": DAY.isoformat(), "manifest_ids": [mid["manifest_id"]], "time_limit_s": 300}
        plan_id = c.post("/v1/plans", json=body).json()["plan_id"]
        wait_for(c, plan_id, ("running",))
        engine = create_engine(sqlite_url)
        deadline = time.monotonic() + 30
        leader = None
        while leader is None:
            assert time.monotonic() < deadline
            with engine.connect() as conn:
                sql = "select worker_pid from plans where plan_id = :p"
                leader = conn.execute(text(sql), {"p": plan_id}).scalar()
            time.sleep(0.1)
        engine.dispose()
        while len(_group(leader)) < 2:  # the leader and the job it forked
            assert time.monotonic() < deadline
            time.sleep(0.1)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        killed = time.monotonic()
        while _group(leader):
            assert time.monotonic() - killed < 1.0, f"alive: {_group(leader)}"
            time.sleep(0.02)

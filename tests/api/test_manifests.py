"""Manifest uploads: CSV/JSON/multipart/GBK, idempotent by content, all-or-nothing, limits."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from fastapi.testclient import TestClient

from api.limits import Limits
from tests.api.conftest import DAY, Keys, make_client, manifest_bytes

HEADER = "tracking_no,carrier,kind,point_id,lon,lat,crs,weight_kg,volume_l,cold,due_date\n"


def _post(client: TestClient, keys: Keys, data: bytes, ctype: str = "text/csv", **params: str):
    headers = {**keys.dispatcher, "Content-Type": ctype}
    return client.post("/v1/manifests", content=data, headers=headers, params=params)


def _rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def _stored(client: TestClient, keys: Keys) -> list[dict]:
    return client.get("/v1/manifests", headers=keys.dispatcher).json()["manifests"]


def test_csv_upload_is_idempotent(db_url: str, county, manifest_dir: Path) -> None:
    data = manifest_bytes(county, manifest_dir, 60, seed=1)
    with make_client(db_url) as client:
        keys = Keys(client)
        first = _post(client, keys, data, filename="zto.csv")
        assert first.status_code == 201, first.text
        body = first.json()
        assert body["parcels"] == 60
        assert body["date"] == DAY.isoformat()
        assert body["carrier"]
        again = _post(client, keys, data, filename="other-name.csv")
        assert again.status_code == 200
        assert again.json()["manifest_id"] == body["manifest_id"]
        listed = client.get(
            "/v1/manifests", params={"date": DAY.isoformat()}, headers=keys.dispatcher
        ).json()["manifests"]
        assert [m["manifest_id"] for m in listed] == [body["manifest_id"]]
        other_day = client.get(
            "/v1/manifests", params={"date": "2026-01-01"}, headers=keys.dispatcher
        )
        assert other_day.json()["manifests"] == []


def test_json_multipart_and_gbk(sqlite_url: str, county, manifest_dir: Path) -> None:
    rows = _rows(manifest_bytes(county, manifest_dir, 30, seed=2))
    gbk = manifest_bytes(county, manifest_dir, 20, seed=3, encoding="gbk")
    multi = manifest_bytes(county, manifest_dir, 25, seed=4)
    with make_client(sqlite_url) as client:
        keys = Keys(client)
        as_json = json.dumps({"parcels": rows}, ensure_ascii=False).encode()
        r = _post(client, keys, as_json, "application/json")
        assert r.status_code == 201, r.text
        assert r.json()["parcels"] == 30
        r = _post(client, keys, gbk)
        assert r.status_code == 201, r.text
        assert r.json()["parcels"] == 20
        r = client.post(
            "/v1/manifests", files={"file": ("sto.csv", multi, "text/csv")}, headers=keys.dispatcher
        )
        assert r.status_code == 201, r.text
        assert r.json()["filename"] == "sto.csv"
        assert len(_stored(client, keys)) == 3


def test_invalid_rows_store_nothing(db_url: str, county, manifest_dir: Path) -> None:
    data = manifest_bytes(county, manifest_dir, 40, seed=5)
    lines = data.decode().splitlines(keepends=True)
    fields = lines[3].split(",")
    fields[7] = "heavy"  # weight_kg of data row 3
    lines[3] = ",".join(fields)
    with make_client(db_url) as client:
        keys = Keys(client)
        r = _post(client, keys, "".join(lines).encode(), filename="bad.csv")
        assert r.status_code == 422
        errors = r.json()["errors"]
        assert {"file": "bad.csv", "row": 3, "field": "weight_kg"}.items() <= errors[0].items()
        assert errors[0]["message"]
        assert _stored(client, keys) == []


def test_tracking_numbers_clash_across_manifests(db_url: str, county, manifest_dir: Path) -> None:
    data = manifest_bytes(county, manifest_dir, 30, seed=6)
    lines = data.decode().splitlines(keepends=True)
    with make_client(db_url) as client:
        keys = Keys(client)
        first = _post(client, keys, "".join(lines[:11]).encode(), filename="a.csv")
        assert first.status_code == 201
        # b.csv repeats a.csv's 10th parcel as its 2nd row
        second = "".join([lines[0], lines[11], lines[10], *lines[12:]]).encode()
        r = _post(client, keys, second, filename="b.csv")
        assert r.status_code == 422
        (error,) = r.json()["errors"]
        assert (error["file"], error["row"], error["field"]) == ("b.csv", 2, "tracking_no")
        assert first.json()["manifest_id"] in error["message"]
        assert len(_stored(client, keys)) == 1


def test_size_and_row_limits(sqlite_url: str) -> None:
    with make_client(sqlite_url) as client:
        keys = Keys(client)
        r = _post(client, keys, b"x" * (20 * 1024 * 1024 + 1))
        assert r.status_code == 413
        assert "20 MB" in r.json()["detail"]
        many = (HEADER + "1,c,delivery,500118001,,,,1,1,0,2026-03-05\n" * 200_001).encode()
        r = _post(client, keys, many)
        assert r.status_code == 413
        assert "200000 rows" in r.json()["detail"]
        assert _stored(client, keys) == []
    with make_client(sqlite_url, limits=Limits(upload_rows=5)) as client:
        keys = Keys(client)
        rows = "".join(f"T{i},c,delivery,500118001,,,,1,1,0,2026-03-05\n" for i in range(6))
        r = _post(client, keys, (HEADER + rows).encode())
        assert r.status_code == 413
        r = _post(client, keys, (HEADER + rows.split("\n", 1)[1]).encode())
        assert r.status_code == 201, r.text


def test_one_column_spec_covers_the_parcel_and_its_storage() -> None:
    """Every Parcel field but where it was read comes from one manifest column, and the
    parcels table stores each of them (a new column: one COLUMNS entry, its Parcel field and
    table column, one migration)."""
    import dataclasses

    from api.db import ParcelRow
    from dispatch.manifest import COLUMNS, PARCEL_FIELDS, REQUIRED_COLUMNS
    from dispatch.parcel import Parcel

    parcel = [f.name for f in dataclasses.fields(Parcel)]
    assert sorted(PARCEL_FIELDS) == sorted(set(parcel) - {"source", "row"})
    stored = set(ParcelRow.__table__.columns.keys())
    assert set(parcel) <= stored
    assert set(REQUIRED_COLUMNS) <= {c.name for c in COLUMNS}
    assert all(c.parse is not None for c in COLUMNS if c.required)

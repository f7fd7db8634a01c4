"""The county a database serves: claimed by the first server, checked by every later one."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from api.db import ServedCounty, writing


class CountyMismatch(ValueError):
    """The database was made for another county."""


def claim_county(engine: Engine, identity: str, name: str) -> None:
    """Record `identity` (code, else name) as the database's county, or check it is the one
    recorded; CountyMismatch naming both when the database serves another county."""
    with writing(engine) as session:
        row = session.get(ServedCounty, 1)
        if row is None:
            session.add(ServedCounty(id=1, identity=identity, name=name))
        elif row.identity != identity:
            raise CountyMismatch(
                f"this database serves {row.name} ({row.identity}), not {name} ({identity}): "
                "one database per county; give another one with --db"
            )

"""The county a database serves (one row); databases that already hold data served Yongchuan.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

#: Before this revision every database served the embedded county, Yongchuan (code 500118).
_EMBEDDED = {"identity": "500118", "name": "永川区"}


def upgrade() -> None:
    table = op.create_table(
        "served_county",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("identity", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    connection = op.get_bind()
    used = any(
        connection.execute(sa.text(f"SELECT 1 FROM {name} LIMIT 1")).first() is not None
        for name in ("manifests", "plans", "fleet_versions")
    )
    if used:
        op.bulk_insert(table, [{"id": 1, **_EMBEDDED, "claimed_at": dt.datetime.now(dt.UTC)}])


def downgrade() -> None:
    op.drop_table("served_county")

"""Initial schema: api keys, manifests, parcels, fleet versions, plan jobs.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("secret_sha256", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("vehicle_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key_id"),
    )
    op.create_table(
        "fleet_versions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("toml", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "manifests",
        sa.Column("manifest_id", sa.String(length=32), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("carrier", sa.String(length=64), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("parcels", sa.Integer(), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("manifest_id"),
        sa.UniqueConstraint("content_sha256"),
    )
    with op.batch_alter_table("manifests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_manifests_date"), ["date"], unique=False)

    op.create_table(
        "plans",
        sa.Column("plan_id", sa.String(length=32), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("best_cost_fen", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.Column("fleet_toml", sa.Text(), nullable=True),
        sa.Column("version_of", sa.String(length=32), nullable=True),
        sa.Column("plan_json", sa.Text(), nullable=True),
        sa.Column("worker_pid", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("plan_id"),
    )
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plans_date"), ["date"], unique=False)
        batch_op.create_index(batch_op.f("ix_plans_status"), ["status"], unique=False)

    op.create_table(
        "parcels",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("manifest_id", sa.String(length=32), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("tracking_no", sa.String(length=64), nullable=False),
        sa.Column("carrier", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("point_id", sa.String(length=32), nullable=False),
        sa.Column("weight_g", sa.Integer(), nullable=False),
        sa.Column("volume_ml", sa.Integer(), nullable=False),
        sa.Column("cold", sa.Boolean(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=255), nullable=False),
        sa.Column("row", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["manifest_id"], ["manifests.manifest_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("date", "tracking_no", name="uq_parcels_date_tracking"),
    )
    with op.batch_alter_table("parcels", schema=None) as batch_op:
        batch_op.create_index("ix_parcels_manifest", ["manifest_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("parcels", schema=None) as batch_op:
        batch_op.drop_index("ix_parcels_manifest")

    op.drop_table("parcels")
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plans_status"))
        batch_op.drop_index(batch_op.f("ix_plans_date"))

    op.drop_table("plans")
    with op.batch_alter_table("manifests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_manifests_date"))

    op.drop_table("manifests")
    op.drop_table("fleet_versions")
    op.drop_table("api_keys")

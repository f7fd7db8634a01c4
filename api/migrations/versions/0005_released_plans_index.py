"""A covering index for "the day's released plans" (scans, traces, the assessment).

Each row of `plans` holds its plan JSON (hundreds of kB), stored before `created_at` and
`released_at`: without this index SQLite walks every matching row's overflow pages to read
them (about 20 ms for 30 days of plans); with it the look-up never touches the rows.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_COLUMNS = ["status", "date", "released_at", "created_at", "plan_id"]


def upgrade() -> None:
    op.create_index("ix_plans_released", "plans", _COLUMNS)


def downgrade() -> None:
    op.drop_index("ix_plans_released", table_name="plans")

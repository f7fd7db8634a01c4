"""Plans as the project writes them (their JSON), each checked against the committed JSON
Schema (docs/plan.schema.json) on the way: every plan the tests make passes it."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import jsonschema

from dispatch import service
from dispatch.parcel import Parcel
from dispatch.plan import read_plan
from dispatch.workspace import Workspace

SCHEMA = Path(__file__).resolve().parents[2] / "docs" / "plan.schema.json"


@functools.cache
def _validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def assert_schema_valid(plan: Mapping[str, Any]) -> None:
    """Fail naming the first place where `plan` (JSON) breaks the committed schema."""
    errors = sorted(_validator().iter_errors(plan), key=lambda e: list(e.absolute_path))
    assert not errors, "; ".join(
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:5]
    )


def _typed(kw: dict[str, Any]) -> dict[str, Any]:
    """Earlier plans given as JSON (carry_over, warm_start) read as the model takes them."""
    return {
        k: read_plan(v) if k in ("carry_over", "warm_start") and v else v for k, v in kw.items()
    }


def plan_json(ws: Workspace, parcels: Sequence[Parcel], **kw: Any) -> dict[str, Any]:
    """service.plan_day's plan as JSON, schema-checked."""
    plan = service.plan_day(ws, parcels, **_typed(kw)).to_json()
    assert_schema_valid(plan)
    return plan


def replan_json(
    ws: Workspace,
    plan: Mapping[str, Any],
    parcels: Sequence[Parcel],
    events: Sequence[Mapping[str, Any]],
    **kw: Any,
) -> dict[str, Any]:
    """service.replan's new version of `plan` (JSON) as JSON, schema-checked."""
    new = service.replan(ws, read_plan(plan), parcels, events, **kw).to_json()
    assert_schema_valid(new)
    return new

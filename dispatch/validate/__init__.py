"""Independent check of a finished plan against the plan JSON contract (version 2.0).

It recomputes everything from the plan JSON and the day's inputs (parcels, fleet, points,
travel callbacks) and shares no code with the planner or the optimizer, so a planner bug
cannot hide behind the same bug here. Units: seconds since midnight, metres, grams,
millilitres, fen; integers compare exactly. Each fault names the route, stop (or parcel,
driver, KPI) and the rule it breaks, e.g. "route R004 stop 3 (500118104001) [service_time]".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dispatch.validate.context import Context, PlanInputs
from dispatch.validate.drivers import check_drivers
from dispatch.validate.kpis import check_kpis
from dispatch.validate.parcels import check_parcels
from dispatch.validate.reasons import check_reasons
from dispatch.validate.references import check_references
from dispatch.validate.routes import check_routes
from dispatch.validate.shape import PLAN_VERSION, check_shape

__all__ = ["PLAN_VERSION", "PlanInputs", "PlanInvalid", "check_plan", "validate_plan"]


class PlanInvalid(RuntimeError):
    """A plan broke the contract; `errors` holds every message."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        shown = "\n".join(errors[:50])
        more = f"\n... and {len(errors) - 50} more" if len(errors) > 50 else ""
        super().__init__(f"plan is invalid ({len(errors)} problem(s)):\n{shown}{more}")


def validate_plan(plan: Mapping[str, Any], inputs: PlanInputs) -> list[str]:
    """Every contract violation of `plan`, one line each naming route/stop/parcel and rule;
    [] = valid.

    Shape and references are checked first; the semantic checks run only on a plan whose
    shape is right and whose ids all resolve (otherwise they would report noise).
    """
    errors = check_shape(plan)
    if not errors:
        errors = check_references(plan, inputs)
    if errors:
        return errors
    ctx = Context(plan, inputs)
    rides = check_routes(ctx)
    check_drivers(ctx)
    complete = check_parcels(ctx, rides)
    check_reasons(ctx)
    check_kpis(ctx, complete)
    return ctx.errors


def check_plan(plan: Mapping[str, Any], inputs: PlanInputs) -> None:
    """Raise PlanInvalid with all messages unless `plan` is valid."""
    errors = validate_plan(plan, inputs)
    if errors:
        raise PlanInvalid(errors)

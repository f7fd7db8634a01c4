"""Why a parcel is not carried today: reason codes and sentences a dispatcher understands."""

from __future__ import annotations

from dataclasses import dataclass

#: code -> sentence template; {point} is the point's name, {detail} an optional detail.
REASONS: dict[str, str] = {
    "no_cold_vehicle": "No refrigerated vehicle free that can reach {point}.",
    "too_large": "Heavier or bulkier than any vehicle that can reach {point}.",
    "closes_before_arrival": "Cannot arrive at {point} before it closes.",
    "deferred_capacity": "Deferred: due {detail}, today's capacity is full.",
    "capacity_full": "Today's vehicles are full or out of time; not carried to {point}.",
    "no_vehicle_allowed": "No vehicle in the fleet may enter {point}.",
    "collection_missed": "Produce could not be brought from {point} to the hub today.",
    "point_closed": "{point} is closed today ({detail}).",
    "vehicle_breakdown": "On board broken-down vehicle {detail}; recover the load at {point}.",
}


@dataclass(frozen=True)
class Unassigned:
    """A parcel not carried today, with a reason code and sentence."""

    parcel_id: str
    code: str
    reason: str

    def as_json(self) -> dict[str, str]:
        """Plan JSON entry."""
        return {"parcel_id": self.parcel_id, "code": self.code, "reason": self.reason}


def reason(code: str, point: str, detail: str = "") -> str:
    """The sentence for `code` about the point named `point`."""
    return REASONS[code].format(point=point, detail=detail)


def is_deferral(code: str) -> bool:
    """True for codes that defer a parcel to a later day rather than fail it."""
    return code.startswith("deferred")

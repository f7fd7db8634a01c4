"""Which vehicle may serve what: road class at a point, cold chain, size. Written once here.

Every part of the day planner (town modes, jobs, legs, reasons) asks these questions through
one `Eligibility`, so the rules cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dispatch.fleet import CLASS_RANK, Fleet, FleetVehicle, VehicleType
from dispatch.parcel import Parcel
from dispatch.workspace import Workspace


@dataclass(frozen=True)
class Eligibility:
    """The rules of a fleet on a county's points."""

    ws: Workspace
    fleet: Fleet

    def may_enter(self, vtype: VehicleType, point_id: str) -> bool:
        """True when the point's access road admits the vehicle's class."""
        return CLASS_RANK[vtype.vclass] <= CLASS_RANK[self.ws.point(point_id).max_vclass]

    def may_carry(self, vtype: VehicleType, cold: bool) -> bool:
        """True when the vehicle may carry goods of this temperature (cold needs a reefer)."""
        return vtype.cold or not cold

    def may_serve(self, vtype: VehicleType, point_id: str, cold: bool) -> bool:
        """True when the vehicle may enter the point and carry the goods."""
        return self.may_enter(vtype, point_id) and self.may_carry(vtype, cold)

    def fits(self, vtype: VehicleType, parcel: Parcel) -> bool:
        """True when the parcel alone fits the vehicle (g and ml)."""
        return parcel.weight_g <= vtype.capacity_g and parcel.volume_ml <= vtype.capacity_ml

    def types(self, vehicles: Sequence[FleetVehicle]) -> list[VehicleType]:
        """The distinct types of `vehicles`, in fleet order."""
        names = {v.vtype for v in vehicles}
        return [t for name, t in self.fleet.types.items() if name in names]

    def capacity(
        self, vehicles: Sequence[FleetVehicle], point_id: str, cold: bool
    ) -> tuple[int, int]:
        """Largest (g, ml) of a vehicle in `vehicles` that may serve the point (0, 0 if none)."""
        best = (0, 0)
        for t in self.types(vehicles):
            if self.may_serve(t, point_id, cold):
                best = max(best, (t.capacity_g, t.capacity_ml), key=lambda c: c[0] * c[1])
        return best

    def can_take(self, vehicles: Sequence[FleetVehicle], parcel: Parcel, point_id: str) -> bool:
        """True when some vehicle in `vehicles` may serve `point_id` and fits the parcel."""
        return any(
            self.may_serve(t, point_id, parcel.cold) and self.fits(t, parcel)
            for t in self.types(vehicles)
        )

    def impossible(self, parcel: Parcel, vehicles: Sequence[FleetVehicle]) -> str | None:
        """Why no vehicle of `vehicles` can ever carry the parcel to or from its point, or None.

        Codes: no_vehicle_allowed (none may enter), no_cold_vehicle (none that enters is
        refrigerated, for a cold parcel), too_large (none that may serve it is big enough).
        """
        enter = [t for t in self.types(vehicles) if self.may_enter(t, parcel.point_id)]
        if not enter:
            return "no_vehicle_allowed"
        carry = [t for t in enter if self.may_carry(t, parcel.cold)]
        if not carry:
            return "no_cold_vehicle"
        if not any(self.fits(t, parcel) for t in carry):
            return "too_large"
        return None

"""VROOM compatibility: VROOM's problem JSON in, VROOM's solution JSON out.

A VROOM client can post the same body here and read the same fields back. The mapping:

* Each task (job, shipment pickup, shipment delivery) is its own solver node; each distinct
  vehicle start or end location is a depot node. A vehicle without `start` (or `end`) starts
  (or ends) at a free node that is zero time and cost from everywhere, as in VROOM.
* Travel: `matrices[profile].durations` (and `distances`, `costs`), or the legacy `matrix`
  (durations for every profile). With no matrix at all, locations are `[lon, lat]` and the
  fallback is straight-line: great-circle distance (m, `optimizer.great_circle`) at a fixed
  FALLBACK_SPEED_KMH = 50 km/h. A vehicle profile with no matrix while other profiles have
  one is a routing error (code 3): there is no routing engine to ask.
* Cost: like VROOM, `fixed + per_hour * travel_h + per_km * distance_km + per_task_hour *
  task_h` (defaults 0, 3600, 0, 0), or the profile's `costs` matrix. The solver's integer
  "distance" matrices carry this per-arc travel cost (one per vehicle class), and real
  distances are kept aside for the output. `speed_factor` divides travel times.
* Amounts: up to two dimensions map to the solver's two capacities. Dimensions that can never
  bind (every vehicle holds all amounts of all tasks at once) are dropped first; more than two
  binding dimensions are an input error (code 2).
* Skills: a task may go to vehicles holding all its skills; tasks no vehicle can take are
  unassigned without being solved. Priority p ∈ [0, 100] becomes the penalty (1 + p) · B with
  B above the cost of inserting any one task, so tasks are dropped only when infeasible and
  higher priorities last (VROOM ranks priority strictly first; here it is weighted).
* Time windows: times are shifted so the earliest one is 0 and shifted back on output. A task
  with several windows keeps its longest one (valid for VROOM, possibly not optimal).
  `setup` is added to the service time at every task (VROOM skips it after a task at the
  same place, so this is conservative). One break per vehicle with one window is supported.
* Not supported (code 2): `max_tasks`, `max_travel_time`, `max_distance`, vehicle `steps`,
  `*_per_type`, break `max_load`, several breaks per vehicle.

Codes as in VROOM: 0 ok, 1 internal error, 2 input error, 3 routing error.

Modules: `reader` (the problem JSON, checked, into tasks, vehicles and travel matrices),
`model` (the solver Problem built from them), `writer` (the solver's Solution as VROOM's
solution JSON) and `solve` (`solve_vroom`, which never raises on input).
"""

from optimizer.vroom.reader import FALLBACK_SPEED_KMH, VroomInputError, VroomRoutingError
from optimizer.vroom.solve import solve_vroom

__all__ = ["FALLBACK_SPEED_KMH", "VroomInputError", "VroomRoutingError", "solve_vroom"]

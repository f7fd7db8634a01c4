"""Earliest-time schedule of a route given its departure and where the lunch break falls."""

from __future__ import annotations

from optimizer.problem import Problem


def forward_schedule(
    problem: Problem,
    vehicle: int,
    nodes: list[int],
    departure: int,
    lunch_gap: int | None,
) -> tuple[list[int], int | None]:
    """Earliest service starts (s) along `nodes` when leaving the start depot at `departure`.

    Returns the route's `times` (departure, service start at each node, arrival at the end)
    and the lunch start. `lunch_gap` k puts the break between stop k and stop k+1 of
    [start, *nodes, end], started as soon as the previous service is over and the break's
    window is open; the break may overlap the drive and any wait, never a service.
    If the schedule the solver found is feasible, this one is too and no later anywhere.
    """
    veh = problem.vehicles[vehicle]
    stops = [veh.start, *nodes, veh.end]
    durations = problem.durations[veh.profile]
    times = [departure]
    lunch_start: int | None = None
    for k in range(len(stops) - 1):
        here, there = stops[k], stops[k + 1]
        ready = times[k] + int(problem.service[here])
        arrive = ready + int(durations[here, there])
        if k == lunch_gap and veh.lunch is not None:
            lunch_start = max(ready, veh.lunch.earliest)
            arrive = max(arrive, lunch_start) + veh.lunch.duration
        if k + 1 < len(stops) - 1:
            arrive = max(arrive, int(problem.time_windows[there, 0]))
        times.append(arrive)
    return times, lunch_start


def latest_departure(problem: Problem, vehicle: int, nodes: list[int], departure: int) -> int:
    """Latest departure (s), no earlier than `departure`, that changes neither the route's
    arrival at its end nor any service beyond its window (a route without a lunch break).

    Leaving later only removes waiting, so the route's span shrinks by that much. Each service
    is delayed by what the waits before it have not absorbed.
    """
    veh = problem.vehicles[vehicle]
    times, _ = forward_schedule(problem, vehicle, nodes, departure, None)
    stops = [veh.start, *nodes, veh.end]
    durations = problem.durations[veh.profile]
    latest_start = min(veh.shift_end, int(problem.time_windows[veh.start, 1]))
    delay = latest_start - departure
    waited = 0
    for k in range(1, len(stops)):
        here = stops[k - 1]
        arrive = times[k - 1] + int(problem.service[here]) + int(durations[here, stops[k]])
        waited += times[k] - arrive
        if k < len(stops) - 1:
            delay = min(delay, int(problem.time_windows[stops[k], 1]) - times[k] + waited)
    return departure + max(0, min(delay, waited))


def slack_departures(problem: Problem) -> list[int] | None:
    """Each vehicle's earliest departure (s) when no time constraint can ever bind, else None.

    That holds when no vehicle has a span limit, lunch or trip chain, and even a route
    through every customer (all services plus one longest leg per stop), leaving at the
    earliest departure, meets every window and shift end. Solvers may then drop times.
    """
    windows = problem.time_windows
    customers = problem.customers()
    longest = max(int(matrix.max()) for matrix in problem.durations)
    worst = int(problem.service.sum()) + (len(customers) + 1) * longest
    opens = int(windows[customers, 0].max()) if customers else 0
    closes = int(windows[customers, 1].min()) if customers else worst
    departures = []
    for vehicle in problem.vehicles:
        if vehicle.max_duration is not None or vehicle.lunch is not None:
            return None
        if vehicle.group is not None:
            return None
        depart = max(vehicle.shift_start, int(windows[vehicle.start, 0]))
        end = min(vehicle.shift_end, int(windows[vehicle.end, 1]))
        latest_start = min(vehicle.shift_end, int(windows[vehicle.start, 1]))
        if depart > latest_start or opens > depart or depart + worst > min(closes, end):
            return None
        departures.append(depart)
    return departures

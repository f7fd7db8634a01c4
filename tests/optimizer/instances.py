"""Small random problems shaped like a rural day: vans with costs, windows and a lunch break."""

from __future__ import annotations

import numpy as np

from optimizer.problem import Break, Problem, Vehicle

HOUR = 3600
LUNCH = Break(11 * HOUR + 1800, 13 * HOUR, 1800)


def rural_day(customers: int, seed: int, vans: int = 8, lunch: bool = True) -> Problem:
    """`customers` stops within 15 km of a depot (node 0), 30 km/h, 5 min service, a third of
    them with a morning or afternoon window; vans of 40 kg from 08:00 to 18:00 costing
    150 fen/km and 3000 fen/h, each with a 30-minute lunch break between 11:30 and 13:00."""
    rng = np.random.default_rng(seed)
    xy = np.vstack([[0, 0], rng.uniform(-15_000, 15_000, size=(customers, 2))])
    dist = np.rint(np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)))
    dist = (dist * 1.3).astype(np.int64)  # road detour
    n = customers + 1
    windows = np.tile(np.array([8 * HOUR, 18 * HOUR], np.int64), (n, 1))
    choice = rng.random(n)
    windows[(choice < 0.15)] = (8 * HOUR, 12 * HOUR)
    windows[(choice > 0.85)] = (13 * HOUR, 17 * HOUR)
    windows[0] = (8 * HOUR, 18 * HOUR)
    delivery = np.zeros((n, 2), np.int64)
    delivery[1:, 0] = rng.integers(500, 5_000, size=customers)
    delivery[1:, 1] = rng.integers(1_000, 20_000, size=customers)
    service = np.full(n, 300, np.int64)
    service[0] = 0
    van = Vehicle(
        start=0,
        end=0,
        capacity_g=40_000,
        capacity_ml=200_000,
        fixed_cost=5_000,
        cost_per_km=150,
        cost_per_hour=3_000,
        shift_start=8 * HOUR,
        shift_end=18 * HOUR,
        max_duration=9 * HOUR,
        lunch=LUNCH if lunch else None,
    )
    return Problem.build(
        [dist],
        [van] * vans,
        durations=[dist * 12 // 100],  # 30 km/h
        delivery=delivery,
        time_windows=windows,
        service=service,
    )

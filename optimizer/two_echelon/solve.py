"""Entry points of the 2E-CVRP solver: `solve_2e` and the single-echelon baseline."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

from optimizer.solver import SolveParams
from optimizer.two_echelon.decomposition import EVAL_LIMIT_S, freighters
from optimizer.two_echelon.model import TwoEchelonInstance, TwoEchelonSolution
from optimizer.two_echelon.search import Search
from optimizer.two_echelon.validate import validate_2e

#: Seeds `solve_2e` knows: nearest satellite; nearest counting truck haulage and handling;
#: one multi-depot solve of the whole second echelon (see `Search.joint`).
SEEDS = ("nearest", "radial", "joint")
#: Share of the time limit the joint seed may use.
_JOINT_SHARE = 0.3


def solve_2e(
    inst: TwoEchelonInstance, time_limit_s: float, seeds: Sequence[str] = SEEDS
) -> TwoEchelonSolution:
    """Solve `inst` within about `time_limit_s` seconds and validate the result.

    Each seed (see SEEDS; the joint one gets 30 % of the time) is solved and the best is
    improved by moving customers, freighter routes and whole satellites' customers to other
    satellites (re-solving only the satellites concerned, then the trucks) until 60 % of the
    time; the rest polishes the routes with guided local search.
    """
    unknown = [strategy for strategy in seeds if strategy not in SEEDS]
    if unknown or not seeds:
        raise ValueError(f"seed strategies must be among {SEEDS}, got {list(seeds)}")
    started = time.monotonic()
    search = Search(inst, started + time_limit_s)
    states = [search.state(search.seed(s)) for s in seeds if s != "joint"]
    if "joint" in seeds:
        joint = search.joint(_JOINT_SHARE * time_limit_s)
        states += [joint] if joint is not None else []
    if not states:
        states = [search.state(search.seed("nearest"))]
    initial = min(states, key=lambda st: st.score)
    state, evaluated, accepted = search.descend(initial, started + 0.6 * time_limit_s)
    best = search.polish(state)
    second = [(s, list(r)) for s, sub in enumerate(best.subs) for r in sub.routes]
    solution = TwoEchelonSolution(
        cost=best.cost,
        first=[list(r) for r in best.first.routes],
        first_loads=[list(a) for a in best.first.loads],
        second=second,
        valid=False,
        stats={
            "initial_cost": initial.cost,
            "descent_cost": state.cost,
            "moves_evaluated": float(evaluated),
            "moves_accepted": float(accepted),
            "solves": float(search.solves),
            "time_s": time.monotonic() - started,
        },
    )
    solution.valid = not validate_2e(inst, solution)
    return solution


def solve_single_echelon(inst: TwoEchelonInstance, time_limit_s: float) -> float:
    """Baseline: no satellites, the city freighters serve every customer from the depot.

    The fleet is `freighters_total` city freighters (their capacity, cost per distance and
    fixed cost) based at the depot; when a quick descent cannot serve everyone with that
    many, one more freighter is added at a time. The rest of the time goes to guided local
    search. Returns the cost in the same convention as `solve_2e` (no handling, no trucks),
    or math.inf when customers stay unserved.
    """
    search = Search(inst, time.monotonic() + time_limit_s)
    points = [0, *(search.cust_point(c) for c in range(search.n_cust))]
    demands = [int(d) for d in inst.demand]
    count = inst.freighters_total
    routes: list[list[int]] | None = None
    while routes is None and count <= inst.freighters_total + len(demands):
        quick = SolveParams(
            time_limit_s=max(0.01, min(EVAL_LIMIT_S, search.left())),
            metaheuristic="GREEDY_DESCENT",
        )
        solved = search.cvrp(points, demands, count, freighters(inst), quick)
        if solved is not None and not solved[1]:
            routes = solved[0]
        elif search.left() <= 0:
            return math.inf
        else:
            count += 1
    if routes is None:
        return math.inf
    if search.left() > 0.05:
        params = SolveParams(time_limit_s=search.left(), initial_routes=routes)
        solved = search.cvrp(points, demands, count, freighters(inst), params)
        if solved is not None and not solved[1]:
            routes = solved[0]
    return search.path_cost(0, [[points[node] for node in r] for r in routes], freighters(inst))

"""Neighbourhood search over 2E-CVRP assignments: customers, whole freighter routes and whole
satellites are moved to other satellites (first improvement), then the routes are polished."""

from __future__ import annotations

import time

import numpy as np

from optimizer.two_echelon.decomposition import Decomposition, IntArray, State, Sub

#: Satellites considered as new homes for a customer or a route (nearest first).
_NEAR = 4
#: Candidate moves evaluated exactly per round before giving up on the current solution.
_ROUND = 40

Move = tuple[str, int, int]  # (kind, item, target satellite)


class Search(Decomposition):
    """Moves, descent and polish on top of the decomposition's exact evaluation."""

    def candidates(self, state: State) -> list[tuple[float, Move]]:
        """Relocations of customers and of whole freighter routes to other satellites, and
        closures of satellites, with an estimated cost change (instance units), best first."""
        inst = self.inst
        loads = self.loads(state.assign)
        haul = 2 * inst.truck_cost_per_dist * self.dist[0, 1 : 1 + self.n_sat] / inst.truck_capacity
        per_unit = haul + self.handling
        c2 = inst.freighter_cost_per_dist
        arcs = [self._arcs(s, sub) for s, sub in enumerate(state.subs)]
        moves: list[tuple[float, Move]] = []
        for s, sub in enumerate(state.subs):
            for c in sub.unserved:
                for t in self._near(self.cust_point(c), s):
                    moves.append((-self.big, ("customer", c, t)))
            for r, route in enumerate(sub.routes):
                path = [self.sat_point(s), *(self.cust_point(x) for x in route), self.sat_point(s)]
                for pos, c in enumerate(route, start=1):
                    a, p, b = path[pos - 1], path[pos], path[pos + 1]
                    saving = c2 * float(self.dist[a, p] + self.dist[p, b] - self.dist[a, b])
                    if len(route) == 1:
                        saving += inst.freighter_fixed
                    d = int(self.demand[c])
                    for t in self._near(p, s):
                        loads[s] -= d
                        loads[t] += d
                        room = self.fits(loads)
                        count = self.budget(loads)[t]
                        loads[s] += d
                        loads[t] -= d
                        if not room:
                            continue
                        insert = self._insertion(arcs[t], p, d, len(state.subs[t].routes) < count)
                        if insert is None:
                            continue
                        change = c2 * insert - saving + (per_unit[t] - per_unit[s]) * d
                        moves.append((change, ("customer", c, t)))
                first, last = self.cust_point(route[0]), self.cust_point(route[-1])
                load = sum(int(self.demand[x]) for x in route)
                for t in self._near(first, s):
                    sp, tp = self.sat_point(s), self.sat_point(t)
                    change = (
                        c2
                        * float(
                            self.dist[tp, first]
                            + self.dist[last, tp]
                            - self.dist[sp, first]
                            - self.dist[last, sp]
                        )
                        + (per_unit[t] - per_unit[s]) * load
                    )
                    moves.append((change, ("route", r * self.n_sat + s, t)))
            if sub.routes:
                moves.append((0.0, ("close", s, -1)))
        moves.sort(key=lambda m: m[0])
        return moves

    def _near(self, point: int, exclude: int) -> list[int]:
        order = np.argsort(self.dist[point, 1 : 1 + self.n_sat], kind="stable")
        return [int(t) for t in order if t != exclude][:_NEAR]

    def _arcs(self, s: int, sub: Sub) -> tuple[IntArray, IntArray, IntArray]:
        """Arcs (from, to) of satellite s's routes with the load of each arc's route."""
        heads: list[int] = []
        tails: list[int] = []
        route_loads: list[int] = []
        for route in sub.routes:
            path = [self.sat_point(s), *(self.cust_point(x) for x in route), self.sat_point(s)]
            load = sum(int(self.demand[x]) for x in route)
            heads += path[:-1]
            tails += path[1:]
            route_loads += [load] * (len(path) - 1)
        home = np.array([self.sat_point(s)], dtype=np.int64)
        return (
            np.array(heads, dtype=np.int64) if heads else home[:0],
            np.array(tails, dtype=np.int64) if tails else home[:0],
            np.array(route_loads, dtype=np.int64) if route_loads else home[:0],
        )

    def _insertion(
        self, arcs: tuple[IntArray, IntArray, IntArray], p: int, demand: int, new_route: bool
    ) -> float | None:
        """Cheapest added length for point p in these arcs (capacity kept), or a new route
        from their satellite when allowed (its fixed cost in length units of c2 = 1)."""
        heads, tails, loads = arcs
        best: float | None = None
        ok = loads + demand <= self.inst.freighter_capacity
        if ok.any():
            delta = (
                self.dist[heads[ok], p] + self.dist[p, tails[ok]] - self.dist[heads[ok], tails[ok]]
            )
            best = float(delta.min())
        return best if not new_route else self._fresh(arcs, p, best)

    def _fresh(
        self, arcs: tuple[IntArray, IntArray, IntArray], p: int, best: float | None
    ) -> float | None:
        heads = arcs[0]
        if heads.size == 0:
            return best
        home = int(heads[0])
        c2 = self.inst.freighter_cost_per_dist
        fresh = 2 * float(self.dist[home, p]) + (self.inst.freighter_fixed / c2 if c2 > 0 else 0.0)
        return fresh if best is None else min(best, fresh)

    def apply(self, state: State, move: Move) -> State | None:
        """The state after `move`, or None when the fleet cannot carry the new loads."""
        kind, item, target = move
        assign = list(state.assign)
        changed: set[int] = set()
        if kind == "customer":
            changed = {assign[item], target}
            assign[item] = target
        elif kind == "route":
            s, r = item % self.n_sat, item // self.n_sat
            for c in state.subs[s].routes[r]:
                assign[c] = target
            changed = {s, target}
        else:
            loads = self.loads(assign)
            for c in sorted(
                (c for c in range(self.n_cust) if assign[c] == item),
                key=lambda c: -int(self.demand[c]),
            ):
                d = int(self.demand[c])
                for t in self._near(self.cust_point(c), item)[:_NEAR]:
                    loads[item] -= d
                    loads[t] += d
                    if self.fits(loads):
                        assign[c] = t
                        changed.add(t)
                        break
                    loads[item] += d
                    loads[t] -= d
            changed.add(item)
        if assign == state.assign or not self.fits(self.loads(assign)):
            return None
        return self.state(assign, state, frozenset(changed))

    def descend(self, state: State, stop_at: float) -> tuple[State, int, int]:
        """First-improvement descent over `candidates` until no move helps or time is up;
        returns the best state, moves evaluated and moves accepted."""
        evaluated = accepted = 0
        while time.monotonic() < stop_at:
            improved = False
            for _, move in self.candidates(state)[:_ROUND]:
                if time.monotonic() >= stop_at:
                    break
                new = self.apply(state, move)
                evaluated += 1
                if new is not None and new.score < state.score - 1e-9:
                    state, improved = new, True
                    accepted += 1
                    break
            if not improved:
                break
        return state, evaluated, accepted

    def polish(self, state: State) -> State:
        """Guided local search on each satellite (time shared by customers) and the trucks,
        warm-started from the current routes; keeps whatever is better."""
        members = [
            [c for c in range(self.n_cust) if state.assign[c] == s] for s in range(self.n_sat)
        ]
        count = self.budget(self.loads(state.assign))
        total = max(1, self.n_cust)
        budget = self.left()
        subs = []
        for s, sub in enumerate(state.subs):
            share = budget * 0.9 * len(members[s]) / total
            if not members[s] or share < 0.05:
                subs.append(sub)
                continue
            better = self.sub(
                s, members[s], count[s], sub.routes, "GUIDED_LOCAL_SEARCH", share, cache=False
            )
            keep = len(better.unserved) > len(sub.unserved) or (
                len(better.unserved) == len(sub.unserved) and better.cost >= sub.cost
            )
            subs.append(sub if keep else better)
        polished = self.finish(state.assign, subs, "GUIDED_LOCAL_SEARCH", max(0.05, self.left()))
        if polished.score > state.score - 1e-9:
            unchanged_first = self.finish(state.assign, subs, "GREEDY_DESCENT", 0.05)
            polished = min(unchanged_first, state, key=lambda st: st.score)
        return polished

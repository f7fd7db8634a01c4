"""Two-echelon CVRP (2E-CVRP) on textbook instances: reader, solver, validator, baseline.

Trucks carry goods from the depot to satellites (a satellite may be served by several trucks:
split deliveries); city freighters based at a satellite start and end there and serve the
customers, each customer by one freighter. Files use the unified format of Breunig, Schmid,
Hartl & Vidal (2016). Costs are in instance units, recomputed from the float coordinates in
double precision (the literature's convention): cost per distance times Euclidean length, plus
fixed costs per used vehicle, plus handling cost per unit passing through a satellite.

The solver decomposes: customers are assigned to satellites, each satellite's freighter routes
form one CVRP and the truck routes another, all solved by `optimizer.solver.solve` on integer
matrices (cost per distance times length times `scale`, rounded). Customers, whole freighter
routes and whole satellites are then moved between satellites while time remains (re-solving
only the satellites concerned), and the best assignment's routes are finally polished.

Modules: `model` (instance and solution), `reader` (the file format), `validate` (the
independent check), `decomposition` (exact evaluation of an assignment), `search` (moves,
descent, polish) and `solve` (the entry points).
"""

from optimizer.two_echelon.model import TwoEchelonInstance, TwoEchelonSolution
from optimizer.two_echelon.reader import read_2e
from optimizer.two_echelon.solve import SEEDS, solve_2e, solve_single_echelon
from optimizer.two_echelon.validate import validate_2e

__all__ = [
    "SEEDS",
    "TwoEchelonInstance",
    "TwoEchelonSolution",
    "read_2e",
    "solve_2e",
    "solve_single_echelon",
    "validate_2e",
]

"""Vehicle-routing models and solvers on OR-Tools (leaf package; integers only)."""

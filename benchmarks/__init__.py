"""Solver-quality runs and what-if scenarios."""

"""Planners' what-if scenarios: scenario files, the parallel sweep (local processes or a Dask
cluster), its resumable result store, the comparison table and charts. Imports nothing heavy:
dask lives in `cluster`, matplotlib in `charts`, both loaded when used."""

"""HTTP service (FastAPI) and the command line."""

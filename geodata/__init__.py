"""Road networks, service points, travel matrices and coordinates (leaf package)."""

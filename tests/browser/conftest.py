"""Fixtures of the browser tests: the embedded county, as the API tests have it."""

from tests.api.conftest import county

__all__ = ["county"]

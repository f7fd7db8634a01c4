"""Apply the Alembic migrations shipped in the package (works from an installed wheel too)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

_HERE = Path(__file__).resolve().parent


def alembic_config() -> Config:
    """The in-package Alembic configuration."""
    cfg = Config(str(_HERE / "alembic.ini"))
    cfg.set_main_option("script_location", str(_HERE / "migrations"))
    return cfg


def migrate(engine: Engine) -> None:
    """Bring the database at `engine` to the newest schema revision."""
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")

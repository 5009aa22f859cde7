"""Alembic migrations of the store's schema, shipped inside the package.

`narrowtune.store.Store` runs them on open (`upgrade head`) with a Config built in code, so no
alembic.ini is needed at run time. A new schema change is a new file in `versions/`, named
`NNNN_what.py`, whose `down_revision` is the previous head.
"""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config

HERE = Path(__file__).resolve().parent


def alembic_config() -> Config:
    """An Alembic Config pointing at this folder; the caller passes a connection in
    `config.attributes["connection"]`."""
    config = Config()
    # configparser interpolates '%', so a path containing one must be escaped.
    config.set_main_option("script_location", str(HERE).replace("%", "%%"))
    return config

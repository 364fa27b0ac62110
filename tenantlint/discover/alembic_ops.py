"""Alembic migration discovery (`op.create_table`, `op.create_index`, `sa.Table`)."""
from __future__ import annotations

DISCOVERERS: tuple = ()

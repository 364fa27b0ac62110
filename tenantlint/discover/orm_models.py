"""ORM model discovery (SQLAlchemy declarative, Django models) into ModelFacts."""
from __future__ import annotations

DISCOVERERS: tuple = ()

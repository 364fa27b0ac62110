"""`tenantlint db audit` against a real PostgreSQL: every seeded defect, exactly, and
nothing on the seed article's correctly secured schema."""
from __future__ import annotations

from tenantlint.db import DbSettings, audit


def found(diagnostics):
    return sorted((d.path, d.code) for d in diagnostics)


def test_smoke(defects):
    db, app = defects
    with db.connect(app) as conn:
        for d in audit(conn, DbSettings()):
            print(d.path, d.code, d.snippet, "|", d.message)
    assert 0

"""DDL inside Python strings (`op.execute("ALTER TABLE t ENABLE ROW LEVEL SECURITY")`,
Django `RunSQL`): the same facts as in `.sql` files, at the string's line."""
from __future__ import annotations

import ast
from typing import Iterable

from tenantlint.config import Settings
from tenantlint.discover.sql_files import facts_from_sql


class DdlStrings:
    triggers = (b"ROW LEVEL", b"row level", b"CREATE TABLE", b"create table", b"CREATE INDEX",
                b"create index", b"CREATE POLICY", b"create policy", b"CREATE UNIQUE", b"create unique")

    def discover(self, tree: ast.Module, path: str, module: str, settings: Settings) -> Iterable:
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and node.args):
                continue
            text = _fold(node.args[0])
            if text and any(k in text.upper() for k in ("ROW LEVEL", "CREATE TABLE", "CREATE INDEX",
                                                         "CREATE POLICY", "CREATE UNIQUE")):
                yield from facts_from_sql(text, path, settings, base_line=node.args[0].lineno, origin="python")


def _fold(node: ast.AST) -> str | None:
    """A literal string, or implicit/`+` concatenation of literals."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _fold(node.left), _fold(node.right)
        if left is not None and right is not None:
            return left + right
    return None


DISCOVERERS = (DdlStrings(),)

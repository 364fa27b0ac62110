"""Documents inserted into a tenant collection without their tenant field (TL203).

`db.notes.insert_one({...})`, `db["notes"].insert_many([...])`,
`db.get_collection("notes").insert_one(doc)` (pymongo and motor alike): the collection
is a tenant one when the catalog says so (`tenant-tables`, or a discovered tenant
collection; a module-level handle `notes = db.notes` is resolved through the catalog's
collection handles); the documents must carry a tenant column as a key. Documents whose keys
cannot be read (built elsewhere, filled in later) are left alone."""
from __future__ import annotations

import ast
from typing import Iterator

from tenantlint.writes.body import Body
from tenantlint.writes.keys import dict_keys, rows_keys
from tenantlint.writes.rows import Write

INSERTS = {"insert_one": "one", "insert_many": "many"}
COLLECTION_CALLS = frozenset({"get_collection", "collection"})


class DocumentWrites:
    def __init__(self, catalog, body: Body, imports=None) -> None:
        self.catalog = catalog
        self.body = body
        self.imports = imports

    def writes(self) -> Iterator[Write]:
        for call in self.body.calls:
            func = call.func
            if not isinstance(func, ast.Attribute) or func.attr not in INSERTS or not call.args:
                continue
            name = self._collection(func.value, 0)
            if name is None or not self.catalog.is_tenant_collection(name):
                continue
            table = self.catalog.tables.get(name.lower())
            columns = set(table.tenant_columns) if table is not None else set(self.catalog.tenant_columns)
            keys = dict_keys(call.args[0], self.body) if INSERTS[func.attr] == "one" else \
                rows_keys(call.args[0], self.body)
            if keys is not None and not columns & {k.lower() for k in keys}:
                yield Write(call, name)

    def _collection(self, node: ast.AST, depth: int) -> str | None:
        """The collection a receiver names: `db.notes`, `db["notes"]`,
        `db.get_collection("notes")`, or a local name bound once to one of those."""
        if depth > 3:
            return None
        if isinstance(node, ast.Name):
            values = self.body.values_of(node.id)
            if len(values) == 1:
                return self._collection(values[0], depth + 1)
            if values or self.imports is None:
                return None
            # a module-level handle, here or imported (`from app.db import notes`)
            return self.catalog.collection_handles.get(self.imports.qualify(node) or "")
        if isinstance(node, ast.Attribute) and isinstance(node.value, (ast.Name, ast.Attribute)):
            return node.attr
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and \
                isinstance(node.slice.value, str):
            return node.slice.value
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                node.func.attr in COLLECTION_CALLS and node.args and isinstance(node.args[0], ast.Constant) and \
                isinstance(node.args[0].value, str):
            return node.args[0].value
        return None

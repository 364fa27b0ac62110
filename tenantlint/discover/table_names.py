"""Table names held in constants: `__tablename__ = MODEL_VERSION_TABLENAME` (SQLAlchemy,
SQLModel) or `db_table = USERS_TABLE` (Django Meta).

A constant of the model's own module is resolved when the model is discovered. One
imported from another module of the project is recorded on the ModelFact
(`extra["table_ref"]`, its qualified name) and resolved once every file is known
(`resolve_table_refs`, part of the catalog pass): only the modules so named are read.
A name counts only when the module binds it once, at the top level, to a literal string
(or re-exports it by `from ... import`); anything else leaves the model without a table
name rather than inventing one."""
from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

from tenantlint.cache import stamp_before_read
from tenantlint.catalog import ModelFact
from tenantlint.files import module_name
from tenantlint.grammar import parse as parse_module
from tenantlint.source import decode, read_bytes
from tenantlint.string_constants import module_strings


def resolve_table_refs(paths: list[Path], rels: list[str], facts: list, memo=None) -> list:
    """`facts` with each ModelFact whose table name is an imported constant given that
    name, when the constant is found (following re-exports); the others unchanged."""
    wanted = [i for i, f in enumerate(facts) if isinstance(f, ModelFact) and f.table is None
              and isinstance(f.extra, dict) and f.extra.get("table_ref")]
    if not wanted:
        return facts
    modules: dict[str, list[tuple[Path, str]]] = {}
    for path, rel in zip(paths, rels):
        if path.suffix in (".py", ".pyi"):
            modules.setdefault(module_name(rel), []).append((path, rel))
    read: dict[str, tuple[dict, dict] | None] = {}

    def names_of(module: str) -> tuple[dict, dict] | None:
        if module not in read:
            found = modules.get(module)
            if found is None:  # an import written from another root: a unique dotted suffix
                matches = [m for m in modules if m.endswith("." + module)]
                found = modules[matches[0]] if len(matches) == 1 else None
            read[module] = _strings_of(*found[0], memo) if found and len(found) == 1 else None
        return read[module]

    def resolve(qualified: str, depth: int = 0) -> str | None:
        module, _, name = qualified.rpartition(".")
        found = names_of(module) if module and depth < 5 else None
        if found is None:
            return None
        strings, imported = found
        if name in strings:
            return strings[name]
        return resolve(imported[name], depth + 1) if name in imported else None

    out = list(facts)
    for i in wanted:
        table = resolve(facts[i].extra["table_ref"])
        if table:
            out[i] = replace(facts[i], table=table)
    return out


def _strings_of(path: Path, rel: str, memo) -> tuple[dict, dict] | None:
    key = f"{rel}\x00strings"
    cached = memo.lookup(path, key) if memo is not None else None
    if cached:
        return cached[0]
    before = stamp_before_read(path)
    raw = read_bytes(path, sys.maxsize)  # only files already found to define models come here
    try:
        if raw.data is None:
            raise OSError(raw.error)
        text = decode(raw.data).text
        if text is None:
            raise ValueError(path)
        tree = parse_module(text)
        found = module_strings(tree, module_name(rel))
    except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
        found = None
    if memo is not None:
        memo.record(path, key, [found], before)
    return found

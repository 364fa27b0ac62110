"""`tenantlint catalog`: what the catalog pass knows and where each fact came from.

It answers "why didn't it flag X?" when X's table or model is not known. The report
is a plain dict (the JSON output) built from the TenantCatalog: tenant tables and
models with their definitions, every other collection of located facts the catalog
holds (printed generically, so new kinds appear without changes here), global tables,
RLS state with the statements behind it, scope providers, escape hatches and
`allow-raw-connections` entries with the files they match."""
from __future__ import annotations

import json
from dataclasses import fields

from tenantlint.catalog import TenantCatalog
from tenantlint.config import Settings
from tenantlint.files import relative, walk
from tenantlint.rules.connections import allowed

# TenantCatalog fields described by a section of their own (or internal to the analysis).
_KNOWN = frozenset({"tenant_columns", "tables", "definitions", "models", "global_tables", "rls", "schema_facts",
                    "trusted_tables", "dialect", "gaps", "orm", "modules", "escapes", "indirect"})
_RLS_KINDS = {"enable_rls": "enabled", "force_rls": "forced", "disable_rls": "disabled",
              "no_force_rls": "no force", "policy": "policy"}


def _at(path: str, line: int) -> str:
    return f"{path}:{line}" if line else path


def describe(catalog: TenantCatalog, settings: Settings) -> dict:
    models_by_table: dict[str, list[str]] = {}
    for info in catalog.models.values():
        if info.table:
            models_by_table.setdefault(info.table, []).append(_at(info.path, info.line))
    configured = {t.lower().rsplit(".", 1)[-1] for t in settings.tenant_tables}
    tables = []
    for name in sorted(catalog.tables):
        sources = [f"{_at(d.path, d.line)} ({d.origin})" for d in catalog.definitions.get(name, ())]
        sources += [f"{where} (model)" for where in models_by_table.get(name, ())
                    if not any(s.startswith(where + " ") for s in sources)]
        if name in configured:
            sources.append("config tenant-tables")
        tables.append({"name": name, "tenant_columns": sorted(catalog.tables[name].tenant_columns),
                       "trusted": name in catalog.trusted_tables, "sources": sources})
    models = []
    for name in sorted(catalog.models):
        info = catalog.models[name]
        orm = catalog.orm.get(name)
        managers = dict(orm.managers) if orm is not None else {}
        models.append({"name": name, "qualname": info.qualname, "framework": info.framework, "table": info.table,
                       "tenant_columns": sorted(info.tenant_columns), "source": _at(info.path, info.line),
                       "scoped_managers": sorted(m for m, s in managers.items() if s),
                       "always_scoped": bool(orm and orm.always_scoped)})
    return {
        "root": str(settings.root),
        "tenant_columns": sorted(catalog.tenant_columns),
        "tenant_tables": tables,
        "tenant_models": models,
        # Tenant data through non-null foreign keys (tenantlint/foreign_keys.py).
        "parent_tables": [{"name": name, "chain": [f"{t}.{column} -> {parent}" for t, column, parent in chain]}
                          for name, chain in sorted(catalog.indirect.items())],
        **_other_collections(catalog),
        "other_tables": [{"name": name, "source": f"{_at(defs[0].path, defs[0].line)} ({defs[0].origin})"}
                         for name, defs in sorted(catalog.definitions.items())
                         if name not in catalog.tables and name not in catalog.global_tables and defs],
        "global_tables": _globals(catalog, settings),
        "rls": _rls(catalog),
        "scope_providers": [{"name": p, "source": "config scope-providers"} for p in settings.scope_providers],
        "escape_hatches": _escapes(catalog),
        "allow_raw_connections": _raw_connections(settings),
        "unreadable": [{"path": g.path, "line": g.line, "reason": g.reason} for g in catalog.gaps],
    }


def _other_collections(catalog: TenantCatalog) -> dict:
    """Any other mapping or list of located facts the catalog holds (collections,
    indexes, chains...): name and path:line of each entry."""
    out = {}
    for f in fields(catalog):
        if f.name in _KNOWN:
            continue
        value = getattr(catalog, f.name)
        items = value.items() if isinstance(value, dict) else \
            ((getattr(v, "name", ""), v) for v in value) if isinstance(value, (list, tuple, set, frozenset)) else ()
        rows = []
        for key, item in sorted(items, key=lambda kv: str(kv[0])):
            path, line = getattr(item, "path", None), getattr(item, "line", 0)
            if path is None:
                continue
            rows.append({"name": str(key or getattr(item, "name", "")), "source": _at(path, line)})
        if rows:
            out[f.name] = rows
    return out


def _globals(catalog: TenantCatalog, settings: Settings) -> list[dict]:
    listed = {g.lower().rsplit(".", 1)[-1]: g for g in settings.global_tables}
    out = []
    for name in sorted(catalog.global_tables):
        source = "config global-tables" if name in listed else "config global-tables (as a model name)"
        out.append({"name": name, "source": source})
    return out


def _rls(catalog: TenantCatalog) -> list[dict]:
    evidence: dict[str, list[str]] = {}
    for fact in catalog.schema_facts:
        if fact.ddl.kind in _RLS_KINDS:
            table = fact.ddl.table.lower().rsplit(".", 1)[-1].strip('"`[]')
            evidence.setdefault(table, []).append(f"{_RLS_KINDS[fact.ddl.kind]} at {_at(fact.path, fact.line)}")
    out = []
    for name in sorted(set(catalog.rls) & set(catalog.tables)):
        state = catalog.rls[name]
        out.append({"table": name, "enabled": state.enabled and not state.disabled,
                    "forced": state.forced and not state.unforced, "tenant_policy": state.tenant_policy,
                    "with_check": state.policy_with_check, "trusted": name in catalog.trusted_tables,
                    "statements": evidence.get(name, [])})
    return out


def _escapes(catalog: TenantCatalog) -> list[dict]:
    out = [{"kind": e.kind, "source": _at(e.path, e.line), "detail": e.detail, "reason": e.reason}
           for e in sorted(catalog.escapes, key=lambda e: (e.kind, e.path, e.line))]
    for name in sorted(catalog.orm):
        orm = catalog.orm[name]
        info = catalog.models.get(name)
        if info is None or not any(orm.managers.values()):
            continue  # a plain manager is an escape only beside a scoped one
        for manager in sorted(m for m, scoped in orm.managers.items() if not scoped):
            out.append({"kind": "plain_manager", "source": _at(info.path, info.line),
                        "detail": f"{name}.{manager}", "reason": ""})
    return out


def _raw_connections(settings: Settings) -> list[dict]:
    if not settings.allow_raw_connections:
        return []
    files = [relative(p, settings.root) for p in walk(settings.root, settings) if p.suffix in (".py", ".pyi")]
    return [{"entry": entry, "matches": [f for f in files if allowed(f, [entry])]}
            for entry in settings.allow_raw_connections]


def render_json(description: dict) -> str:
    return json.dumps({"version": 1, **description}, indent=2) + "\n"


def render_text(d: dict) -> str:
    out = [f"project root: {d['root']}", f"tenant columns: {', '.join(d['tenant_columns'])}"]

    def section(title: str, rows: list[str]) -> None:
        out.append(f"\n{title} ({len(rows)})")
        out.extend(f"  {row}" for row in rows)

    section("tenant tables", [f"{t['name']} [{', '.join(t['tenant_columns'])}]"
                              f"{' (RLS-trusted)' if t['trusted'] else ''}: {'; '.join(t['sources']) or 'config'}"
                              for t in d["tenant_tables"]])
    section("tenant models", [
        f"{m['name']} ({m['framework']}, table {m['table'] or '?'}) [{', '.join(m['tenant_columns'])}]: {m['source']}"
        + (f"; scoped managers: {', '.join(m['scoped_managers'])}" if m["scoped_managers"] else "")
        + ("; always scoped" if m["always_scoped"] else "") for m in d["tenant_models"]])
    section("tenant tables through a parent (non-null foreign keys)",
            [f"{t['name']}: {', '.join(t['chain'])}" for t in d["parent_tables"]])
    for key, rows in d.items():
        if isinstance(rows, list) and key not in _PRINTED and rows and "source" in rows[0]:
            section(key.replace("_", " "), [f"{r['name']}: {r['source']}" for r in rows])
    section("global tables", [f"{g['name']}: {g['source']}" for g in d["global_tables"]])
    section("other tables (no tenant column: never judged)", [f"{t['name']}: {t['source']}" for t in d["other_tables"]])
    section("row-level security", [
        f"{r['table']}: " + ", ".join(k for k in ("enabled", "forced", "tenant_policy", "with_check") if r[k])
        + (" (trusted)" if r["trusted"] else "") + (f" [{'; '.join(r['statements'])}]" if r["statements"] else "")
        for r in d["rls"] if r["statements"]])
    section("scope providers", [f"{p['name']}: {p['source']}" for p in d["scope_providers"]])
    section("escape hatches", [
        f"{e['kind']} {e['detail']}: {e['source']}" + (f" - {e['reason']}" if e["reason"] else
                                                       " - no reason given" if e["kind"] == "suppression" else "")
        for e in d["escape_hatches"]])
    section("allow-raw-connections", [f"{r['entry']}: {', '.join(r['matches']) or 'matches no file'}"
                                      for r in d["allow_raw_connections"]])
    if d["unreadable"]:
        section("unreadable (the catalog may be incomplete)",
                [f"{u['path']}:{u['line']}: {u['reason']}" for u in d["unreadable"]])
    return "\n".join(out) + "\n"


_PRINTED = frozenset({"other_tables", "tenant_tables", "tenant_models", "parent_tables", "global_tables", "rls", "scope_providers", "escape_hatches",
                      "allow_raw_connections", "unreadable", "tenant_columns"})

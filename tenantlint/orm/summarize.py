"""The catalog pass's last step: a summary of every project function that touches a
tenant model (tenantlint.orm.summaries), computed once the tenant models are known.

Which functions get one, in rounds of helpers calling helpers, is the Builder's work
(tenantlint.orm.summary_builder); what a function's summary is, by following it with
the ORM checker's own flow, is tenantlint.orm.summary_of's. Both start from the catalog
pass's function facts (tenantlint.discover.functions): a file is parsed here only when
one of its functions may have a summary, and callers are found in the call facts.

The result is cached as one entry keyed by the catalog and the state (`stat`) of every
Python file of the project: a warm run reads no file for it. After a change only the
changed files are summarized again, when what they offer to other files is unchanged
(Builder.update); otherwise everything is recomputed."""
from __future__ import annotations

from pathlib import Path
from typing import Mapping

from tenantlint.cache import _stamp, stable_digest
from tenantlint.callgraph import ModuleFunctions
from tenantlint.orm.summaries import FunctionIndex, short
from tenantlint.orm.summary_builder import Builder, Saved


def model_ancestors(facts, tenant_models) -> dict[str, frozenset[str]]:
    """ORM class (short name) -> the tenant models that are it or derive from it: what
    `cls` stands for in its classmethods, from the ORM discoverers' facts. Every ORM
    class has an entry (empty for a global model: a call through it reads no tenant model)."""
    by_name: dict[str, set[str]] = {}
    for fact in facts:
        by_name.setdefault(fact.name, set()).update(short(b) for b in fact.bases)
    def lineage(name: str) -> set[str]:
        seen, todo = {name}, [name]
        while todo:
            for base in by_name.get(todo.pop(), ()):
                if base not in seen:
                    seen.add(base)
                    todo.append(base)
        return seen

    out: dict[str, set[str]] = {}
    for model in tenant_models:
        for name in lineage(model):
            out.setdefault(name, set()).add(model)
    # A class sharing an ancestor with tenant models is a model class too (a global one
    # has no tenant model: a call through it reads none); any other class, no entry.
    for name in by_name:
        if name not in out and lineage(name) & set(out):
            out[name] = set()
    return {name: frozenset(models) for name, models in out.items()}


def build_function_index(paths: list[Path], rels: list[str], catalog, settings, memo=None,
                         ancestors: dict[str, frozenset[str]] | None = None,
                         modules: Mapping[str, ModuleFunctions] | None = None, jobs: int = 1) -> FunctionIndex:
    """`modules`: the function facts of the project's files, by relative path; `jobs` > 1
    lets a forked copy summarize half of the files meanwhile."""
    if not catalog.models:
        return FunctionIndex()
    pys = [(p, r) for p, r in zip(paths, rels) if p.suffix in (".py", ".pyi")]
    key = None
    if memo is not None and getattr(memo, "store", None) is not None and memo.store.usable:
        key = stable_digest((memo.key, catalog.tenant_columns, catalog.models, catalog.orm, catalog.global_tables,
                             ancestors))
    stamps = {r: _stamp(p) for p, r in pys}
    prev = memo.store.load("summaries", key) if key is not None else None
    if isinstance(prev, Saved) and prev.stamps == stamps:
        return prev.index
    modules = modules or {}
    builder = Builder(pys, modules, catalog, settings, ancestors, jobs)
    index = builder.update(prev, stamps) if isinstance(prev, Saved) else None
    if index is None:
        builder = Builder(pys, modules, catalog, settings, ancestors, jobs)
        index = builder.build()
    if key is not None:
        memo.store.save("summaries", key, Saved(stamps, index, builder.entries(prev, index)))
    return index

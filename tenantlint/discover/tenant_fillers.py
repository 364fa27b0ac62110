"""Models that fill in their own tenant when a row is written, found in the catalog pass.

A row created without its tenant is TL203, unless the model sets it itself:

* its `save()`/`asave()`/`__init__()` (or an ancestor's) assigns `self.<tenant>`
  (`if not self.organizer_id: self.organizer_id = self.event.organizer_id`);
* its tenant field or column has a default (`default=current_tenant_id`,
  `server_default=...`);
* a `pre_save` receiver (`@receiver(pre_save, sender=Model)`) or a SQLAlchemy
  `before_insert` listener (`@event.listens_for(Model, "before_insert")`) assigns
  `<instance>.<tenant>`.

Classes are matched by name across files; `TenantCatalog.tenant_filled` holds the tenant
models that are filled so, directly or through an ancestor."""
from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Iterable

from tenantlint.config import Settings
from tenantlint.names import child_statements, dotted

FILLING_METHODS = frozenset({"save", "asave", "__init__", "pre_save", "before_insert"})
LISTENER_EVENTS = frozenset({"before_insert", "pre_save", "init"})


@dataclass(frozen=True)
class TenantFillerFact:
    path: str
    classes: tuple[str, ...]  # class names (of this file, or named as senders) that fill the tenant


class TenantFillers:
    triggers = (b"def save", b"def asave", b"def __init__", b"default=", b"before_insert", b"pre_save")
    gaps = False

    def discover(self, tree: ast.Module, path: str, module: str, settings: Settings) -> Iterable[TenantFillerFact]:
        columns = {c.lower() for c in settings.tenant_columns}
        names = columns | {c[:-3] for c in columns if c.endswith("_id") and len(c) > 3}
        found: list[str] = []
        for stmt in tree.body:
            if isinstance(stmt, ast.ClassDef) and _class_fills(stmt, names):
                found.append(stmt.name)
            elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found.extend(_listener_targets(stmt, names))
        if found:
            yield TenantFillerFact(path, tuple(sorted(set(found))))


def _class_fills(cls: ast.ClassDef, names: set[str]) -> bool:
    for stmt in cls.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.name in FILLING_METHODS:
            first = stmt.args.posonlyargs[:1] or stmt.args.args[:1]
            if first and _assigns(stmt, first[0].arg, names):
                return True
        target = stmt.targets[0] if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 else \
            stmt.target if isinstance(stmt, ast.AnnAssign) else None
        if isinstance(target, ast.Name) and target.id.lower() in names and isinstance(stmt.value, ast.Call) and \
                any(k.arg in ("default", "server_default", "insert_default") for k in stmt.value.keywords):
            return True
    return False


def _listener_targets(func, names: set[str]) -> list[str]:
    """`@receiver(pre_save, sender=Model)` / `@event.listens_for(Model, "before_insert")`
    functions that assign the tenant on the instance they get."""
    targets = []
    for decorator in func.decorator_list:
        if not isinstance(decorator, ast.Call):
            continue
        name = (dotted(decorator.func) or "").rsplit(".", 1)[-1]
        if name == "receiver" and decorator.args and \
                (dotted(decorator.args[0]) or "").rsplit(".", 1)[-1] in LISTENER_EVENTS:
            sender = next((k.value for k in decorator.keywords if k.arg == "sender"), None)
            instance = next((a.arg for a in func.args.args if a.arg == "instance"), None)
        elif name == "listens_for" and len(decorator.args) >= 2 and isinstance(decorator.args[1], ast.Constant) \
                and decorator.args[1].value in LISTENER_EVENTS:
            sender = decorator.args[0]
            params = [a.arg for a in func.args.args]
            instance = params[2] if len(params) >= 3 else (params[0] if params else None)
        else:
            continue
        model = (dotted(sender) or "").rsplit(".", 1)[-1] if sender is not None else ""
        if model and instance and _assigns(func, instance, names):
            targets.append(model)
    return targets


def _assigns(func, owner: str, names: set[str]) -> bool:
    """Does the function assign `<owner>.<tenant name>` in some statement?"""
    stack = list(func.body)
    while stack:  # statements only: an assignment is never inside an expression
        node = stack.pop()
        stack.extend(child_statements(node))
        targets = node.targets if isinstance(node, ast.Assign) else \
            [node.target] if isinstance(node, (ast.AnnAssign, ast.AugAssign)) else []
        for target in targets:
            if isinstance(target, ast.Attribute) and target.attr.lower() in names and \
                    isinstance(target.value, ast.Name) and target.value.id == owner:
                return True
    return False


def filled_models(facts: Iterable[TenantFillerFact], model_facts: Iterable, tenant_models: Iterable[str]) \
        -> frozenset[str]:
    """Tenant models whose class, or an ancestor (by class name), fills the tenant."""
    fillers = {name for fact in facts for name in fact.classes}
    if not fillers:
        return frozenset()
    bases: dict[str, set[str]] = {}
    for fact in model_facts:
        bases.setdefault(fact.name, set()).update(b.rsplit(".", 1)[-1] for b in fact.bases)
    out = set()
    for model in tenant_models:
        seen, todo = {model}, [model]
        while todo:
            name = todo.pop()
            if name in fillers:
                out.add(model)
                break
            for base in bases.get(name, ()):
                if base not in seen:
                    seen.add(base)
                    todo.append(base)
    return frozenset(out)


DISCOVERERS: tuple = (TenantFillers(),)

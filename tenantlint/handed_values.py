"""What a function is handed that it may trust (SPEC "Indirect tenancy and trusted ids"),
for tenantlint/id_origin.py inside one function of the file being checked:

- `passed(name)`: a parameter, never rebound in the body, that every call in the
  project fills with a trusted value (tenantlint/caller_trust.py);
- `subject(name)`: the models of the row a function is about, which was loaded (and
  judged) where it was loaded and is one row of one tenant: `self` in a method of a
  model class (`ProjectMember.objects.filter(project=self)`), and the `instance` of a
  Django signal receiver (`@receiver(post_save, sender=MLBackend)`, or
  `post_save.connect(fn, sender=MLBackend)` in the same module)."""
from __future__ import annotations

import ast

from tenantlint.names import dotted

_FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef)
_INSTANCE = "instance"  # the keyword a Django signal hands its row by


class HandedValues:
    """The answers for one file (`ctx`: its FileContext)."""

    def __init__(self, ctx) -> None:
        self.ctx = ctx
        self._owners: dict[int, ast.ClassDef] | None = None
        self._connected: dict[str, str] | None = None

    def callbacks(self, func) -> dict:
        """`passed` and `subject` keyword arguments of id_origin.IdOrigin for `func`."""
        if not isinstance(func, _FUNCS):
            return {}
        return {"passed": lambda name: self.passed(func, name), "subject": lambda name: self.subject(func, name)}

    def passed(self, func, name: str) -> bool:
        if getattr(self.ctx, "summarizing", False):
            return False  # a summary is cached with its file: it must not depend on the callers'
        trust = getattr(self.ctx.catalog, "caller_trust", None)
        qualified = self._qualified(func)
        if trust is None or qualified is None or name not in _parameters(func):
            return False
        if id(func) in self._owner_map() and _first(func) == name:
            return False  # `self` / `cls`: not filled by an argument
        if self.ctx.tenant_sources.function(func).assigned.get(name):
            return False  # rebound in the body: not what the callers passed
        found = self.ctx.caller_answers[(qualified, name)] = trust.trusted(qualified, name)
        return found

    def subject(self, func, name: str) -> frozenset[str] | None:
        if self.ctx.tenant_sources.function(func).assigned.get(name):
            return None
        owner = self._owner_map().get(id(func))
        positional = [a.arg for a in (*func.args.posonlyargs, *func.args.args)]
        if owner is not None:
            if positional[:1] == [name] and self._is_model(owner.name) and \
                    not any(dotted(d) in ("staticmethod", "classmethod") for d in func.decorator_list):
                return frozenset({owner.name})
            return None
        if name != _INSTANCE or name not in (*positional, *(a.arg for a in func.args.kwonlyargs)):
            return None
        sender = self._sender(func)
        return frozenset({sender}) if sender and self._is_model(sender) else None

    # -- helpers -------------------------------------------------------------------------------
    def _is_model(self, name: str) -> bool:
        catalog = self.ctx.catalog
        return name in catalog.models or name in getattr(catalog, "other_models", {})

    def _sender(self, func) -> str | None:
        """The model a signal receiver is connected for (`sender=Model`)."""
        for decorator in func.decorator_list:
            if isinstance(decorator, ast.Call) and (dotted(decorator.func) or "").rsplit(".", 1)[-1] == "receiver":
                sender = _sender_of(decorator)
                if sender:
                    return sender
        return self._connections().get(func.name)

    def _connections(self) -> dict[str, str]:
        """function name -> model of `signal.connect(function, sender=Model)` at module level."""
        if self._connected is None:
            self._connected = {}
            for stmt in self.ctx.module.body if self.ctx.module is not None else ():
                call = stmt.value if isinstance(stmt, ast.Expr) else None
                if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and \
                        call.func.attr == "connect" and call.args and isinstance(call.args[0], ast.Name):
                    sender = _sender_of(call)
                    if sender:
                        self._connected[call.args[0].id] = sender
        return self._connected

    def _owner_map(self) -> dict[int, ast.ClassDef]:
        if self._owners is None:
            module = self.ctx.module
            self._owners = {id(fn): cls for cls in (module.body if module is not None else ())
                            if isinstance(cls, ast.ClassDef) for fn in cls.body if isinstance(fn, _FUNCS)}
        return self._owners

    def _qualified(self, func) -> str | None:
        """The catalog's name of a module-level function or a method of a module-level class."""
        module, prefix = self.ctx.module, self.ctx.module_name
        if module is None or not prefix:
            return None
        owner = self._owner_map().get(id(func))
        if owner is not None:
            return f"{prefix}.{owner.name}.{func.name}"
        return f"{prefix}.{func.name}" if any(stmt is func for stmt in module.body) else None


def _first(func) -> str | None:
    positional = [*func.args.posonlyargs, *func.args.args]
    return positional[0].arg if positional else None


def _parameters(func) -> set[str]:
    args = func.args
    return {a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)}


def _sender_of(call: ast.Call) -> str | None:
    sender = next((k.value for k in call.keywords if k.arg == "sender"), None)
    name = dotted(sender) if sender is not None else None
    return name.rsplit(".", 1)[-1] if name else None

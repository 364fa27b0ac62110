"""Django lookups on a table that is tenant data through its parent (tenantlint/
foreign_keys.py): the query is scoped when a lookup follows the chain up to a tenant
lookup (`conversation__bot__workspace=ws`), or equates a parent key or the row's own key
with a trusted value (`conversation_id=conv.id` after `conv` was loaded under scope,
`conversation=conv`, `pk=id` of an id just verified). Which values are trusted is
orm/provenance.py's answer; an object already in hand (`self.conversation_id`,
`message.conversation`) counts as it does for a re-fetch by `pk`."""
from __future__ import annotations

import ast

from tenantlint.names import dotted
from tenantlint.orm.pyast import lookup_is_tenant

PRIMARY_KEYS = ("id", "pk")
# Lookup suffixes that compare the value itself (`conversation_id__exact=x`).
_EXACT = ("exact", "in")
UNTRUSTED_PARTS = {"request", "data", "GET", "POST", "query_params", "kwargs", "validated_data", "cleaned_data",
                   "args", "params", "json", "form"}


class ParentKeys:
    def __init__(self, models, provenance) -> None:
        self.models = models
        self.provenance = provenance

    def indirect(self, model: str) -> bool:
        info = self.models.info(model)
        return bool(info is not None and not info.tenant_columns and info.extra.get("chain"))

    def lookup(self, model: str, key: str, value, flow) -> bool:
        """Does the lookup `key=value` scope a query on `model` through its parents?"""
        if not self.indirect(model):
            return False
        parts = key.split("__")
        if parts[-1] in _EXACT and len(parts) > 1:
            parts = parts[:-1]
        current = model
        for i, part in enumerate(parts):
            info = self.models.info(current)
            if info is None:
                return False
            if info.tenant_columns:  # reached a tenant model: the rest is a lookup on it
                return lookup_is_tenant("__".join(parts[i:]), info.tenant_columns, info.tenant_relations) \
                    and not parts[-1] == "isnull"
            links = info.extra.get("links", {})
            last = i == len(parts) - 1
            if part in links:
                if last:  # `conversation=conv`: the parent row itself
                    return self.trusted(value, flow, part)
                current = links[part]
                continue
            if last and (part in PRIMARY_KEYS or part.endswith("_id") and part[:-3] in links):
                return self.trusted(value, flow, part)
            return False
        return False

    def source(self, model: str, args, flow) -> str | None:
        """Where the id of an id or parent-key lookup on `model` comes from, when untrusted."""
        if self.provenance is None or not self.indirect(model):
            return None
        links = self.models.info(model).extra.get("links", {})
        for arg in args:
            parts = (arg.keyword or "").split("__")
            if parts[-1] in _EXACT and len(parts) > 1:
                parts = parts[:-1]
            key = parts[0]
            if len(parts) == 2 and key in links and parts[1] in PRIMARY_KEYS or len(parts) == 1 and (
                    key in PRIMARY_KEYS or key in links or key.endswith("_id") and key[:-3] in links):
                found = self.provenance.source(arg.value, flow)
                if found:
                    return found
        return None

    def trusted(self, value, flow, field: str) -> bool:
        if self.provenance is not None and (self.provenance.trusted(value, flow) or
                                            self.provenance.row(value, flow) is not None):
            return True
        return object_in_hand(value, field)


def object_in_hand(value, field: str = "") -> bool:
    """`instance.id`, `self.project.pk`, `task.project_id` (and, for a relation `field`,
    `message.conversation`): a key of an object already loaded (judged where it was
    loaded), not one that came with the request."""
    chain = dotted(value) if isinstance(value, ast.Attribute) else None
    if chain is None:
        return False
    parts = chain.split(".")
    if UNTRUSTED_PARTS.intersection(parts):
        return False
    last = parts[-1]
    stem = field[:-3] if field.endswith("_id") else field
    return last in PRIMARY_KEYS or last.endswith("_id") or bool(stem) and last == stem

"""What web frameworks hand a view from the client, as data: `rules/request_input/*.toml`
(shipped as `tenantlint/_packs/request_input`). `tenantlint.tenant_sources` reads it to
tell request input from the authenticated tenant; a framework is supported by a file
there, not by code."""
from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from tenantlint.packs import PackError, packs_dir

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

_KEYS = ("names", "attributes", "methods", "objects", "parameters", "tenant-roots", "tenant-objects")


@dataclass(frozen=True)
class RequestKnowledge:
    names: frozenset[str]  # receivers that are the request (`request`, `self.request`)
    attributes: frozenset[str]  # their attributes holding client data (`GET`, `args`)
    methods: frozenset[str]  # their methods returning client data (`get_json()`, `json()`)
    objects: frozenset[str]  # context-global requests, qualified (`flask.request`)
    parameters: frozenset[str]  # parameter markers (`Query(...)`)
    tenant_roots: frozenset[str]  # objects whose attributes may carry the tenant (`request`, `g`)
    tenant_objects: frozenset[str]  # the same, qualified (`flask.g`)

    @property
    def words(self) -> frozenset[str]:
        """Words without which no request input can be read in a file: the request's
        names, the context-global requests' names, the parameter markers."""
        return self.names | self.parameters | frozenset(o.rsplit(".", 1)[-1] for o in self.objects)


@lru_cache(maxsize=4)
def request_knowledge(folder: Path | None = None) -> RequestKnowledge:
    folder = folder or packs_dir() / "request_input"
    merged: dict[str, set[str]] = {key: set() for key in _KEYS}
    for path in sorted(folder.glob("*.toml")):
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise PackError(f"request pack {path.name}: {exc}") from None
        section = data.get("request")
        if not isinstance(section, dict) or set(section) - set(_KEYS):
            raise PackError(f"request pack {path.name}: expected a [request] table with {', '.join(_KEYS)}")
        for key, value in section.items():
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise PackError(f"request pack {path.name}: `{key}` must be a list of strings")
            merged[key].update(value)
    return RequestKnowledge(*(frozenset(merged[key]) for key in _KEYS))

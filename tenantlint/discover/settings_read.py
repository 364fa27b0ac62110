"""Custom settings the project reads with `current_setting('app.x')`, in Python strings
and `.sql` files: such a setting carries the tenant (a policy or a query scopes by it),
so setting it for the session is TL105 whatever its name."""
from __future__ import annotations

import ast
import re
from typing import Iterable

from tenantlint.catalog import SettingRead
from tenantlint.config import Settings

_READ = re.compile(r"""current_setting\s*\(\s*['"]([A-Za-z_][\w$]*(?:\.[A-Za-z_][\w$]*)+)['"]""", re.I)


def reads_in(text: str, path: str) -> Iterable[SettingRead]:
    if "current_setting" not in text.lower():
        return
    for match in _READ.finditer(text):
        yield SettingRead(match.group(1).lower(), path, text.count("\n", 0, match.start()) + 1)


class SettingsRead:
    triggers = (b"current_setting", b"CURRENT_SETTING")
    wants_source = True
    gaps = False

    def discover(self, tree: ast.Module, path: str, module: str, settings: Settings, *,
                 source: str) -> Iterable[SettingRead]:
        return reads_in(source, path)


DISCOVERERS = (SettingsRead(),)

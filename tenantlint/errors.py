"""Errors that are ours, not the user's."""
from __future__ import annotations


class InternalError(Exception):
    """A bug in tenantlint itself (a checker crashed): the CLI fails loudly (exit 2)
    rather than passing with findings silently dropped."""

"""Formatters: pure functions from a Report to text. One module per format."""
from __future__ import annotations

from importlib import import_module

from tenantlint.diagnostics import Report

FORMATS = ("text", "json", "sarif", "github")


def render(report: Report, fmt: str, *, color: bool = False, statistics: bool = False, quiet: bool = False) -> str:
    module = import_module(f"tenantlint.output.{fmt}_format")
    return module.render(report, color=color, statistics=statistics, quiet=quiet)

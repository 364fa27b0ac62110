"""`.sql` files: each statement goes through the same analysis as SQL in Python."""
from __future__ import annotations

from tenantlint.catalog import TenantCatalog
from tenantlint.config import Settings
from tenantlint.context import FileContext
from tenantlint.diagnostics import Diagnostic
from tenantlint.discover.sql_files import _skip_space
from tenantlint.sql.types import SqlText
from tenantlint.trace import Recorder


def check_sql_file(text: str, rel: str, settings: Settings, catalog: TenantCatalog,
                   trace: Recorder | None = None) -> list[Diagnostic]:
    from tenantlint.sql import analyze_sql, split_statements
    from tenantlint.sql.statements import untokenizable

    ctx = FileContext(path=rel, source=text, settings=settings, catalog=catalog)
    ctx.trace = trace
    policy = catalog.sql_policy()
    for offset in untokenizable(text, settings.dialect):
        line = ctx.line_of_offset(offset)
        ctx.report("TL001", "this SQL does not tokenize (an unterminated quote or dollar-quoted body?): "
                   "its statements are not analyzed", line, 1, line, 1, suppress_lines=(line, line))
    for offset, statement in split_statements(text, settings.dialect):
        notes = [] if trace is not None else None
        issues = analyze_sql(SqlText(statement), policy, notes=notes) or []
        start = _skip_space(text, offset)
        line = ctx.line_of_offset(start)
        end_line = ctx.line_of_offset(offset + len(statement.rstrip()))
        for table, verdict, reason in notes or ():
            ctx.decide((line, end_line), "sql", table, verdict, reason)
        if not issues:
            continue
        column = start - text.rfind("\n", 0, start)
        for issue in issues:
            ctx.report(issue.code, issue.message, line, column, end_line, 1,
                       snippet=statement, suppress_lines=(line, max(line, end_line)))
    return ctx.diagnostics

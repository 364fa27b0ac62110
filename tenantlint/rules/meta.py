"""Rules about the scan itself: files it cannot read, scopes it cannot decide, suppressions."""
from __future__ import annotations

from tenantlint.diagnostics import Severity
from tenantlint.rulebase import Rule


class ParseError(Rule):
    """
    ## What it does
    Reports a file that tenantlint could not decode or parse: a syntax error, bytes that
    are not valid in the file's encoding, NUL bytes or binary content, code nested too
    deeply to analyze, or a file over `max-file-size`. Python is read with the grammar of
    the interpreter tenantlint runs on: syntax newer than it (a 3.12 `type` statement
    under Python 3.11) is a syntax error here.

    ## Why is this bad?
    A file that is not analyzed is not checked. A security gate fails closed: rather
    than skipping the file silently, the scan reports it and goes on with the others.

    ## Example
    ```python
    def broken(:
        pass
    ```

    ## Use instead
    ```python
    def fixed():
        pass
    ```

    ## How to fix
    Fix the syntax or encoding (add a `# -*- coding: ... -*-` cookie for non-UTF-8
    files), run tenantlint on the newest Python your code targets, or exclude generated
    and template files with `extend-exclude`.
    """

    code = "TL001"
    name = "parse-error"
    severity = Severity.ERROR
    summary = "a file that cannot be decoded or parsed"
    precision = "very-high"
    security_severity = "3.1"


class UnverifiableScope(Rule):
    """
    ## What it does
    Reports a query whose tenant scope cannot be decided statically: SQL that names a
    tenant table and its tenant column but does not parse, SQL whose filter is an
    interpolated fragment (`WHERE {filter}`), or an ORM filter passed opaquely
    (`filter(q)`, `filter(**kwargs)`, `where(*conds)`).

    ## Why is this bad?
    Uncertain is not clean. If the fragment built elsewhere forgets the tenant, the query
    reads every tenant's rows, and no reviewer of this line can tell.

    ## Example
    ```python
    def search(cur, where_clause):
        cur.execute("SELECT * FROM orders WHERE {}".format(where_clause))
    ```

    ## Use instead
    ```python
    def search(cur, tenant_id, where_clause):
        cur.execute("SELECT * FROM orders WHERE tenant_id = %s AND {}".format(where_clause), (tenant_id,))
    ```

    ## How to fix
    Put the tenant predicate in the visible part of the query, or suppress with a reason
    that says where the fragment's tenant predicate comes from.
    """

    code = "TL002"
    name = "unverifiable-scope"
    severity = Severity.WARNING
    summary = "a query whose tenant scope cannot be decided statically"
    precision = "low"


class BadSuppression(Rule):
    """
    ## What it does
    Reports a `# tenantlint: ignore[...]` comment that silences nothing (with
    `--warn-unused-ignores`), or that gives no reason when `require-reason = true`.

    ## Why is this bad?
    Stale suppressions hide the next real finding on that line; suppressions without a
    reason cannot be reviewed.

    ## Example
    ```python
    def platform_metrics(cur):
        cur.execute("SELECT count(*) FROM orders")  # tenantlint: ignore[TL101]
    ```

    ## Use instead
    ```python
    def platform_metrics(cur):
        cur.execute("SELECT count(*) FROM orders")  # tenantlint: ignore[TL101] platform-wide metric, admin only
    ```

    ## How to fix
    Remove the unused comment, or add the reason after the bracket.
    """

    code = "TL003"
    name = "bad-suppression"
    severity = Severity.WARNING
    summary = "a suppression that silences nothing or gives no reason"
    precision = "very-high"
    security_severity = "2.0"
    example_config = {"require-reason": True}

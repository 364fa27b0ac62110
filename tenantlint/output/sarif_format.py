"""SARIF 2.1.0 for GitHub code scanning (and any other SARIF consumer).

What GitHub needs and this gives: relative artifact URIs with `uriBaseId: %SRCROOT%`
(resolved against the checkout), every rule with `shortDescription`,
`fullDescription`, `help.text`/`help.markdown` (the `tenantlint explain` docs),
`properties.security-severity` (a number as a string: 7.0-8.9 shows as "high"),
`precision` and tags (`security`, `CWE-639`), and `partialFingerprints` taken from
the line-independent diagnostic fingerprint, so an alert survives unrelated lines
moving. Suppressed findings never reach a Report, so they are never in the log."""
from __future__ import annotations

import json
import re
from urllib.parse import quote

from tenantlint import __version__
from tenantlint.diagnostics import Report, Severity
from tenantlint.output.encoding import encode
from tenantlint.rules import RULES

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "tenantlint/v1"

# GitHub maps security-severity to critical (>= 9.0), high (7.0-8.9), medium (4.0-6.9), low.
_SECURITY_SEVERITY = {Severity.ERROR: "8.1", Severity.WARNING: "5.3"}


def _first_paragraph(markdown: str, section: str = "What it does") -> str:
    match = re.search(rf"^## {re.escape(section)}\s*\n(.*?)(?:\n\s*\n|\n## |\Z)", markdown, re.S | re.M)
    text = match.group(1) if match else markdown
    return " ".join(text.split())


def rule_descriptor(rule) -> dict:
    docs = rule.docs()
    tags = [*rule.tags, *rule.cwe, *(f"external/cwe/{c.lower()}" for c in rule.cwe)]
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": _first_paragraph(docs) or rule.summary},
        "help": {"text": docs or rule.summary, "markdown": docs or rule.summary},
        "defaultConfiguration": {"level": _level(rule.severity)},
        "properties": {
            "security-severity": rule.security_severity or _SECURITY_SEVERITY[rule.severity],
            "precision": rule.precision,
            "problem.severity": "error" if rule.severity is Severity.ERROR else "warning",
            "tags": tags,
        },
    }


def _level(severity: Severity) -> str:
    return "error" if severity is Severity.ERROR else "warning"


def _artifact(path: str) -> dict:
    path = path.replace("\\", "/")
    if path.startswith("/"):
        return {"uri": "file://" + _percent(path)}
    if re.match(r"^[A-Za-z]:/", path):
        return {"uri": "file:///" + path[:2] + _percent(path[2:])}
    # Relative, percent-encoded per RFC 3986: a space, `#`, `%`, a newline or a byte that
    # is not UTF-8 must not change what the URI names, and a `:` in the first segment
    # must not read as a scheme.
    return {"uri": _percent(path), "uriBaseId": SRCROOT}


def _percent(path: str) -> str:
    return quote(encode(path), safe="/")


def _fix(fixed) -> dict:
    """A verified fix as SARIF replacements (columns in code points, end exclusive). Every
    tenant fix changes behaviour: `properties.safe` says whether it is a safe one."""
    return {
        "description": {"text": fixed.title},
        "artifactChanges": [{
            "artifactLocation": _artifact(fixed.path),
            "replacements": [{
                "deletedRegion": {"startLine": r.line, "startColumn": r.column,
                                  "endLine": r.end_line, "endColumn": r.end_column},
                "insertedContent": {"text": r.text},
            } for r in fixed.replacements],
        }],
        "properties": {"safe": fixed.safe},
    }


def render(report: Report, **_options) -> str:
    index = {rule.code: i for i, rule in enumerate(RULES)}
    results = []
    for d in report.diagnostics:
        loc = d.location
        region = {"startLine": loc.line, "startColumn": loc.column}
        if loc.end_line >= loc.line:
            region["endLine"] = loc.end_line
            if loc.end_column > 0 and (loc.end_line > loc.line or loc.end_column > loc.column):
                region["endColumn"] = loc.end_column
        result = {
            "ruleId": d.code,
            "level": _level(d.severity),
            "message": {"text": d.message},
            "locations": [{"physicalLocation": {"artifactLocation": _artifact(d.path), "region": region}}],
            "partialFingerprints": {FINGERPRINT_KEY: d.fingerprint},
            "properties": {"reach": d.reach},
        }
        if d.code in index:
            result["ruleIndex"] = index[d.code]
        if d.fingerprint in report.fixes:
            result["fixes"] = [_fix(report.fixes[d.fingerprint])]
        results.append(result)
    document = {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "tenantlint",
                "version": __version__,
                "semanticVersion": __version__,
                "rules": [rule_descriptor(rule) for rule in RULES],
            }},
            "columnKind": "unicodeCodePoints",
            "invocations": [{"executionSuccessful": True}],
            "results": results,
        }],
    }
    return json.dumps(document, indent=2) + "\n"

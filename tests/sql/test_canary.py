"""Canary: fails loudly when a sqlglot upgrade moves an API the analysis relies on.

If this fails after bumping sqlglot, fix tenantlint/sql/glot.py (and predicates.py for
node shapes), not the other tests."""
import sqlglot
from sqlglot import exp

from tenantlint.sql import glot


def one(sql, dialect="postgres"):
    return sqlglot.parse_one(sql, read=dialect)


def test_pinned_major_version():
    assert glot.SQLGLOT_VERSION.split(".")[0] == "30", "re-run the SQL tables and this canary before bumping"


def test_argument_names_we_read_still_exist():
    assert glot.FROM in exp.Select.arg_types
    assert glot.WITH in exp.Select.arg_types
    assert glot.JOINS in exp.Select.arg_types
    for node in (exp.Update, exp.Delete, exp.Merge, exp.Insert):
        assert "this" in node.arg_types
    assert {"where", "prewhere"} <= set(exp.Select.arg_types)
    assert "using" in exp.Delete.arg_types and "using" in exp.Merge.arg_types and "on" in exp.Merge.arg_types
    assert "whens" in exp.Merge.arg_types and "conflict" in exp.Insert.arg_types
    assert {"on", "using"} <= set(exp.Join.arg_types)
    assert {"field", "unnest", "query"} <= set(exp.In.arg_types)


def test_node_shapes_we_match():
    sel = one("SELECT * FROM a JOIN b USING (tenant_id) WHERE a.t IS NOT NULL AND x = ANY(:p)")
    assert isinstance(sel.args[glot.FROM].this, exp.Table)
    assert sel.args[glot.JOINS][0].args["using"][0].name == "tenant_id"
    is_not, any_ = sel.args["where"].this.this, sel.args["where"].this.expression
    assert (isinstance(is_not, exp.Not) and isinstance(is_not.this, exp.Is)) or is_not.args.get("negate")
    assert isinstance(any_.expression, exp.Any)
    upd = one("UPDATE a SET x = 1 FROM b JOIN c ON c.id = b.id")
    assert [type(s).__name__ for s in glot.query_sources(upd)] == ["Table", "Table", "Table"]
    ins = one("INSERT INTO t (a, b) SELECT 1, 2")
    assert isinstance(ins.this, exp.Schema) and isinstance(ins.expression, exp.Select)
    assert isinstance(one("SELECT :name").expressions[0], exp.Placeholder)
    assert isinstance(one("SELECT 1 FROM t WHERE a IN :p").args["where"].this.args["field"], exp.Placeholder)
    assert isinstance(one("SELECT * FROM t, LATERAL (SELECT 1) x").args[glot.JOINS][0].this, exp.Lateral)
    assert isinstance(one("SET search_path TO a, b"), exp.Command)  # hence judged on tokens
    assert isinstance(one("SELECT set_config('a.b', 'x', false)").expressions[0], exp.Anonymous)


def test_placeholders_parse_in_every_dialect():
    for dialect in ("postgres", "mysql", "sqlite", "clickhouse", "bigquery", "snowflake"):
        tree = one("SELECT * FROM t WHERE a = :tlp_1 AND b = :name AND c = ?", dialect)
        assert len(list(tree.find_all(exp.Placeholder))) == 3, dialect


def test_tokens_carry_offsets_and_drop_comments():
    toks = glot.tokenize("SELECT 1 -- tenant_id\n; SET x = 'a'")
    assert [t.kind for t in toks] == ["SELECT", "NUMBER", "SEMICOLON", "SET", "VAR", "EQ", "STRING"]
    assert (toks[3].start, toks[3].end) == (24, 26)
    assert glot.parse_tokens(toks[:2], "SELECT 1 -- tenant_id\n; SET x = 'a'").sql(comments=False) == "SELECT 1"

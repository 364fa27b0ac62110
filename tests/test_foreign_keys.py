"""Foreign-key chains: which tables are tenant data through their parents."""
from __future__ import annotations

import ast

from tenantlint.foreign_keys import foreign_key, parent_chains


def _key(code: str):
    stmt = ast.parse(code).body[0]
    annotation = stmt.annotation if isinstance(stmt, ast.AnnAssign) else None
    return foreign_key(stmt.value, annotation)


def test_nullability_follows_sqlalchemy_defaults():
    assert _key('x = Column(Integer, ForeignKey("apps.id"))') == ("apps", True)
    assert _key('x = Column(Integer, ForeignKey("apps.id"), nullable=False)') == ("apps", False)
    assert _key('x: Mapped[int] = mapped_column(ForeignKey("apps.id"))') == ("apps", False)
    assert _key('x: Mapped[Optional[int]] = mapped_column(ForeignKey("apps.id"))') == ("apps", True)
    assert _key('x: Mapped[int | None] = mapped_column(ForeignKey("apps.id"))') == ("apps", True)
    assert _key('x: Mapped[int] = mapped_column(ForeignKey("apps.id"), nullable=True)') == ("apps", True)
    assert _key('x = Column(Integer, ForeignKey("apps.id"), primary_key=True)') == ("apps", False)
    assert _key('x = Column(Integer)') is None


def test_chains_stop_at_nullable_keys_globals_and_three_hops():
    keys = {
        "conversations": [("app_id", "apps", False)],
        "messages": [("conversation_id", "conversations", False)],
        "reactions": [("message_id", "messages", False)],
        "emoji": [("reaction_id", "reactions", False)],
        "notes": [("app_id", "apps", True)],
        "settings": [("app_id", "apps", False)],
    }
    chains = parent_chains(keys, {"apps"}, {"settings"})
    assert chains["messages"] == (("messages", "conversation_id", "conversations"),
                                  ("conversations", "app_id", "apps"))
    assert len(chains["reactions"]) == 3
    assert "emoji" not in chains  # four hops
    assert "notes" not in chains  # a nullable key ties nothing
    assert "settings" not in chains  # global-tables exempts
    assert "apps" not in chains  # a tenant table of its own


def test_catalog_shows_the_chains():
    from pathlib import Path

    from tenantlint.config import load_settings
    from tenantlint.discover import build_catalog
    from tenantlint.report_catalog import describe

    config = Path(__file__).parent.parent / "fixtures" / "rules" / "orm_parents" / "tenantlint.toml"
    settings = load_settings(config)
    catalog = build_catalog(settings)
    chains = {t["name"]: t["chain"] for t in describe(catalog, settings)["parent_tables"]}
    assert chains["order_lines"] == ["order_lines.order_id -> orders", "orders.customer_id -> customers"]
    assert "notes" not in chains and "tags" not in chains and "shipments" not in chains
    assert catalog.models["OrderLine"].extra["parents"] == {"order_id": "Order"}

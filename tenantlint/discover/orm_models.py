"""ORM model discovery (SQLAlchemy declarative and Core, Django models) into ModelFacts.

One discoverer for both frameworks: a file's imports say which ORM a class belongs to,
and a class with no field of its own (an STI subclass, a model built from mixins) still
needs a fact so that its bases can be resolved across files by the catalog."""
from __future__ import annotations

import ast
from typing import Iterable

from tenantlint.catalog import ModelFact
from tenantlint.config import Settings
from tenantlint.orm.discover_bindings import DISCOVERERS as BINDINGS
from tenantlint.orm.discover_django import django_facts
from tenantlint.orm.discover_peewee import peewee_facts
from tenantlint.orm.discover_sqlalchemy import sqlalchemy_facts
from tenantlint.orm.pyast import ImportAliases


class OrmModels:
    triggers = (b"sqlalchemy", b"sqlmodel", b"django", b"Column(", b"mapped_column", b"ForeignKey",
                b"models.Model", b"with_loader_criteria", b"Manager", b"peewee", b"playhouse")

    def discover(self, tree: ast.Module, path: str, module: str, settings: Settings) -> Iterable[ModelFact]:
        imports = ImportAliases(tree, module)
        tenant_columns = frozenset(c.lower() for c in settings.tenant_columns)
        django = imports.uses("django", "django_scopes", "django_multitenant")
        if imports.uses("peewee", "playhouse"):
            yield from peewee_facts(tree, path, module, imports)
            if not imports.uses("sqlalchemy", "sqlmodel", "flask_sqlalchemy") and not django:
                return
        if imports.uses("sqlalchemy", "sqlmodel", "flask_sqlalchemy") or not django:
            # Flask-SQLAlchemy's `db.Column` needs no sqlalchemy import in the models file.
            yield from sqlalchemy_facts(tree, path, module, imports, tenant_columns, bare_classes=not django)
        if django:
            yield from django_facts(tree, path, module, imports, tenant_columns)


DISCOVERERS: tuple = (OrmModels(), *BINDINGS)

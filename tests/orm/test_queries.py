"""Query-chain analysis, table-driven: each case is a function body over two tenant
models and the codes expected on the lines marked `# <-`."""
from __future__ import annotations

import re
import textwrap

import pytest

from orm.orm_helpers import run

DJANGO_MODELS = '''
from django.db import models


class Doc(models.Model):
    tenant = models.ForeignKey("Tenant", on_delete=models.CASCADE)
    title = models.CharField(max_length=100)
'''

SA_MODELS = '''
from sqlalchemy import Column, Integer, String
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class Item(Base):
    __tablename__ = "items"
    id = Column(Integer, primary_key=True)
    tenant_id = Column(Integer, nullable=False, index=True)
    name = Column(String)


class Part(Base):
    __tablename__ = "parts"
    id = Column(Integer, primary_key=True)
    item_id = Column(Integer)
    tenant_id = Column(Integer, nullable=False, index=True)
'''

DJANGO_HEADER = "from django.db.models import Q\nfrom django.shortcuts import get_object_or_404\n" \
                "from app.models import Doc\n\n\n"
SA_HEADER = "from sqlalchemy import and_, delete, exists, or_, select, update\nfrom sqlmodel import col\n" \
            "from app.models import Item, Part\n\n\n"

DJANGO_CASES = {
    "get_by_pk": ("def f(pk):\n    return Doc.objects.get(pk=pk)  # <- TL201\n"),
    "scoped_kw": ("def f(t, pk):\n    return Doc.objects.get(pk=pk, tenant=t)\n"),
    "scoped_id": ("def f(t):\n    return Doc.objects.filter(tenant_id=t.id)\n"),
    "scoped_path": ("def f(slug):\n    return Doc.objects.filter(tenant__slug=slug)\n"),
    "scoped_in": ("def f(ts):\n    return Doc.objects.filter(tenant__in=ts)\n"),
    "isnull_is_not_scope": ("def f():\n    return Doc.objects.filter(tenant__isnull=False)  # <- TL201\n"),
    "isnull_true_is_shared_rows": ("def f():\n    return Doc.objects.filter(tenant__isnull=True)\n"),
    "own_or_shared_rows": ("def f(t):\n    return Doc.objects.filter(Q(tenant=t) | Q(tenant_id__isnull=True))\n"),
    "isnull_other_value": ("def f(v):\n    return Doc.objects.filter(tenant__isnull=v)  # <- TL201\n"),
    "q_combined_in_place": ("def f(t, pk):\n    q = Q(pk=pk)\n    q &= Q(tenant=t)\n    return Doc.objects.filter(q)\n"),
    "other_relation_path": ("def f(t):\n    return Doc.objects.filter(owner__tenant=t)  # <- TL201\n"),
    "later_line": ("def f(t):\n    qs = Doc.objects.all()\n    qs = qs.filter(tenant=t)\n    return qs\n"),
    "fail_open": ("def f(t):\n    qs = Doc.objects.all()  # <- TL201\n    if t:\n        qs = qs.filter(tenant=t)\n"
                  "    return qs\n"),
    "fail_closed_else_raise": ("def f(t):\n    qs = Doc.objects.all()\n    if t:\n        qs = qs.filter(tenant=t)\n"
                               "    else:\n        raise ValueError\n    return qs\n"),
    "loop_narrowing_is_partial": ("def f(ts):\n    qs = Doc.objects.all()  # <- TL201\n    for t in ts:\n"
                                  "        qs = qs.filter(tenant=t)\n    return qs\n"),
    "q_and": ("def f(t):\n    return Doc.objects.filter(Q(tenant=t) & Q(title='x'))\n"),
    "q_or": ("def f(t):\n    return Doc.objects.filter(Q(tenant=t) | Q(title='x'))  # <- TL201\n"),
    "q_not": ("def f(t):\n    return Doc.objects.filter(~Q(tenant=t))  # <- TL201\n"),
    "opaque_q": ("def f(q):\n    return Doc.objects.filter(q)  # <- TL002\n"),
    "opaque_kwargs": ("def f(**kw):\n    return Doc.objects.filter(**kw)  # <- TL002\n"),
    "opaque_but_scoped": ("def f(q, t):\n    return Doc.objects.filter(q, tenant=t)\n"),
    "update": ("def f(pk):\n    Doc.objects.filter(pk=pk).update(title='x')  # <- TL202\n"),
    "delete_via_variable": ("def f(pk):\n    qs = Doc.objects.filter(pk=pk)  # <- TL202\n    qs.delete()\n"),
    "shortcut": ("def f(pk):\n    return get_object_or_404(Doc, pk=pk)  # <- TL201\n"),
    "shortcut_scoped_qs": ("def f(t, pk):\n    return get_object_or_404(Doc.objects.filter(tenant=t), pk=pk)\n"),
    "raw_is_sql_only": ("def f():\n    return Doc.objects.raw('SELECT 1')\n"),
    "create_is_not_a_read": ("def f(t):\n    return Doc.objects.create(tenant=t, title='x')\n"),
    "none_is_empty": ("def f():\n    return Doc.objects.none()\n"),
    "tenant_method": ("def f(t):\n    return Doc.objects.for_tenant(t)\n"),
    "unrelated_attr": ("def f():\n    return Doc.DoesNotExist\n"),
    "subscript_keeps_query": ("def f():\n    return Doc.objects.all()[:10]  # <- TL201\n"),
    "async": ("async def f(pk):\n    return await Doc.objects.aget(pk=pk)  # <- TL201\n"),
    "unused_variable_end": ("def f():\n    qs = Doc.objects.filter(title='x')  # <- TL201\n    print(1)\n"),
}

SA_CASES = {
    "select_all": ("def f(s):\n    return s.scalars(select(Item)).all()  # <- TL201\n"),
    "select_scoped": ("def f(s, t):\n    return s.scalars(select(Item).where(Item.tenant_id == t)).all()\n"),
    "reversed_comparison": ("def f(s, t):\n    return s.scalars(select(Item).where(t == Item.tenant_id)).all()\n"),
    "not_equal": ("def f(s, t):\n    return s.scalars(select(Item).where(Item.tenant_id != t)).all()  # <- TL201\n"),
    "in_": ("def f(s, ts):\n    return s.scalars(select(Item).where(Item.tenant_id.in_(ts))).all()\n"),
    "and_": ("def f(s, t):\n    return s.scalars(select(Item).where(and_(Item.name == 'x', Item.tenant_id == t)))\n"),
    "or_": ("def f(s, t):\n    return s.scalars(select(Item).where(or_(Item.name == 'x', Item.tenant_id == t)))  # <- TL201\n"),
    "bitand": ("def f(s, t):\n    return s.scalars(select(Item).where((Item.name == 'x') & (Item.tenant_id == t)))\n"),
    "get": ("def f(s, pk):\n    return s.get(Item, pk)  # <- TL201\n"),
    "query_filter_by": ("def f(s, t):\n    return s.query(Item).filter_by(tenant_id=t).all()\n"),
    "query_filter": ("def f(s, n):\n    return s.query(Item).filter(Item.name == n).first()  # <- TL201\n"),
    "query_delete": ("def f(s, n):\n    s.query(Item).filter(Item.name == n).delete()  # <- TL202\n"),
    "update_stmt": ("def f(s, n):\n    s.execute(update(Item).where(Item.name == n).values(name='y'))  # <- TL202\n"),
    "delete_scoped": ("def f(s, t):\n    s.execute(delete(Item).where(Item.tenant_id == t))\n"),
    "join_unscoped": ("def f(s, t):\n    return s.execute(select(Item, Part).join(Part, Part.item_id == Item.id)"
                      ".where(Item.tenant_id == t))  # <- TL201\n"),
    "join_tied": ("def f(s, t):\n    return s.execute(select(Item, Part).join(Part, and_(Part.item_id == Item.id, "
                  "Part.tenant_id == Item.tenant_id)).where(Item.tenant_id == t))\n"),
    "join_both": ("def f(s, t):\n    return s.execute(select(Item, Part).join(Part, Part.item_id == Item.id)"
                  ".where(Item.tenant_id == t, Part.tenant_id == t))\n"),
    "columns": ("def f(s):\n    return s.execute(select(Item.name))  # <- TL201\n"),
    "opaque_star": ("def f(s, conds):\n    return s.scalars(select(Item).where(*conds))  # <- TL002\n"),
    "opaque_helper": ("def f(s):\n    return s.scalars(select(Item).where(visible()))  # <- TL002\n"),
    "column_method_is_not_opaque": ("def f(s, n):\n    return s.scalars(select(Item).where(Item.name.ilike(n)))  # <- TL201\n"),
    "condition_variable": ("def f(s, t):\n    cond = Item.tenant_id == t\n    return s.scalars(select(Item).where(cond))\n"),
    "branches_both_scope": ("def f(s, t, a):\n    stmt = select(Item)\n    if a:\n        stmt = stmt.where(Item.tenant_id == t)\n"
                            "    else:\n        stmt = stmt.where(Item.tenant_id == t, Item.name == 'a')\n    return s.scalars(stmt)\n"),
    "fail_open": ("def f(s, t):\n    stmt = select(Item)  # <- TL201\n    if t:\n        stmt = stmt.where(Item.tenant_id == t)\n"
                  "    return s.scalars(stmt)\n"),
    "async_get": ("async def f(s, pk):\n    return await s.get(Item, pk)  # <- TL201\n"),
    "shared_rows_is_none": ("def f(s, t):\n    return s.scalars(select(Item).where(or_(Item.tenant_id == t, "
                            "Item.tenant_id.is_(None))))\n"),
    "shared_rows_eq_none": ("def f(s):\n    return s.scalars(select(Item).where(Item.tenant_id == None))\n"),
    "is_not_none": ("def f(s):\n    return s.scalars(select(Item).where(Item.tenant_id.is_not(None)))  # <- TL201\n"),
    "is_true_is_not_scope": ("def f(s):\n    return s.scalars(select(Item).where(Item.tenant_id.is_(True)))  # <- TL201\n"),
    "col_wrapper": ("def f(s, t):\n    return s.scalars(select(Item).where(col(Item.tenant_id) == t))\n"),
    "col_wrapper_in_": ("def f(s, ts):\n    return s.scalars(select(Item).where(col(Item.tenant_id).in_(ts)))\n"),
    "col_wrapper_other": ("def f(s, n):\n    return s.scalars(select(Item).where(col(Item.name) == n))  # <- TL201\n"),
    "tuple_splat": ("def f(s, t, n):\n    conds = (col(Item.tenant_id) == t, Item.name == n)\n"
                    "    return s.scalars(select(Item).where(*conds))\n"),
    "tuple_splat_unscoped": ("def f(s, n):\n    conds = (Item.name == n,)\n"
                             "    return s.scalars(select(Item).where(*conds))  # <- TL201\n"),
    "list_splat_unscoped": ("def f(s, n):\n    conds = [Item.name == n]\n"
                            "    return s.scalars(select(Item).where(*conds))  # <- TL002\n"),
    "tuple_extended": ("def f(s, t, n):\n    conds = (Item.name == n,)\n    conds += (Item.tenant_id == t,)\n"
                       "    return s.scalars(select(Item).where(*conds))\n"),
    "tuple_extended_sometimes": ("def f(s, t, n):\n    conds = (Item.name == n,)\n    if t:\n"
                                 "        conds += (Item.tenant_id == t,)\n"
                                 "    return s.scalars(select(Item).where(*conds))  # <- TL002\n"),
    "list_appended": ("def f(s, t, n):\n    conds = [Item.name == n]\n    conds.append(Item.tenant_id == t)\n"
                      "    return s.scalars(select(Item).where(and_(*conds)))\n"),
    "and_splat_opaque": ("def f(s, conds):\n    return s.scalars(select(Item).where(and_(*conds)))  # <- TL002\n"),
    "or_splat_list": ("def f(s, t):\n    conds = [Item.tenant_id == t]\n"
                      "    return s.scalars(select(Item).where(or_(*conds)))  # <- TL002\n"),
    "exists_scoped": ("def f(s, t, i):\n    return s.scalar(select(exists().where(and_(Item.id == i, "
                      "Item.tenant_id == t))))\n"),
    "exists_unscoped": ("def f(s, i):\n    return s.scalar(select(exists().where(Item.id == i)))  # <- TL201\n"),
    "exists_of_scoped_select": ("def f(s, t, i):\n    q = select(Item.id).where(Item.id == i, Item.tenant_id == t)\n"
                                "    return s.scalar(select(q.exists()))\n"),
    "exists_of_unscoped_select": ("def f(s, i):\n    q = select(Item.id).where(Item.id == i)  # <- TL201\n"
                                  "    return s.scalar(select(q.exists()))\n"),
    "nested_select_judged_alone": ("def f(s, t):\n    from sqlalchemy import func\n"
                                   "    return s.execute(select(func.count()).select_from("
                                   "select(Part).where(Part.tenant_id == t).subquery()))\n"),
    "nested_select_unscoped": ("def f(s):\n    from sqlalchemy import func\n"
                               "    return s.execute(select(func.count()).select_from("
                               "select(Part).subquery()))  # <- TL201\n"),
    # A subquery that only filters a scoped query returns no other tenant's row, whatever
    # its table; with the outer query unscoped, both are reported.
    "subquery_only_filters_scoped": ("def f(s, t):\n    sub = select(Part.item_id).where(Part.id == 1)\n"
                                     "    return s.scalars(select(Item).where(Item.tenant_id == t, Item.id.in_(sub)))\n"),
    "subquery_filters_unscoped": ("def f(s, t):\n    sub = select(Part.item_id).where(Part.id == 1)  # <- TL201\n"
                                  "    return s.scalars(select(Item).where(Item.id.in_(sub)))  # <- TL201\n"),
}


def _expected(body: str, offset: int) -> set:
    out = set()
    for number, line in enumerate(body.splitlines(), 1):
        match = re.search(r"# <- (\w+)", line)
        if match:
            out.add(("app/views.py", number + offset, match.group(1)))
    return out


@pytest.mark.parametrize("name", sorted(DJANGO_CASES))
def test_django(tmp_path, name):
    body = DJANGO_CASES[name]
    found = run(tmp_path, {"app/__init__.py": "", "app/models.py": DJANGO_MODELS,
                           "app/views.py": DJANGO_HEADER + body})
    assert found == _expected(body, DJANGO_HEADER.count("\n"))


@pytest.mark.parametrize("name", sorted(SA_CASES))
def test_sqlalchemy(tmp_path, name):
    body = SA_CASES[name]
    found = run(tmp_path, {"app/__init__.py": "", "app/models.py": SA_MODELS, "app/views.py": SA_HEADER + body})
    assert found == _expected(body, SA_HEADER.count("\n"))


def test_scope_provider_counts_as_scoped(tmp_path):
    body = textwrap.dedent('''
        from app.db import tenant_session
        from app.models import Item
        from sqlalchemy import select


        def f(s, t):
            with tenant_session(s, t):
                return s.scalars(select(Item)).all()


        @tenant_session
        def g(s):
            return s.get(Item, 1)


        def h(s):
            return s.get(Item, 1)
    ''')
    found = run(tmp_path, {"app/__init__.py": "", "app/models.py": SA_MODELS, "app/views.py": body,
                           "app/db.py": "def tenant_session(*a):\n    pass\n"},
                'tenant-columns = ["tenant_id"]\nscope-providers = ["app.db.tenant_session"]\n')
    assert found == {("app/views.py", 18, "TL201")}


def test_files_without_tenant_models_are_skipped(tmp_path):
    body = "def f(s):\n    return s.query(Other).all()\n"
    found = run(tmp_path, {"app/__init__.py": "", "app/models.py": SA_MODELS, "app/views.py": body})
    assert found == set()


def test_query_variable_passed_to_scope_provider(tmp_path):
    body = textwrap.dedent('''
        from app.db import tenant_session
        from app.models import Item
        from sqlalchemy import select


        class Store:
            def paginate(self, session, query):
                return session.scalars(query).all()


        class ItemStore(Store):
            def listed(self, s):
                query = select(Item)
                page = self.paginate(s, query=query)
                return page

            def listed_or_all(self, s, everything):
                query = select(Item)  # <- TL201
                if everything:
                    return s.scalars(query).all()
                return self.paginate(s, query)


        def under_provider(s, t):
            stmt = select(Item)
            with tenant_session(s, t):
                return s.scalars(stmt).all()


        def argument(s, t):
            stmt = select(Item).where(Item.id > 1)
            return tenant_session(s, stmt)


        def elsewhere(s, t):
            stmt = select(Item)  # <- TL201
            rows = s.scalars(stmt).all()
            tenant_session(s, t)
            return rows
    ''')
    found = run(tmp_path, {"app/__init__.py": "", "app/models.py": SA_MODELS, "app/views.py": body,
                           "app/db.py": "def tenant_session(*a):\n    pass\n"},
                'tenant-columns = ["tenant_id"]\n'
                'scope-providers = ["app.db.tenant_session", "app.views.Store.paginate"]\n')
    assert found == _expected(body, 0)

"""Queries a class reaches through its attributes: a view's class-level `queryset` used
by get_queryset(), and `self.model` bound by the class, an ancestor or a subclass
(across files)."""
from __future__ import annotations

import re

import pytest

from orm.orm_helpers import catalog_for, run

DJANGO_MODELS = '''
from django.db import models


class Doc(models.Model):
    tenant = models.ForeignKey("Tenant", on_delete=models.CASCADE)
    title = models.CharField(max_length=100)


class Tag(models.Model):
    label = models.CharField(max_length=100)
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
    tenant_id = Column(Integer, nullable=False, index=True)


class Color(Base):
    __tablename__ = "colors"
    id = Column(Integer, primary_key=True)
    name = Column(String)
'''

VIEW_HEADER = "from rest_framework import generics\nfrom app.models import Doc, Tag\nfrom app.scope import tenant_scope\n\n\n"

VIEW_CASES = {
    "self_queryset_unnarrowed": '''
class V(generics.ListAPIView):
    queryset = Doc.objects.all()  # <- TL201

    def get_queryset(self):
        return self.queryset.filter(title="x")
''',
    "self_queryset_narrowed": '''
class V(generics.ListAPIView):
    queryset = Doc.objects.all()

    def get_queryset(self):
        return self.queryset.filter(tenant=self.request.tenant)
''',
    "super_unnarrowed": '''
class V(generics.ListAPIView):
    queryset = Doc.objects.select_related("tenant")  # <- TL201

    def get_queryset(self):
        qs = super(V, self).get_queryset()
        return qs.order_by("title")
''',
    "super_narrowed": '''
class V(generics.ListAPIView):
    queryset = Doc.objects.all()

    def get_queryset(self):
        return super().get_queryset().filter(tenant_id=self.request.tenant.id)
''',
    "narrowed_on_one_path": '''
class V(generics.ListAPIView):
    queryset = Doc.objects.all()  # <- TL201

    def get_queryset(self):
        qs = self.queryset
        if self.request.tenant:
            qs = qs.filter(tenant=self.request.tenant)
        return qs
''',
    "other_path_raises": '''
class V(generics.ListAPIView):
    queryset = Doc.objects.all()

    def get_queryset(self):
        if not self.request.tenant:
            raise PermissionError
        return self.queryset.filter(tenant=self.request.tenant)
''',
    "async_get_queryset": '''
class V(generics.ListAPIView):
    queryset = Doc.objects.all()  # <- TL201

    async def get_queryset(self):
        return self.queryset
''',
    "get_queryset_ignores_class_queryset": '''
class V(generics.ListAPIView):
    queryset = Doc.objects.all()

    def get_queryset(self):
        return Doc.objects.filter(tenant=self.request.tenant)
''',
    "scope_provider": '''
class V(generics.ListAPIView):
    queryset = Doc.objects.all()

    def get_queryset(self):
        return tenant_scope(self.queryset, self.request)
''',
    "not_a_tenant_model": '''
class V(generics.ListAPIView):
    queryset = Tag.objects.all()

    def get_queryset(self):
        return self.queryset.filter(label="x")
''',
    "other_method_uses_no_held_queryset": '''
class V(generics.ListAPIView):
    queryset = Doc.objects.all()

    def get_queryset(self):
        return self.queryset.filter(tenant=self.request.tenant)

    def get_serializer_context(self):
        return {"model": self.queryset.model}
''',
    "model_attribute": '''
class V(generics.ListAPIView):
    model = Doc

    def get_queryset(self):
        return self.model.objects.filter(title="x")  # <- TL201

    def get_object(self):
        return self.model.objects.get(pk=self.kwargs["pk"], tenant=self.request.tenant)
''',
    "model_attribute_not_tenant": '''
class V(generics.ListAPIView):
    model = Tag

    def get_queryset(self):
        return self.model.objects.all()
''',
}


def _expected(text: str, path: str, offset: int = 0) -> set:
    return {(path, n + offset, m.group(1)) for n, line in enumerate(text.splitlines(), 1)
            for m in [re.search(r"# <- (\w+)", line)] if m}


@pytest.mark.parametrize("name", sorted(VIEW_CASES))
def test_view_querysets(tmp_path, name):
    body = VIEW_CASES[name]
    found = run(tmp_path, {"app/__init__.py": "", "app/models.py": DJANGO_MODELS,
                           "app/scope.py": "def tenant_scope(qs, request):\n    return qs\n",
                           "app/views.py": VIEW_HEADER + body},
                'tenant-columns = ["tenant_id"]\nscope-providers = ["app.scope.tenant_scope"]\n')
    assert found == _expected(body, "app/views.py", VIEW_HEADER.count("\n"))


BASE = '''
from typing import Generic, Type, TypeVar

from sqlalchemy import select

T = TypeVar("T")
S = TypeVar("S")


class Repository(Generic[T]):
    model: type[T]

    def all(self, session):
        return session.scalars(select(self.model)).all()  # <- TL201

    def for_tenant(self, session, tenant_id):
        return session.scalars(select(self.model).where(self.model.tenant_id == tenant_id)).all()

    def one(self, session, pk):
        return session.get(self.model, pk)  # <- TL201


class Crud(Generic[S, T]):
    def __init__(self, model: Type[T]):
        self.model = model

    def get(self, db, pk):
        return db.query(self.model).filter(self.model.id == pk).first()  # <- TL201

    def get_scoped(self, db, tenant_id, pk):
        return db.query(self.model).filter_by(id=pk, tenant_id=tenant_id).first()


class Store:
    def __init__(self, model, label=""):
        self.model = model

    def everything(self, session):
        return session.scalars(select(self.model)).all()  # <- TL201
'''

CONCRETE = '''
from app.base import Crud, Repository, Store
from app.models import Color, Item, Part


class ItemRepository(Repository[Item]):
    pass


class Middle(Repository):
    pass


class PartRepository(Middle):
    model = Part


class ItemCrud(Crud["ItemSchema", Item]):
    pass


class PartStore(Store):
    def __init__(self):
        super().__init__(label="parts", model=Part)


class ItemStore(Store):
    def __init__(self):
        Store.__init__(self, Item)


class ColorStore(Store):
    def __init__(self):
        Store.__init__(self, Color)


class AnyStore(Store):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, Item, **kwargs)
'''


def test_repository_bound_in_other_files(tmp_path):
    found = run(tmp_path, {"app/__init__.py": "", "app/models.py": SA_MODELS, "app/base.py": BASE,
                           "app/concrete.py": CONCRETE})
    assert found == _expected(BASE, "app/base.py")


def test_binding_shapes_in_the_catalog(tmp_path):
    catalog = catalog_for(tmp_path, {"app/__init__.py": "", "app/models.py": SA_MODELS, "app/base.py": BASE,
                                     "app/concrete.py": CONCRETE})
    from tenantlint.orm.index import bound_attributes

    bound = bound_attributes(catalog.orm)
    assert bound["Repository"] == {"model": frozenset({"Item", "Part"})}
    assert bound["ItemRepository"] == {"model": frozenset({"Item"})}
    assert bound["Middle"] == {"model": frozenset({"Part"})}  # a method of Middle may run on a PartRepository
    assert bound["Crud"] == bound["ItemCrud"] == {"model": frozenset({"Item"})}
    assert bound["Store"] == {"model": frozenset({"Item", "Part"})}
    assert bound["PartStore"] == {"model": frozenset({"Part"})}
    assert bound["ItemStore"] == {"model": frozenset({"Item"})}
    assert "ColorStore" not in bound  # Color is not a tenant model
    assert "AnyStore" not in bound  # after `*args`, positions are unknown


def test_subclass_override_and_static_methods(tmp_path):
    base = '''
        from sqlalchemy import select


        class Base:
            model = None

            def all(self, session):
                return session.scalars(select(self.model)).all()  # <- TL201

            @staticmethod
            def of(model, session):
                return session.scalars(select(model)).all()
    '''
    sub = '''
        from app.base import Base
        from app.models import Color, Item
        from sqlalchemy import select


        class Items(Base):
            model = Item


        class Colors(Items):
            model = Color

            def colors(self, session):
                return session.scalars(select(self.model)).all()


        class MoreItems(Items):
            def more(self, session):
                return session.scalars(select(self.model)).all()  # <- TL201
    '''
    import textwrap

    found = run(tmp_path, {"app/__init__.py": "", "app/models.py": SA_MODELS, "app/base.py": base,
                           "app/sub.py": sub})
    assert found == _expected(textwrap.dedent(base), "app/base.py") | _expected(textwrap.dedent(sub), "app/sub.py")


def test_flask_sqlalchemy_model_query(tmp_path):
    body = '''
        from app.models import Item


        class Service:
            def __init__(self):
                self.model = Item

            def all(self):
                return self.model.query.all()  # <- TL201

            def mine(self, tenant_id):
                return self.model.query.filter_by(tenant_id=tenant_id).all()
    '''
    import textwrap

    found = run(tmp_path, {"app/__init__.py": "", "app/models.py": SA_MODELS, "app/service.py": body})
    assert found == _expected(textwrap.dedent(body), "app/service.py")


def test_unbound_attribute_is_not_judged(tmp_path):
    body = '''
        from sqlalchemy import select


        class Anything:
            def __init__(self, model):
                self.model = model

            def all(self, session):
                return session.scalars(select(self.model)).all()
    '''
    assert run(tmp_path, {"app/__init__.py": "", "app/models.py": SA_MODELS, "app/any.py": body}) == set()


@pytest.mark.parametrize("text, wanted", [
    (b"class A(B):\n    model = Item\n", True),
    (b"class A(B):\n    model: type[Item] = models.Item  # the model\n", True),
    (b"class A(Repository[Item]):\n    pass\n", True),
    (b"class A(B):\n    def __init__(self):\n        super().__init__(Item)\n", True),
    (b"class A(B):\n    def __init__(self):\n        super().__init__(model=app.Item)\n", True),
    (b"from sqlalchemy import select\nclass A:\n    pass\n", True),
    (b"class A(B):\n    x = 1\n    def f(self):\n        return None\n", False),
    (b"class A(B):\n    name = 'x'\n    flag = True\n    other = None\n", False),
    (b"def f():\n    return g(x)\n", False),
])
def test_discovery_screen(text, wanted):
    from tenantlint.orm.discover_bindings import ClassBindings

    assert ClassBindings.screen(text) is wanted

"""A file that may define tenant models but does not parse leaves the catalog
incomplete: that is reported whichever files were named, never silently passed."""
from __future__ import annotations

from tenantlint.api import scan_paths

MODELS = '''from django.db import models


class Order(models.Model):
    tenant = models.ForeignKey("Tenant", on_delete=models.CASCADE)
'''
VIEW = '''from shop.models import Order


def detail(request, pk):
    return Order.objects.get(pk=pk)
'''


def project(tmp_path, models: str):
    (tmp_path / "tenantlint.toml").write_text("")
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "__init__.py").write_text("")
    (tmp_path / "shop" / "models.py").write_text(models)
    (tmp_path / "shop" / "views.py").write_text(VIEW)


def found(tmp_path, *paths):
    report = scan_paths(list(paths), cwd=tmp_path)
    return {(d.path, d.code) for d in report.diagnostics}


def test_intact_models_give_the_view_finding(tmp_path):
    project(tmp_path, MODELS)
    assert found(tmp_path, "shop/views.py") == {("shop/views.py", "TL201")}


def test_broken_models_file_is_reported_even_when_not_named(tmp_path):
    project(tmp_path, MODELS + "\ndef oops(:\n    pass\n")
    assert found(tmp_path, "shop/views.py") == {("shop/models.py", "TL001")}
    assert ("shop/models.py", "TL001") in found(tmp_path, ".")


def test_a_broken_file_that_defines_nothing_is_not_a_gap(tmp_path):
    project(tmp_path, MODELS)
    (tmp_path / "shop" / "util.py").write_text("def oops(:\n")
    assert found(tmp_path, "shop/views.py") == {("shop/views.py", "TL201")}

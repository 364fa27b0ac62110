"""A file that may define tenant models but does not parse leaves the catalog
incomplete: that is reported whichever files were named, never silently passed."""
from __future__ import annotations

import project_scan
from project_scan import write_project
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
    write_project(tmp_path, {"shop/__init__.py": "", "shop/models.py": models, "shop/views.py": VIEW}, "",
                  dedent=False)


def found(tmp_path, *paths):
    return {(path, code) for path, _line, code in project_scan.found(tmp_path, *paths)}


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


def _big_project(tmp_path, views: int = 70):
    project(tmp_path, MODELS)
    for i in range(views):
        (tmp_path / "shop" / f"view_{i:02}.py").write_text(VIEW)


def test_discovery_on_the_pool_finds_what_the_serial_pass_finds(tmp_path):
    from tenantlint.config import load_settings
    from tenantlint.discover import build_catalog

    _big_project(tmp_path)
    settings = load_settings(None, cwd=tmp_path)
    serial, pooled = build_catalog(settings, jobs=1), build_catalog(settings, jobs=2)
    assert set(serial.models) == set(pooled.models) == {"Order"}
    assert serial.gaps == pooled.gaps == []


def test_a_discovery_worker_that_dies_leaves_a_reported_gap_that_is_not_cached(tmp_path, monkeypatch):
    import faulthandler
    import os
    import signal

    import tenantlint.discover as discover

    if not hasattr(os, "fork"):
        import pytest

        pytest.skip("workers inherit the patched function via fork")
    real = discover.discover_file

    def dying(path, settings, discoverers=None):
        if path.name == "models.py" and os.environ.get("TL_TEST_DIE") == "1":
            faulthandler.disable()  # pytest's handler would print a stack into a passing run
            os.kill(os.getpid(), signal.SIGSEGV)
        return real(path, settings, discoverers)

    monkeypatch.setattr(discover, "discover_file", dying)
    _big_project(tmp_path)
    monkeypatch.setenv("TL_TEST_DIE", "1")
    report = scan_paths(["shop/view_00.py"], cwd=tmp_path, jobs=2, use_cache=True)
    assert ("shop/models.py", "TL001") in {(d.path, d.code) for d in report.diagnostics}
    monkeypatch.setenv("TL_TEST_DIE", "0")  # the next run reads the file again: nothing was cached
    report = scan_paths(["shop/view_00.py"], cwd=tmp_path, jobs=2, use_cache=True)
    assert {(d.path, d.code) for d in report.diagnostics} == {("shop/view_00.py", "TL201")}

"""Which classes are a tenant's rows, for the tenant-owned buckets of TL403
(tenantlint/stores/owned.py)."""
from __future__ import annotations

from tenantlint.stores.owned import row_classes


def test_a_mixin_only_tenant_models_inherit_is_a_row_class():
    classes = {
        "app.models.StorageMixin": ("django.db.models.Model",),
        "app.models.S3Import": ("app.models.StorageMixin",),
        "app.models.S3Export": ("app.models.StorageMixin",),
    }
    rows = row_classes(["app.models.S3Import", "app.models.S3Export"], classes)
    assert rows == {"app.models.StorageMixin", "app.models.S3Import", "app.models.S3Export"}


def test_a_base_shared_with_a_model_of_no_tenant_is_not():
    classes = {
        "app.models.StorageMixin": (),
        "app.models.S3Import": ("app.models.StorageMixin",),
        "app.models.Backup": ("app.models.StorageMixin",),  # no tenant
    }
    assert row_classes(["app.models.S3Import"], classes) == {"app.models.S3Import"}


def test_a_stand_in_defined_by_a_test_module_does_not_count():
    classes = {
        "app.models.StorageMixin": (),
        "app.models.S3Import": ("app.models.StorageMixin",),
        "app.tests.test_storage.StandIn": ("app.models.StorageMixin",),
    }
    assert "app.models.StorageMixin" in row_classes(["app.models.S3Import"], classes)


def test_a_cycle_of_bases_is_no_row_class_and_no_crash():
    classes = {"app.A": ("app.B",), "app.B": ("app.A",)}
    assert row_classes([], classes) == frozenset()

"""`trust-scoped-managers`: django-scopes / django-multitenant managers count as scoped by
default; `false` asks for an explicit tenant filter on every query (defense in depth)."""
from __future__ import annotations

from orm.orm_helpers import run

MODELS = """\
from django.db import models
from django_scopes import ScopedManager
from django_multitenant.models import TenantModel


class Tenant(models.Model):
    name = models.CharField(max_length=100)


class Ticket(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE)
    subject = models.CharField(max_length=200)
    objects = ScopedManager(tenant="tenant")


class Entry(TenantModel):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE)
    amount = models.IntegerField()
    tenant_id = "tenant_id"


class ProjectManager(models.Manager):
    def get_queryset(self):
        return super().get_queryset().filter(tenant=current_tenant())


class Note(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE)
    objects = ProjectManager()
"""
VIEWS = """\
from helpdesk.models import Entry, Note, Ticket


def tickets(request):
    return Ticket.objects.filter(subject="x")


def entries(request):
    return Entry.objects.filter(amount__gt=0)


def notes(request):
    return Note.objects.all()


def filtered(request):
    return Ticket.objects.filter(tenant=request.tenant, subject="x")
"""
FILES = {"helpdesk/__init__.py": "", "helpdesk/models.py": MODELS, "helpdesk/views.py": VIEWS}


def test_library_managers_are_trusted_by_default(tmp_path):
    assert run(tmp_path, FILES) == set()


def test_trust_scoped_managers_false_asks_for_explicit_filters(tmp_path):
    found = run(tmp_path, FILES, config='tenant-columns = ["tenant_id"]\ntrust-scoped-managers = false\n')
    # The project's own manager filters by tenant in the project: still scoped.
    assert found == {("helpdesk/views.py", 5, "TL201"), ("helpdesk/views.py", 9, "TL201")}

"""The ORM rules (TL201-TL202): identity and docs. Checkers come from `tenantlint.orm`."""
from __future__ import annotations

from tenantlint.diagnostics import Severity
from tenantlint.orm.checker import OrmChecker
from tenantlint.rulebase import Checker, Rule

# The ORM checkers (SQLAlchemy, Django), registered in rules/__init__.
CHECKERS: tuple[type[Checker], ...] = (OrmChecker,)


class OrmUnscopedQuery(Rule):
    """
    ## What it does
    Flags SQLAlchemy `select()`, `session.query()` and `session.get()`, and Django
    manager queries and `get_object_or_404`, on a tenant model without a tenant filter
    (`Model.tenant_id == ...`, `filter_by(tenant_id=...)`, `tenant=...`, `tenant__slug=...`,
    `Q(tenant=...)`). A query is judged by its final form in the function: narrowing it
    on a later line is fine, narrowing it only inside an `if` is not. Scoped too: a
    default manager whose `get_queryset` filters by tenant (django-scopes' `ScopedManager`,
    django-multitenant's `TenantModel`), a project manager/queryset method that filters
    by tenant, models named by `with_loader_criteria` in a `do_orm_execute` listener, a
    fetch followed by DRF's `check_object_permissions`, re-fetching an object in hand by
    its own id, and code inside a scope provider. `scopes_disabled()`, `_base_manager` and
    extra plain managers are not. A filter built elsewhere (`filter(q)`, `where(*conds)`)
    is TL002; `.raw()`/`.extra()` are judged by the SQL rules. Queries a class reaches
    through its attributes count too: a view's class-level `queryset` (also when its
    `get_queryset()` returns `self.queryset` or `super().get_queryset()` un-narrowed), a
    Django generic view (`ListView`, `DetailView`...) with `model = X` and no
    `get_queryset()`, and a repository's `self.model` bound by its subclasses.

    ## Why is this bad?
    `Invoice.objects.get(pk=pk)` in a view returns any tenant's invoice to whoever guesses
    the id: the insecure direct object reference behind most multi-tenant leaks.

    ## Example
    ```python
    from django.db import models

    class Invoice(models.Model):
        tenant = models.ForeignKey("Tenant", on_delete=models.CASCADE)

    def detail(request, pk):
        return Invoice.objects.get(pk=pk)
    ```

    ## Use instead
    ```python
    from django.db import models

    class Invoice(models.Model):
        tenant = models.ForeignKey("Tenant", on_delete=models.CASCADE)

    def detail(request, pk):
        return Invoice.objects.get(pk=pk, tenant=request.tenant)
    ```

    ## How to fix
    Filter on the tenant in the same function on every path, use a tenant-scoping
    manager, or list deliberate cross-tenant modules in `per-file-ignores`.
    """

    code = "TL201"
    name = "orm-unscoped-query"
    severity = Severity.ERROR
    summary = "ORM query on a tenant model without a tenant filter"


class OrmUnscopedBulkWrite(Rule):
    """
    ## What it does
    Flags bulk `update()` and `delete()` on an unscoped query or queryset (Django
    `QuerySet.update/delete`, SQLAlchemy `update(Model)`/`delete(Model)` statements and
    `Query.update/delete`).

    ## Why is this bad?
    A bulk write filtered by id alone changes another tenant's rows when the id is
    guessed or reused, and a missing filter changes every tenant's rows at once.

    ## Example
    ```python
    from django.db import models

    class Invoice(models.Model):
        tenant = models.ForeignKey("Tenant", on_delete=models.CASCADE)

    def mark_paid(request, pk):
        Invoice.objects.filter(pk=pk).update(paid=True)
    ```

    ## Use instead
    ```python
    from django.db import models

    class Invoice(models.Model):
        tenant = models.ForeignKey("Tenant", on_delete=models.CASCADE)

    def mark_paid(request, pk):
        Invoice.objects.filter(pk=pk, tenant=request.tenant).update(paid=True)
    ```

    ## How to fix
    Add the tenant filter before `update()`/`delete()`.
    """

    code = "TL202"
    name = "orm-unscoped-bulk-write"
    severity = Severity.ERROR
    summary = "bulk update()/delete() on an unscoped query or queryset"

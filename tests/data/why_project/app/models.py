from django.db import models


class Tenant(models.Model):
    name = models.CharField(max_length=100)


class Project(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE)
    name = models.CharField(max_length=100)

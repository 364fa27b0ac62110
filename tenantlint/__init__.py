"""tenantlint: find cross-tenant data leaks in multi-tenant Python codebases."""

__version__ = "0.1.0"

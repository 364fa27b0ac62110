"""Writes and where tenant values come from: rows created without their tenant (TL203)
and tenant values taken from request input (TL601)."""

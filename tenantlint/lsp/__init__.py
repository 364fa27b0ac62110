"""The editor server (`tenantlint server`): LSP glue over the scan engine."""

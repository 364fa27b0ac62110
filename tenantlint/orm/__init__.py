"""ORM query analysis: model discovery (stdlib `ast`, first pass) and query-chain
following on known tenant models (libcst, per file) for SQLAlchemy and Django."""

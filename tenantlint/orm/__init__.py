"""ORM query analysis: model discovery (stdlib `ast`, first pass) and query-chain
following on known tenant models (stdlib `ast` too, per file) for SQLAlchemy and Django."""

"""Thin controllers: authorize, validate, call storage or the engine,
serialise. One module per resource."""

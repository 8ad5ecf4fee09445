"""valet-api: the REST API (pecan behind a paste pipeline)."""

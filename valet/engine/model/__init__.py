"""The data-centre model the engine decides on (no I/O here)."""

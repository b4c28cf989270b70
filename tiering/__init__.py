"""Tiering Studio engine: read client tables, score them with a tier standard
in DuckDB SQL, and write tiered lists. Free of Streamlit by design."""

__version__ = "0.1.0"

"""SQL databases as input and output: PostgreSQL (through ADBC, into Arrow), SQLite and DuckDB database files.

:mod:`.url` names and redacts database URLs, :mod:`.connection` opens them, :mod:`.dialect` translates the
DuckDB SQL of the log aggregation for another database, :mod:`.reader` reads a customer table or aggregates a
transaction log where it lives, and :mod:`.writeback` writes the segments back.
"""

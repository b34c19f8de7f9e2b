"""Inputs: where the rows come from, read into one customer table.

In: a file (CSV/TSV, Parquet, Excel), a database table or query, or a transaction log. Out: a
:class:`~reportgen.inputs.sources.Source`: one row per customer, with what was read and how (encoding, separator,
log summary). ``files`` and ``sniff`` read files under the memory guard; ``logs`` aggregates a log per customer in
DuckDB; ``database`` reads from, aggregates in and writes back to a database.
"""

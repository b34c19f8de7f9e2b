"""Transaction logs: one line per invoice line or order, aggregated into one row per customer.

In: a log file (or relation) and the config's ``[transactions]`` mapping. Out: the per-customer table and the
log's reconciliation summary. The aggregation is one SQL definition (``sql``) run where the rows are (DuckDB
here, a database through ``reportgen.inputs.database``).
"""

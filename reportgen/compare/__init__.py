"""Compare: this month against last month's output folder.

In: the baseline folder (``summary.json``, ``model.json``, ``reference.json``, ``segments.csv``) and this run's
segments. Out: the result's comparison records: segment identities, migration, drift, mix shift and the retrain
advice; ``history`` reads a folder of runs back as a time series.
"""

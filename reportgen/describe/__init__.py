"""Describe: what each segment is, what it is called and what to do about it.

In: the assignment, the observed values and per-segment aggregates. Out: the result's segment records:
profiles (means, medians, shares), names and portraits, RFM groups, recommendations ranked by value at stake, and
the executive summary's highlights. Works on aggregates and samples, never on every row again.
"""

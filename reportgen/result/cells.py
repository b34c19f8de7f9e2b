"""How a text cell of the per-customer files is escaped against spreadsheet formulas, and read back.

The writer (:mod:`reportgen.render.csvout`) puts an apostrophe before a cell that a spreadsheet would run as a
formula (OWASP CSV-injection guidance); a leading apostrophe is itself escaped, so a reader of ``segments.csv``
(:mod:`reportgen.compare.baseline`) strips exactly the one the writer added.
"""

TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "'")
UNESCAPE = r"^'(?=[=+\-@\t\r'])"  # the apostrophe the writer put before a cell

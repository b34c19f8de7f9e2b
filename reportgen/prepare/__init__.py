"""Prepare: from the customer table to the features the model sees, and the observed values the report shows.

In: the loaded table and the config. Out: :class:`~reportgen.prepare.features.PreparedData`: column roles, labels
and units, the cleaned and capped feature frame for the model, the observed (raw) values for every figure, the
cleaning record and the data-quality counts.
"""

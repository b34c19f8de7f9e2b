"""Model: the number of segments and the fitted K-Means.

In: the prepared feature frame (or a seeded sample of it, for the K search). Out: the K search record, the fitted
model (scaler, encoder, centroids) and every customer's segment; ``modelfile`` writes and reads ``model.json``.
"""

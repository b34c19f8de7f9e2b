"""The Spark engine: the computing half of a run on Apache Spark, with rows kept in Spark.

Only samples and aggregates reach the driver: the cleaning plan is inferred from a seeded sample, every
statistic (fences, imputed values, scaling, levels, profiles, value shares, audiences) is a Spark aggregation,
the K search runs on a sample with scikit-learn, and the chosen K is fitted and applied to every customer in
Spark. :func:`reportgen.spark.engine.analyse_spark` returns the same ``Analysis`` as the local engine.
"""

"""Starting (or reaching) Spark, and turning each way it cannot start into one line."""

from __future__ import annotations

import os
import shutil
import warnings
from typing import TYPE_CHECKING

from reportgen.config import SparkConfig
from reportgen.errors import ConfigError, ReportgenError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

# Defaults a cluster's own settings or ``spark.conf`` override: SQL that returns NULL where DuckDB does (ANSI mode
# raises), timestamps without a session zone, and no web UI port on a shared machine.
DEFAULTS: dict[str, str] = {
    "spark.sql.ansi.enabled": "false",
    "spark.sql.session.timeZone": "UTC",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "8",
    # Input partitions of about a million customers: each partition's cached block stays well inside a small heap
    "spark.sql.files.maxPartitionBytes": "32m",
    "spark.log.level": "ERROR",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
}


class SparkError(ReportgenError):
    """Spark is missing, cannot start, or cannot be reached."""


def _import_pyspark() -> None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # PySpark warns about the pandas version it was tested with
            import pyspark
            import pyspark.sql  # noqa: F401
    except ImportError:
        raise SparkError("engine = 'spark' needs PySpark, which is not installed: pip install 'reportgen[spark]'") \
            from None


def _java_found() -> bool:
    home = os.environ.get("JAVA_HOME")
    return bool(home and os.path.exists(os.path.join(home, "bin", "java"))) or shutil.which("java") is not None


def _reachable(master: str) -> None:
    """A ``spark://`` or ``sc://`` master that refuses connections fails at once instead of after retries."""
    if not master.startswith(("spark://", "sc://")):
        return
    import socket
    from urllib.parse import urlsplit

    for address in master.split("://", 1)[1].split("/")[0].split(","):
        parts = urlsplit(f"//{address}")
        port = parts.port or (15002 if master.startswith("sc://") else 7077)
        try:
            with socket.create_connection((parts.hostname or "localhost", port), timeout=5):
                return
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
    raise SparkError(f"Spark master {master!r} cannot be reached ({reason})")


def start(cfg: SparkConfig) -> SparkSession:
    """The Spark session the run uses: a local or cluster master, or a Spark Connect server (``sc://``).

    Raises
    ------
    SparkError
        PySpark not installed, Java missing (local and cluster masters start a JVM here), or the master
        unreachable.
    """
    _import_pyspark()
    from pyspark.sql import SparkSession

    master = cfg.master.strip()
    if not master:
        raise ConfigError("Config value 'spark.master': expected local[*], a cluster URL or sc://host but received ''")
    conf = {**DEFAULTS, **{key: str(value).lower() if isinstance(value, bool) else str(value)
                           for key, value in cfg.conf.items()}}
    _reachable(master)
    if master.startswith("sc://"):
        builder = SparkSession.builder.remote(master)
    else:
        if not _java_found():
            raise SparkError("engine = 'spark' needs Java (17 or later), which was not found: install "
                             "openjdk-17-jre-headless or set JAVA_HOME")
        builder = SparkSession.builder.master(master).appName("reportgen")
    for key, value in conf.items():
        builder = builder.config(key, value)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            session = builder.getOrCreate()
            session.range(1).count()  # a master that accepts no work fails here, not half-way through a run
    except Exception as exc:  # py4j, Spark Connect and socket errors alike
        reason = " ".join(str(exc).split())[:200]
        raise SparkError(f"Spark master {master!r} cannot be reached or cannot start ({reason})") from None
    return session

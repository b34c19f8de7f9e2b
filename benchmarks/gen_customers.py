"""Write seeded synthetic customer tables of any size for the scale benchmarks.

The rows come from the generator of the bundled sample data (``sample_data/generate.py``): the same columns,
latent groups and messy values (about 1% blank incomes, placeholder birth years, extreme incomes), drawn in
chunks of at most 1,000,000 customers so that memory stays bounded. The first chunk uses the seed itself, so a
table of up to one chunk is ``generate(seed, rows)`` apart from the ids; later chunks use seeds derived from
``(seed, chunk)``. Customer ids are renumbered over the whole table, zero-padded to the width of the row count
(``C0000001`` ... ``C1000000`` for 1M rows), so they stay unique.
The same rows, seed and format always give the same file, and an existing file is reused.

Files go to ``benchmarks/data/customers-<rows>-seed<seed>.<csv|parquet>``; Parquet files are zstd-compressed
with one row group per chunk.

    python benchmarks/gen_customers.py --rows 100000
    python benchmarks/gen_customers.py --rows 1000000 --format csv
    python benchmarks/gen_customers.py --rows 10000000 --format parquet --seed 7
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parents[1]
DATA_DIR = REPO / "benchmarks" / "data"
DEFAULT_SEED = 2026
CHUNK_ROWS = 1_000_000
# No value holds a separator, quote or line break, so plain unquoted fields like the sample data's
# (the header is written by hand: the CSV writer would quote the column names).
_CSV_OPTIONS = pacsv.WriteOptions(include_header=False, quoting_style="none")


def load_sample_generator() -> ModuleType:
    """Import ``sample_data/generate.py`` by path (it is a script, not part of the package).

    Returns
    -------
    ModuleType
        The generator module, with ``generate(seed, n)`` and ``COLUMNS``.
    """
    name = "_reportgen_sample_generate"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, REPO / "sample_data" / "generate.py")
    if spec is None or spec.loader is None:
        raise ImportError("cannot import sample_data/generate.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is created
    spec.loader.exec_module(module)
    return module


def output_path(rows: int, seed: int, fmt: str, directory: Path = DATA_DIR) -> Path:
    """Where the table for these parameters is written.

    Parameters
    ----------
    rows
        Number of customers.
    seed
        Seed of the table.
    fmt
        ``"csv"`` or ``"parquet"``.
    directory
        Folder of the generated tables.

    Returns
    -------
    Path
        ``<directory>/customers-<rows>-seed<seed>.<fmt>``.
    """
    return directory / f"customers-{rows}-seed{seed}.{fmt}"


def chunk_seed(seed: int, chunk: int) -> int:
    """Seed of one chunk: the seed itself for the first, one derived from ``(seed, chunk)`` after that.

    Parameters
    ----------
    seed
        Seed of the whole table.
    chunk
        Index of the chunk, from 0.

    Returns
    -------
    int
        A non-negative seed for ``numpy.random.default_rng``.
    """
    if chunk == 0:
        return seed
    return int(np.random.SeedSequence([seed, chunk]).generate_state(1, dtype=np.uint64)[0])


def chunks(rows: int, seed: int, chunk_rows: int = CHUNK_ROWS) -> Iterator[pd.DataFrame]:
    """Generate the table chunk by chunk, with ids numbered over the whole table.

    Parameters
    ----------
    rows
        Number of customers in total.
    seed
        Seed of the table.
    chunk_rows
        Largest number of customers drawn in one call of the sample generator.

    Yields
    ------
    pandas.DataFrame
        The next ``min(chunk_rows, remaining)`` customers, with the sample generator's columns.
    """
    generator = load_sample_generator()
    width = max(5, len(str(rows)))
    for index, start in enumerate(range(0, rows, chunk_rows)):
        size = min(chunk_rows, rows - start)
        customers, _latent = generator.generate(chunk_seed(seed, index), size)
        ids = np.char.add("C", np.char.zfill(np.arange(start + 1, start + size + 1).astype(str), width))
        customers["customer_id"] = ids.astype(object)
        yield customers


def _arrow(frame: pd.DataFrame) -> pa.Table:
    """The chunk as an Arrow table with plain string columns (no pandas metadata or index)."""
    table = pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(None)
    plain = [pa.field(f.name, pa.string()) if pa.types.is_large_string(f.type) else f for f in table.schema]
    return table.cast(pa.schema(plain))


def write(rows: int, seed: int, fmt: str, path: Path) -> None:
    """Generate the table and write it to ``path`` (through a temporary file, so a partial file never stays).

    Parameters
    ----------
    rows
        Number of customers.
    seed
        Seed of the table.
    fmt
        ``"csv"`` or ``"parquet"``.
    path
        File to write.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    try:
        with partial.open("wb") as handle:
            writer: pq.ParquetWriter | pacsv.CSVWriter | None = None
            for frame in chunks(rows, seed):
                table = _arrow(frame)
                if writer is None and fmt == "parquet":
                    writer = pq.ParquetWriter(handle, table.schema, compression="zstd")
                elif writer is None:
                    handle.write((",".join(table.column_names) + "\n").encode())
                    writer = pacsv.CSVWriter(handle, table.schema, write_options=_CSV_OPTIONS)
                if isinstance(writer, pq.ParquetWriter):
                    writer.write_table(table, row_group_size=len(table))
                else:
                    writer.write_table(table)
            if writer is not None:
                writer.close()
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(path)


def ensure(rows: int, seed: int = DEFAULT_SEED, fmt: str = "csv", directory: Path = DATA_DIR,
           quiet: bool = False) -> Path:
    """Return the table for these parameters, generating it first if it does not exist yet.

    Parameters
    ----------
    rows
        Number of customers.
    seed
        Seed of the table.
    fmt
        ``"csv"`` or ``"parquet"``.
    directory
        Folder of the generated tables.
    quiet
        Print nothing.

    Returns
    -------
    Path
        The table's file.
    """
    path = output_path(rows, seed, fmt, directory)
    if path.exists():
        if not quiet:
            print(f"reusing {path} ({path.stat().st_size / 2**20:,.1f} MB)")
        return path
    start = time.perf_counter()
    write(rows, seed, fmt, path)
    if not quiet:
        print(f"wrote {rows:,} customers to {path} ({path.stat().st_size / 2**20:,.1f} MB) "
              f"in {time.perf_counter() - start:.1f} s")
    return path


def main() -> None:
    """Command line of the generator."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000, help="number of customers (default 1,000,000)")
    parser.add_argument("--format", choices=["csv", "parquet"], default=None,
                        help="file format (default: csv up to 1,000,000 rows, parquet above)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (default %(default)s)")
    parser.add_argument("--output-dir", type=Path, default=DATA_DIR, help="folder of the generated tables")
    args = parser.parse_args()
    if args.rows < 100:
        parser.error("--rows must be at least 100")
    fmt = args.format or ("csv" if args.rows <= 1_000_000 else "parquet")
    ensure(args.rows, args.seed, fmt, args.output_dir)


if __name__ == "__main__":
    main()

"""Write a seeded synthetic transaction log shaped like UCI Online Retail, for benchmarking the aggregation.

The log has the online_retail columns and its awkward parts: about N/100 customers with skewed activity,
cancellation invoices (``C`` prefix, negative quantities), lines without a customer, postage and manual codes,
zero prices and exact duplicate rows. Same seed, same file.

    python benchmarks/gen_transactions.py /tmp/log10m.parquet --rows 10000000
    python benchmarks/gen_transactions.py /tmp/log1m.csv.gz --rows 1000000 --seed 7
"""

from __future__ import annotations

import argparse
import gzip
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

COUNTRIES = np.array(["United Kingdom"] * 18 + ["Germany", "France", "EIRE", "Spain", "Netherlands", "Belgium"])
NON_PRODUCTS = np.array(["POST", "DOT", "M", "C2", "BANK CHARGES"])
START = np.datetime64("2010-12-01T08:00")
MINUTES = 374 * 24 * 60


def generate(rows: int, seed: int) -> pa.Table:
    """A log of exactly ``rows`` lines (duplicates included), ordered by invoice like the original."""
    rng = np.random.default_rng(seed)
    n_customers, n_products = max(rows // 100, 10), 4000
    codes = np.char.add((10000 + np.arange(n_products)).astype(str),
                        np.where(rng.random(n_products) < 0.3, "A", ""))
    prices = np.round(rng.lognormal(0.8, 0.8, n_products), 2)
    home = rng.choice(COUNTRIES, n_customers)
    weights = rng.pareto(1.2, n_customers) + 0.05  # a few heavy buyers, many one-off ones
    n_invoices = rows // 20
    anonymous = rng.random(n_invoices) < 0.25
    named = np.flatnonzero(~anonymous)
    # Everyone buys at least once; the remaining invoices go to customers by weight.
    extra = rng.choice(n_customers, max(len(named) - n_customers, 0), p=weights / weights.sum())
    buyer = np.zeros(n_invoices, dtype=np.int64)
    buyer[named] = rng.permutation(np.concatenate([np.arange(n_customers), extra]))[: len(named)]
    cancelled = ~anonymous & (rng.random(n_invoices) < 0.04)
    when = START + np.sort(rng.integers(0, MINUTES, n_invoices)).astype("timedelta64[m]")
    number = np.char.add(np.where(cancelled, "C", ""), (536365 + np.arange(n_invoices)).astype(str))

    unique_rows = rows - rows // 100
    invoice = np.sort(rng.integers(0, n_invoices, unique_rows))
    product = rng.integers(0, n_products, unique_rows)
    code = codes[product]
    special = rng.random(unique_rows) < 0.01
    code[special] = rng.choice(NON_PRODUCTS, int(special.sum()))
    quantity = rng.geometric(0.15, unique_rows) * np.where(cancelled[invoice], -1, 1)
    price = np.where(rng.random(unique_rows) < 0.004, 0.0, prices[product])

    dup = np.sort(rng.choice(unique_rows, rows - unique_rows, replace=False))
    order = np.sort(np.concatenate([np.arange(unique_rows), dup]), kind="stable")
    customer = np.where(anonymous[invoice], np.nan, 12346.0 + buyer[invoice])[order]
    return pa.table({
        "InvoiceNo": pa.array(number[invoice][order]).dictionary_encode(),
        "StockCode": pa.array(code[order]).dictionary_encode(),
        "Description": pa.array(np.char.add("ITEM ", code[order])).dictionary_encode(),
        "Quantity": pa.array(quantity[order], pa.int64()),
        "InvoiceDate": pa.array(when[invoice][order].astype("datetime64[s]")),
        "UnitPrice": pa.array(price[order]),
        "CustomerID": pa.array(customer, pa.float64(), from_pandas=True),
        "Country": pa.array(home[buyer[invoice]][order]).dictionary_encode(),
    })


def write(table: pa.Table, path: Path) -> None:
    """Parquet for ``.parquet``; otherwise CSV (gzipped for ``.gz``) with integer customer ids like the original."""
    if path.suffix == ".parquet":
        pq.write_table(table, path, compression="zstd")
        return
    ids = pc.cast(pc.cast(table["CustomerID"], pa.int64()), pa.string())
    dates = pc.strftime(table["InvoiceDate"], "%Y-%m-%d %H:%M:%S")
    plain = table.set_column(4, "InvoiceDate", dates).set_column(6, "CustomerID", ids)
    plain = pa.table({name: plain[name].cast(pa.string()) if pa.types.is_dictionary(plain[name].type)
                      else plain[name] for name in plain.column_names})
    with (gzip.open(path, "wb", compresslevel=6) if path.suffix == ".gz" else path.open("wb")) as handle:
        pacsv.write_csv(plain, handle)


def main() -> None:
    """Command line of the generator."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", type=Path, help="output file: .parquet, .csv or .csv.gz")
    parser.add_argument("--rows", type=int, default=1_000_000, help="number of lines (default 1,000,000)")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    if args.rows < 100:
        parser.error("--rows must be at least 100")
    write(generate(args.rows, args.seed), args.path)
    print(f"wrote {args.rows:,} lines to {args.path}")


if __name__ == "__main__":
    main()

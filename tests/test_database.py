"""Database input and write-back against a real PostgreSQL server (started by the ``postgres`` fixture), and
SQLite and DuckDB database files: same results as from files, typed columns, one-line errors, atomic writes."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pytest
from click.testing import CliRunner
from pgcluster import ANALYST, ANALYST_PASSWORD, READER

from reportgen.cli import main
from reportgen.config import load_config
from reportgen.inputs.database.connection import connect
from reportgen.inputs.database.reader import database_input, read_customers
from reportgen.inputs.database.url import parse_url, redact, split_password

FAST = ["--formats", "json,csv", "-q"]
PROVENANCE = {("run", "input_name"), ("run", "input_sha256")}


def invoke(*args: str) -> object:
    return CliRunner().invoke(main, list(args))


@pytest.fixture(autouse=True)
def _no_password_left(monkeypatch: pytest.MonkeyPatch):
    """The command line hands a URL's password to libpq through PGPASSWORD: never let it outlive a test."""
    monkeypatch.delenv("PGPASSWORD", raising=False)
    yield
    os.environ.pop("PGPASSWORD", None)


def _ingest(url: str, name: str, frame: pd.DataFrame) -> None:
    import adbc_driver_postgresql.dbapi as pg

    with pg.connect(url) as con, con.cursor() as cur:
        cur.adbc_ingest(name, pa.Table.from_pandas(frame, preserve_index=False), mode="create")
        con.commit()


def marketing_frame(datasets_dir: Path) -> pd.DataFrame:
    frame = pd.read_csv(datasets_dir / "marketing_campaign.csv", sep="\t")
    frame["Dt_Customer"] = pd.to_datetime(frame["Dt_Customer"], format="%d-%m-%Y").dt.date  # a DATE column
    return frame


@pytest.fixture(scope="module")
def shop(postgres, datasets_dir: Path):
    """The ``shop`` database: marketing_campaign (Dt_Customer a DATE), online_retail as ``orders`` (typed:
    integers, a timestamp, nullable integer customer ids), and a table of every column type."""
    url = postgres.url("shop")
    _ingest(url, "marketing", marketing_frame(datasets_dir))
    orders = pd.read_csv(datasets_dir / "online_retail.csv.gz", dtype={"InvoiceNo": str, "StockCode": str})
    orders["InvoiceDate"] = pd.to_datetime(orders["InvoiceDate"])
    orders["CustomerID"] = orders["CustomerID"].astype("Int64")
    _ingest(url, "orders", orders)
    postgres.psql("CREATE TYPE tier AS ENUM ('bronze', 'silver', 'gold'); "
                  "CREATE TABLE typed (code text, big bigint, spend numeric(12, 2), visits integer, score real, "
                  "joined date, seen timestamp, seen_tz timestamptz, member boolean, level tier, gap interval); "
                  "INSERT INTO typed SELECT lpad(i::text, 5, '0'), 9007199254740993 + i, "
                  "round((i * 1.37)::numeric, 2), "
                  "i % 7, (i % 5)::real, DATE '2020-01-01' + i, TIMESTAMP '2020-01-01 10:00' + i * INTERVAL '1 hour', "
                  "TIMESTAMPTZ '2020-01-01 10:00+02' + i * INTERVAL '1 hour', i % 2 = 0, "
                  "(ARRAY['bronze', 'silver', 'gold']::tier[])[1 + i % 3], i * INTERVAL '1 day' "
                  "FROM generate_series(1, 300) AS i; "
                  "INSERT INTO typed (code) VALUES ('00999'); CREATE TABLE empty (id int, x float8)", db="shop")
    return postgres


def _summary(folder: Path) -> dict:
    summary = json.loads((folder / "summary.json").read_text())
    for section, key in PROVENANCE:
        summary[section].pop(key)
    for key in ("path", "url", "table", "query"):
        summary["run"]["config"]["data"].pop(key)
    if summary.get("transactions"):
        # How the log was read is input provenance: a file's encoding and separator, or the database's query.
        summary["transactions"]["notes"] = [n for n in summary["transactions"]["notes"]
                                            if not n.startswith(("encoding:", "separator:", "dates:", "aggregated in"))]
    return summary


def test_marketing_from_postgres_matches_the_file(shop, datasets_dir: Path, tmp_path: Path) -> None:
    file_run, db_run = tmp_path / "file", tmp_path / "db"
    assert invoke("run", str(datasets_dir / "marketing_campaign.csv"), "-o", str(file_run), *FAST).exit_code == 0
    result = invoke("run", shop.url("shop"), "--table", "marketing", "-o", str(db_run), *FAST)
    assert result.exit_code == 0, result.output
    assert (db_run / "segments.csv").read_bytes() == (file_run / "segments.csv").read_bytes()
    from_file, from_db = _summary(file_run), _summary(db_run)
    # The one difference: the source's own type for the date column (text in the file, DATE in the table).
    dates = [c for c in from_db["data"]["columns"] if c["name"] == "Dt_Customer"]
    assert dates[0]["dtype"].startswith("datetime64") and dates[0]["kind"] == "date"
    dates[0]["dtype"] = "str"
    assert from_db == from_file
    assert json.loads((db_run / "summary.json").read_text())["run"]["input_name"] == "marketing"


@pytest.mark.slow
def test_online_retail_is_aggregated_in_postgres(shop, datasets_dir: Path, tmp_path: Path) -> None:
    file_run, db_run = tmp_path / "file", tmp_path / "db"
    assert invoke("run", str(datasets_dir / "online_retail.csv.gz"), "-o", str(file_run), *FAST).exit_code == 0
    done = subprocess.run([sys.executable, "-m", "reportgen", "run", shop.url("shop"), "--table", "orders", "-o",
                           str(db_run), "--formats", "json,csv", "-v"], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert (db_run / "customers.csv").read_bytes() == (file_run / "customers.csv").read_bytes()
    assert _summary(db_run) == _summary(file_run)
    # The per-customer features are computed by PostgreSQL: the translated query is in the verbose log,
    # and the only rows fetched are one per customer.
    assert "sql: CREATE TEMPORARY TABLE per AS WITH u AS (SELECT * FROM classified" in done.stderr
    assert "ARRAY_AGG(country ORDER BY k DESC NULLS LAST, country COLLATE \"C\")" in done.stderr
    assert "FROM per WHERE frequency > 0 AND monetary > 0 ORDER BY customer_id COLLATE \"C\"" in done.stderr


def test_types_arrive_as_from_a_file(shop) -> None:
    config = load_config(None, {"data.url": shop.url("shop"), "data.table": "typed"})
    source = database_input(config.data)
    with connect(source.target) as db:
        table = read_customers(db, source, config)
    frame = table.frame
    assert frame["code"].iloc[0] == "00001" and frame["code"].iloc[-1] == "00999"  # leading zeros kept
    assert frame["big"].iloc[0] == "9007199254740994"  # beyond 2**53 with a NULL: text, every digit kept
    assert str(frame["spend"].dtype) == "float64" and frame["spend"].iloc[0] == 1.37  # numeric → float
    assert str(frame["visits"].dtype) == "float64" and frame["visits"].isna().sum() == 1  # int with NULL
    assert str(frame["score"].dtype) == "float64"
    assert pd.api.types.is_datetime64_any_dtype(frame["joined"]) and frame["joined"].iloc[0] == pd.Timestamp(
        "2020-01-02")
    assert frame["seen"].iloc[0] == pd.Timestamp("2020-01-01 11:00")
    assert frame["seen_tz"].iloc[0] == pd.Timestamp("2020-01-01 09:00", tz="UTC")
    assert set(frame["member"].dropna()) == {True, False}
    assert list(frame["level"].iloc[:3]) == ["silver", "gold", "bronze"] and frame["level"].isna().sum() == 1
    assert "gap" not in frame and table.skipped == (("gap", "type interval is not supported"),)
    # A column the config relies on cannot be skipped silently: the error names it and its type.
    config = load_config(None, {"data.url": shop.url("shop"), "data.table": "typed", "features.roles.monetary": "gap"})
    with connect(source.target) as db, pytest.raises(Exception, match="column 'gap' has type interval"):
        read_customers(db, source, config)


def _rows(url: str, sql: str) -> pd.DataFrame:
    with connect(parse_url(url), write=True) as db:
        return db.arrow(sql).to_pandas()


def test_segments_written_back_once_per_period(shop, datasets_dir: Path, tmp_path: Path) -> None:
    crm = shop.tcp_url("shop")
    os.environ["PGPASSWORD"] = ANALYST_PASSWORD
    args = ["run", shop.url("shop"), "--table", "marketing", "--period", "2026-10", "--write-to", crm, *FAST]
    assert invoke(*args, "-o", str(tmp_path / "a")).exit_code == 0
    first = _rows(crm, "SELECT * FROM segments WHERE period = '2026-10' ORDER BY customer_id")
    result = invoke(*args, "-o", str(tmp_path / "b"))  # the same period again: replaced, not added
    assert result.exit_code == 0, result.output
    again = _rows(crm, "SELECT * FROM segments WHERE period = '2026-10' ORDER BY customer_id")
    csv = pd.read_csv(tmp_path / "b" / "segments.csv").sort_values("ID").reset_index(drop=True)
    assert len(again) == len(csv) == 2240 and again["run_id"].nunique() == 1
    assert again["run_id"].iloc[0] != first["run_id"].iloc[0]
    assert list(again["customer_id"]) == list(csv["ID"]) and str(again["customer_id"].dtype) == "int64"
    assert list(again["segment_id"]) == list(csv["segment_id"])
    assert list(again["segment_name"]) == list(csv["segment_name"])
    assert list(again["distance"].round(6)) == list(csv["distance_to_centroid"])
    summary = _rows(crm, "SELECT * FROM segment_summary WHERE period = '2026-10' ORDER BY segment_id")
    report = json.loads((tmp_path / "b" / "summary.json").read_text())
    assert list(summary["customers"]) == [s["size"] for s in report["segments"]]
    assert list(summary["segment_name"]) == [s["name"] for s in report["segments"]]
    assert list(summary["share"]) == pytest.approx([s["share"] for s in report["segments"]])
    assert summary["lead_action"].notna().all() and summary["run_id"].iloc[0] == again["run_id"].iloc[0]
    # Another period adds its own rows beside the first.
    assert invoke(*args[:5], "2026-11", *args[6:], "-o", str(tmp_path / "c")).exit_code == 0
    counts = _rows(crm, "SELECT period, count(*) AS n FROM segments GROUP BY period ORDER BY period")
    assert counts.to_dict("list") == {"period": ["2026-10", "2026-11"], "n": [2240, 2240]}


def test_a_run_killed_while_writing_leaves_the_previous_rows(shop, tmp_path: Path) -> None:
    import adbc_driver_postgresql.dbapi as pg

    crm = shop.url("shop")
    config = tmp_path / "tables.toml"
    config.write_text('[output]\nsegments_table = "kill_segments"\nsummary_table = "kill_summary"\n')
    base = [sys.executable, "-m", "reportgen", "run", crm, "--table", "marketing", "--period", "2027-01",
            "--write-to", crm, "-c", str(config), "--formats", "json,csv", "-q"]
    env = dict(os.environ)
    done = subprocess.run([*base, "--seed", "1", "-o", str(tmp_path / "first")], capture_output=True, text=True,
                          env=env, check=False)
    assert done.returncode == 0, done.stderr
    before = _rows(crm, "SELECT * FROM kill_segments ORDER BY customer_id")
    with pg.connect(crm) as holder, holder.cursor() as cur:
        cur.execute("LOCK TABLE kill_summary IN ACCESS EXCLUSIVE MODE")  # the run stops at its second table
        run = subprocess.Popen([*base, "--seed", "2", "-o", str(tmp_path / "second")], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with connect(parse_url(crm)) as watch:
            for _ in range(600):
                waiting = watch.arrow("SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                      "AND query LIKE 'DELETE FROM \"kill_summary\"%'").column("n")[0].as_py()
                watch.rollback()  # statistics are read once per transaction
                if waiting or run.poll() is not None:
                    break
                time.sleep(0.1)
        assert waiting, "the run never reached the write"
        run.send_signal(signal.SIGKILL)
        run.wait()
        holder.rollback()
    time.sleep(0.5)
    after = _rows(crm, "SELECT * FROM kill_segments ORDER BY customer_id")
    pd.testing.assert_frame_equal(after, before)
    assert not (tmp_path / "second").exists()


def test_bad_databases_fail_in_one_line(shop, tmp_path: Path) -> None:
    out = tmp_path / "out"
    port = shop.port
    closed = f"postgresql://{ANALYST}:hunter2secret@127.0.0.1:1/shop"
    cases = {
        "cannot connect": ["run", closed, "--table", "marketing"],
        "password authentication failed": ["run", shop.tcp_url("shop", password="wrong-pass-123"), "--table",
                                           "marketing"],
        'relation "nope" does not exist': ["run", shop.url("shop"), "--table", "nope"],
        "syntax error": ["run", shop.url("shop"), "--query", "SELEC 1"],
        'column "missing" does not exist': ["run", shop.url("shop"), "--query", "SELECT missing FROM marketing"],
        "the table has no rows": ["run", shop.url("shop"), "--table", "empty"],
        "the query returned no rows": ["run", shop.url("shop"), "--query", "SELECT * FROM marketing WHERE false"],
        "give a table (--table) or a query": ["run", shop.url("shop")],
        "permission denied for schema public": ["run", shop.url("shop"), "--table", "marketing", "--period", "x",
                                                "--write-to", shop.url("shop", user=READER)],
        "no such database file": ["run", f"sqlite:///{tmp_path / 'none.db'}", "--table", "t"],
    }
    for expected, args in cases.items():
        result = invoke(*args, "-o", str(out), *FAST)
        assert result.exit_code == 1, (expected, result.output)
        message = result.output.strip()
        assert message.startswith("Error: ") and "\n" not in message and expected in message, (expected, message)
        assert "hunter2secret" not in message and "wrong-pass-123" not in message and "Traceback" not in message
        assert not out.exists()
        os.environ.pop("PGPASSWORD", None)
    assert port == shop.port
    # The read-only target kept nothing either: no table was created.
    tables = shop.psql("SELECT count(*) FROM pg_tables WHERE tablename = 'segments' AND tableowner = 'reader'",
                       db="shop")
    assert tables.strip() == "0"


def test_passwords_stay_out_of_configs_and_messages(shop, tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text(f'[data]\nurl = "postgresql://{ANALYST}:topsecret@127.0.0.1:{shop.port}/shop"\n'
                      'table = "marketing"\n')
    result = invoke("run", "-c", str(config), "-o", str(tmp_path / "o"), *FAST)
    assert result.exit_code == 1 and "data.url" in result.output and "a password does not belong" in result.output
    assert "topsecret" not in result.output
    # From the command line the password reaches libpq only; the summary shows the URL without it.
    result = invoke("run", shop.tcp_url("shop", password=ANALYST_PASSWORD), "--table", "marketing", "-o",
                    str(tmp_path / "ok"), *FAST)
    assert result.exit_code == 0, result.output
    text = (tmp_path / "ok" / "summary.json").read_text()
    assert ANALYST_PASSWORD not in text and json.loads(text)["run"]["config"]["data"]["url"] == shop.tcp_url("shop")
    assert redact("postgresql://u:p%40ss@h/db") == "postgresql://u:***@h/db"
    assert split_password("postgresql://h/db?password=x&sslmode=require") == ("postgresql://h/db?sslmode=require", "x")


def test_validate_reads_a_database(shop) -> None:
    result = invoke("validate", shop.url("shop"), "--table", "marketing")
    assert result.exit_code == 0, result.output
    assert "marketing: 2,240 rows read" in result.output and "OK: the data and config are usable." in result.output


def _sqlite_copy(frame: pd.DataFrame, path: Path) -> None:
    with sqlite3.connect(path) as con:
        frame.to_sql("customers", con, index=False)


def test_sqlite_and_duckdb_files_match_the_file_run(datasets_dir: Path, tmp_path: Path) -> None:
    source = datasets_dir / "marketing_campaign.csv"
    frame = pd.read_csv(source, sep="\t")
    _sqlite_copy(frame, tmp_path / "shop.db")
    with duckdb.connect(str(tmp_path / "shop.duckdb")) as con:
        con.register("frame", marketing_frame(datasets_dir))
        con.execute("CREATE TABLE customers AS SELECT * FROM frame")
    runs = {"file": [str(source)], "sqlite": [f"sqlite:///{tmp_path / 'shop.db'}", "--table", "customers"],
            "duckdb": [f"duckdb:///{tmp_path / 'shop.duckdb'}", "--query",
                       'SELECT * FROM customers WHERE "Income" IS NOT NULL OR true']}
    for name, args in runs.items():
        result = invoke("run", *args, "-o", str(tmp_path / name), *FAST)
        assert result.exit_code == 0, (name, result.output)
    expected = (tmp_path / "file" / "segments.csv").read_bytes()
    assert (tmp_path / "sqlite" / "segments.csv").read_bytes() == expected
    assert (tmp_path / "duckdb" / "segments.csv").read_bytes() == expected


def test_sqlite_write_back(datasets_dir: Path, tmp_path: Path) -> None:
    target = tmp_path / "crm.db"
    args = ["run", str(datasets_dir / "Mall_Customers.csv"), "--period", "2026-10", "--write-to",
            f"sqlite:///{target}", *FAST]
    for run in ("a", "b"):
        result = invoke(*args, "-o", str(tmp_path / run))
        assert result.exit_code == 0, result.output
    with sqlite3.connect(target) as con:
        rows = pd.read_sql("SELECT * FROM segments ORDER BY customer_id", con)
    csv = pd.read_csv(tmp_path / "b" / "segments.csv", dtype={"CustomerID": str})
    assert list(rows["customer_id"]) == sorted(csv["CustomerID"]) and rows["customer_id"].iloc[0] == "0001"


def test_logs_in_sqlite_and_duckdb_files_match_the_file(datasets_dir: Path, tmp_path: Path) -> None:
    lines = pd.read_csv(datasets_dir / "online_retail.csv.gz", dtype={"InvoiceNo": str, "StockCode": str},
                        nrows=40_000)
    log = tmp_path / "log.csv"
    lines.to_csv(log, index=False)
    with sqlite3.connect(tmp_path / "shop.db") as con:  # SQLite keeps the timestamps as text
        lines.to_sql("orders", con, index=False)
    with duckdb.connect(str(tmp_path / "shop.duckdb")) as con:  # DuckDB types them (TIMESTAMP, BIGINT, DOUBLE)
        con.execute(f"CREATE TABLE orders AS SELECT * FROM read_csv('{log}')")
    runs = {"file": [str(log)], "sqlite": [f"sqlite:///{tmp_path / 'shop.db'}", "--table", "orders"],
            "duckdb": [f"duckdb:///{tmp_path / 'shop.duckdb'}", "--table", "orders"]}
    for name, args in runs.items():
        result = invoke("run", *args, "-o", str(tmp_path / name), *FAST)
        assert result.exit_code == 0, (name, result.output)
    expected = (tmp_path / "file" / "customers.csv").read_bytes()
    assert (tmp_path / "sqlite" / "customers.csv").read_bytes() == expected
    assert (tmp_path / "duckdb" / "customers.csv").read_bytes() == expected
    summary = json.loads((tmp_path / "duckdb" / "summary.json").read_text())
    reconciliation = json.loads((tmp_path / "file" / "summary.json").read_text())["transactions"]["reconciliation"]
    assert summary["transactions"]["reconciliation"] == reconciliation


def test_init_writes_a_config_for_a_database_table(shop, tmp_path: Path) -> None:
    written = tmp_path / "shop.toml"
    result = invoke("init", shop.url("shop"), "--table", "marketing", "-o", str(written))
    assert result.exit_code == 0, result.output
    text = written.read_text()
    assert f'url = "{shop.url("shop")}"' in text and 'table = "marketing"' in text and 'id_column = "ID"' in text
    result = invoke("validate", "-c", str(written))
    assert result.exit_code == 0 and "2,240 usable customers" in result.output
    log_config = tmp_path / "orders.toml"
    assert invoke("init", shop.url("shop"), "--table", "orders", "-o", str(log_config)).exit_code == 0
    assert 'input = "transactions"' in log_config.read_text() and 'customer = "CustomerID"' in log_config.read_text()


def test_sqlite_columns_of_mixed_storage(tmp_path: Path) -> None:
    """SQLite types values, not columns: NULLs first, integers among reals and text among numbers still read."""
    path = tmp_path / "mixed.db"
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE t (id TEXT, spend REAL, visits, note)")
        con.executemany("INSERT INTO t VALUES (?, ?, ?, ?)",
                        [(f"{i:05d}", None, None, None) for i in range(3000)]
                        + [("03000", 2.5, 3, "a"), ("03001", 4, 5.5, 7)])
    config = load_config(None, {"data.url": f"sqlite:///{path}", "data.table": "t"})
    source = database_input(config.data)
    with connect(source.target) as db:
        frame = read_customers(db, source, config).frame
    assert frame["id"].iloc[0] == "00000" and frame["spend"].iloc[-2:].tolist() == [2.5, 4.0]
    assert frame["visits"].iloc[-2:].tolist() == [3.0, 5.5] and frame["note"].iloc[-2:].tolist() == ["a", "7"]


def test_a_log_query_is_aggregated_in_postgres(shop, datasets_dir: Path, tmp_path: Path) -> None:
    lines = pd.read_csv(datasets_dir / "online_retail.csv.gz", dtype={"InvoiceNo": str, "StockCode": str})
    lines = lines[lines["Country"] == "France"]
    lines.assign(CustomerID=lines["CustomerID"].astype("Int64")).to_csv(tmp_path / "france.csv", index=False)
    query = """SELECT * FROM orders WHERE "Country" = 'France';"""
    runs = {"file": [str(tmp_path / "france.csv")], "db": [shop.url("shop"), "--query", query]}
    for name, args in runs.items():
        result = invoke("run", *args, "-o", str(tmp_path / name), *FAST)
        assert result.exit_code == 0, (name, result.output)
    assert (tmp_path / "db" / "customers.csv").read_bytes() == (tmp_path / "file" / "customers.csv").read_bytes()
    assert _summary(tmp_path / "db") == _summary(tmp_path / "file")

"""A throwaway PostgreSQL cluster in a temporary folder, for the tests and the database benchmark.

PostgreSQL refuses to run as root, so when the tests run as root the server runs as the unprivileged ``nobody``
user. The cluster trusts local socket connections and asks a password over TCP (localhost only), so both the
socket form and a refused login can be exercised.
"""

from __future__ import annotations

import atexit
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

SUPERUSER = "reportgen"
ANALYST, ANALYST_PASSWORD = "analyst", "s3cret-pw"
READER = "reader"  # may read, may not create tables


def pg_bin() -> Path | None:
    """The folder of Debian's PostgreSQL server binaries (newest version), or the one on PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("pg_ctl")
    return Path(on_path).parent if on_path else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Cluster:
    """A running cluster: its folder, socket folder and TCP port."""

    root: Path
    port: int
    bin: Path
    as_user: list[str]

    @property
    def socket_dir(self) -> Path:
        return self.root / "sock"

    def url(self, db: str = "postgres", user: str = SUPERUSER) -> str:
        """A socket URL (no password needed)."""
        return f"postgresql://{user}@/{db}?host={self.socket_dir}&port={self.port}"

    def tcp_url(self, db: str = "postgres", user: str = ANALYST, password: str | None = None) -> str:
        auth = f"{user}:{password}" if password is not None else user
        return f"postgresql://{auth}@127.0.0.1:{self.port}/{db}"

    def psql(self, sql: str, db: str = "postgres") -> str:
        """Run SQL as the superuser through psql; returns its output."""
        done = subprocess.run([str(self.bin / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", "-h",
                               str(self.socket_dir), "-p", str(self.port), "-U", SUPERUSER, "-d", db, "-c", sql],
                              capture_output=True, text=True, check=False)
        if done.returncode:
            raise RuntimeError(f"psql failed: {done.stderr.strip()}")
        return done.stdout

    def stop(self) -> None:
        if not self.root.exists():
            return
        subprocess.run([*self.as_user, str(self.bin / "pg_ctl"), "-D", str(self.root / "data"), "-m", "immediate",
                        "-w", "stop"], capture_output=True, check=False)
        shutil.rmtree(self.root, ignore_errors=True)


def start_cluster() -> Cluster:
    """initdb and start a cluster in a new temporary folder; raises RuntimeError naming what failed."""
    binary = pg_bin()
    if binary is None:
        raise RuntimeError("PostgreSQL server binaries not found (apt-get install postgresql)")
    # The server's user must reach the folder: under root, a private TMPDIR would not do.
    root = Path(tempfile.mkdtemp(prefix="reportgen-pg-", dir="/tmp" if os.geteuid() == 0 else None))
    as_user: list[str] = []
    if os.geteuid() == 0:
        as_user = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"]
        os.chown(root, 65534, 65534)
    (root / "sock").mkdir()
    if os.geteuid() == 0:
        os.chown(root / "sock", 65534, 65534)
    pwfile = root / "pw"
    pwfile.write_text("unused-superuser-password\n")
    if os.geteuid() == 0:
        os.chown(pwfile, 65534, 65534)
    env = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
    steps = [[*as_user, str(binary / "initdb"), "-D", str(root / "data"), "-U", SUPERUSER, "--pwfile", str(pwfile),
              "-E", "UTF8", "--locale=C.UTF-8", "--auth-local=trust", "--auth-host=scram-sha-256"]]
    port = _free_port()
    opts = (f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={root / 'sock'} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=256MB "
            "-c max_connections=50")
    steps.append([*as_user, str(binary / "pg_ctl"), "-D", str(root / "data"), "-o", opts, "-l",
                  str(root / "server.log"), "-w", "-t", "60", "start"])
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, env=env, cwd=root, check=False)
        if done.returncode:
            log = (root / "server.log").read_text() if (root / "server.log").exists() else ""
            shutil.rmtree(root, ignore_errors=True)
            raise RuntimeError(f"{Path(step[len(as_user)]).name} failed: {(done.stderr or done.stdout).strip()} "
                               f"{log[-500:]}")
    cluster = Cluster(root, port, binary, as_user)
    atexit.register(cluster.stop)  # also when the caller never gets to stop it
    try:
        _set_up(cluster)
    except BaseException:
        cluster.stop()
        raise
    return cluster


def _set_up(cluster: Cluster) -> None:
    """Roles and the ``shop`` database."""
    for _ in range(50):
        try:
            cluster.psql("SELECT 1")
            break
        except RuntimeError:
            time.sleep(0.1)
    cluster.psql(f"CREATE ROLE {ANALYST} LOGIN PASSWORD '{ANALYST_PASSWORD}'; CREATE ROLE {READER} LOGIN")
    cluster.psql("CREATE DATABASE shop")
    cluster.psql(f"GRANT ALL ON SCHEMA public TO {ANALYST}; GRANT USAGE ON SCHEMA public TO {READER}; "
                 f"ALTER DEFAULT PRIVILEGES FOR ROLE {SUPERUSER} IN SCHEMA public GRANT SELECT ON TABLES TO "
                 f"{READER}, {ANALYST}", db="shop")

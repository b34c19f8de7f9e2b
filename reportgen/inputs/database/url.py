"""Database URLs: which database a URL names, and the URL with its password hidden.

Forms: ``postgresql://[user@][host][:port]/dbname[?service=…&sslmode=…]`` (anything libpq accepts, including
``postgres://``), ``sqlite:///relative/file.db`` or ``sqlite:////absolute/file.db``, and the same for
``duckdb://``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from reportgen.errors import ConfigError

_SCHEMES = {"postgresql": "postgres", "postgres": "postgres", "sqlite": "sqlite", "duckdb": "duckdb"}
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://")


def is_url(text: str | None) -> bool:
    """Whether ``text`` is written as a URL (``scheme://…``) rather than a file path."""
    return bool(text) and bool(_URL.match(str(text)))


def split_password(url: str) -> tuple[str, str | None]:
    """``url`` without the password in its user part or its ``password=`` parameter, and that password."""
    password = None
    if match := re.match(r"([^:/]+://[^:/@?#\s]*):([^@/?#\s]*)@", url):
        password = unquote(match[2])
        url = match[1] + "@" + url[match.end():]
    if match := re.search(r"([?&])password=([^&#]*)&?", url):
        password = unquote(match[2])
        url = (url[:match.start()] + match[1] + url[match.end():]).rstrip("?&")
    return url, password


def redact(text: str, secret: str | None = None) -> str:
    """``text`` with URL passwords (and ``secret`` wherever it appears) replaced by ``***``."""
    text = re.sub(r"(://[^:/@\s]*:)[^@\s]*@", r"\1***@", text)
    text = re.sub(r"(password=)[^&\s]*", r"\1***", text)
    return text.replace(secret, "***") if secret else text


@dataclass(frozen=True)
class DatabaseUrl:
    """A database named by a URL: its kind (``postgres``, ``sqlite``, ``duckdb``), the URL, and for SQLite and
    DuckDB the database file."""

    kind: str
    url: str
    file: Path | None = None

    @property
    def shown(self) -> str:
        """The URL as shown in messages and summaries: the password hidden."""
        return redact(self.url)


def parse_url(url: str, key: str = "data.url") -> DatabaseUrl:
    """Recognise the database a URL names.

    Raises
    ------
    ConfigError
        For a scheme that is not PostgreSQL, SQLite or DuckDB, or a file URL without a path.
    """
    scheme = url.split("://", 1)[0].lower().split("+", 1)[0]
    kind = _SCHEMES.get(scheme)
    if kind is None:
        raise ConfigError(f"Config value {key!r}: expected a postgresql://, sqlite:/// or duckdb:/// URL but "
                          f"received {redact(url)!r}")
    if kind == "postgres":
        return DatabaseUrl(kind, url)
    rest = url.split("://", 1)[1]
    if not rest.startswith("/") or len(rest) < 2:
        raise ConfigError(f"Config value {key!r}: a {scheme} URL names a file, e.g. {scheme}:///shop.db or "
                          f"{scheme}:////data/shop.db, but received {redact(url)!r}")
    return DatabaseUrl(kind, url, Path(rest[1:].split("?", 1)[0]).expanduser())

"""The cover logo: a small image file, checked by its content before it is embedded in the reports."""

from __future__ import annotations

import re
from pathlib import Path

from reportgen.errors import ConfigError

MAX_LOGO_BYTES = 5_000_000
_SIGNATURES = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"), (b"GIF87a", "image/gif"),
               (b"GIF89a", "image/gif"))
# An SVG opens with its <svg> element, after an optional BOM, XML declaration, doctype and comments.
_SVG = re.compile(rb"\A(?:\xef\xbb\xbf)?\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*|<!DOCTYPE[^>]*>\s*)*<svg[\s>]",
                  re.DOTALL | re.IGNORECASE)


def read_logo(path: str | Path) -> tuple[str, bytes]:
    """The logo's media type and bytes.

    Raises
    ------
    ConfigError
        Naming ``report.logo`` when the file is missing, larger than :data:`MAX_LOGO_BYTES` or not a PNG, JPEG,
        GIF, WebP or SVG image (judged by its content, not its name).
    """
    file = Path(path).expanduser()
    where = f"Config value 'report.logo': {file}"
    try:
        with file.open("rb") as handle:
            data = handle.read(MAX_LOGO_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"{where} cannot be read ({exc.strerror or exc})") from None
    if len(data) > MAX_LOGO_BYTES:
        raise ConfigError(f"{where} is larger than {MAX_LOGO_BYTES // 1_000_000} MB; use a smaller image")
    mime = next((kind for signature, kind in _SIGNATURES if data.startswith(signature)), None)
    if mime is None and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        mime = "image/webp"
    if mime is None and _SVG.match(data[:4096]):
        mime = "image/svg+xml"
    if mime is None:
        raise ConfigError(f"{where} is not a PNG, JPEG, GIF, WebP or SVG image")
    return mime, data

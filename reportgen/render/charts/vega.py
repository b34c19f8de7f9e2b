"""The Vega, Vega-Lite and vega-embed JavaScript the interactive HTML report inlines, and safe inline script text.

The libraries come from the installed vl-convert package (:func:`vl_convert.javascript_bundle`), so the report
needs no CDN and no network. Bundling takes a second or two and holds the interpreter, so the result is kept in the
user's cache folder (:func:`cache_file`) and built again only when vl-convert changes.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import re
import threading
from pathlib import Path
from typing import Any

import vl_convert

from reportgen.errors import RenderError

# The bundle exposes only what the page script uses; vega-embed brings Vega, Vega-Lite and the tooltip handler.
SNIPPET = "window.vegaEmbed = vegaEmbed;"
_SCRIPT_END = re.compile(r"</(script)", re.IGNORECASE)
# ``url(`` opening a string or template literal (Vega's SVG renderer builds ``url(#gradient)`` references).
_QUOTED_URL = re.compile(r"""(["'`])url\(""")
_CACHE_END = "\n// reportgen: complete\n"  # a cached bundle without this line is rebuilt
_lock = threading.Lock()
_bundle: str | None = None


def script_safe(text: str) -> str:
    """JavaScript text that cannot end the ``<script>`` element it is inlined into, nor open an HTML comment.

    Only ``</script`` and ``<!--`` matter to the HTML parser; elsewhere ``</`` is left alone, since escaping it
    would change regular expressions such as ``/</g``. ``<\\/script`` and ``\\x3C!--`` mean the same inside
    JavaScript strings, template literals and regular expressions, the only places library code has them.
    """
    return _SCRIPT_END.sub(r"<\\/\1", text).replace("<!--", "\\x3C!--")


def quiet_urls(text: str) -> str:
    """Write ``url(`` at the start of a JavaScript string as ``url\\x28`` (the same string).

    The page's text then holds no ``url(`` outside its stylesheet, so checks that look for CSS references in the
    whole file see only the report's own.
    """
    return _QUOTED_URL.sub(r"\1url\\x28", text)


def bundle() -> str:
    """The minified JavaScript bundle defining ``window.vegaEmbed``, built once per process.

    Returns
    -------
    str
        Script text, already passed through :func:`script_safe` and :func:`quiet_urls`.

    Raises
    ------
    RenderError
        When vl-convert cannot build the bundle.
    """
    global _bundle
    with _lock:
        if _bundle is None:
            _bundle = quiet_urls(script_safe(_cached_bundle()))
        return _bundle


def cache_file() -> Path:
    """Where the built bundle is kept between runs: ``$XDG_CACHE_HOME/reportgen`` (or ``~/.cache/reportgen``),
    named after the vl-convert version and the snippet, so an upgrade builds a fresh one."""
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    key = hashlib.sha256(f"{vl_convert.__version__}\n{SNIPPET}".encode()).hexdigest()[:16]
    return root / "reportgen" / f"vega-embed-{key}.js"


def _cached_bundle() -> str:
    """vl-convert's bundle, from the cache when an earlier run built it (bundling takes a second or two and holds
    the interpreter); a cache that cannot be read or written is simply skipped."""
    path = cache_file()
    with contextlib.suppress(OSError, UnicodeDecodeError):
        text = path.read_text(encoding="utf-8")
        if text.endswith(_CACHE_END):
            return text[: -len(_CACHE_END)]
    try:
        text = vl_convert.javascript_bundle(SNIPPET)
    except Exception as exc:  # vl-convert raises plain ValueError/RuntimeError
        raise RenderError(f"the chart libraries could not be bundled: {' '.join(str(exc).split())[:200]}") \
            from None
    with contextlib.suppress(OSError):  # written whole, then renamed: a reader never sees half a file
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}")
        partial.write_text(text + _CACHE_END, encoding="utf-8")
        os.replace(partial, path)
    return text


def _finite(value: Any) -> Any:
    """``value`` with every NaN or infinite float replaced by None (JSON has no such numbers)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value


def json_for_script(data: Any) -> str:
    """``data`` as JSON for a ``<script type="application/json">`` element: ``<``, ``>`` and ``&`` escaped, numbers
    that are not finite written as null."""
    text = json.dumps(_finite(data), ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")

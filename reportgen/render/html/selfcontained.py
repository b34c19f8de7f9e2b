"""The HTML outputs fetch nothing and run only reportgen's scripts, whatever a user template writes.

Two guards, both applied to the rendered document:

- :func:`secure_page` puts reportgen's own Content-Security-Policy right after the ``<head>`` tag: no fetch of any
  kind (``default-src 'none'``), images only from ``data:``, and scripts only those whose SHA-256 it lists (the
  page's own), so a script a template adds, an event-handler attribute or a ``javascript:`` URL does not run. A
  template that drops or loosens its own policy changes nothing: every policy on a page applies.
- :func:`external_reference` parses the document (tags, attributes, inline CSS with its escapes decoded by
  tinycss2) and names the first thing that would fetch, navigate off the page or run: URL attributes with a
  scheme or a host (``http:``, ``//``, ``\\\\host``), ``<object data>``, ``<embed>``, ``<iframe>``, ``<base>``,
  meta refresh, event handlers, ``url()``/``@import``/``image-set()`` in CSS, and scripts that are not the page's.
  Text is never inspected, so data such as a category ``@import`` or an id ``sales@import.co.uk`` is just text.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable, Iterator
from html.parser import HTMLParser
from typing import Any

import tinycss2

# Attributes whose value the browser loads (or navigates to) as a URL.
_URL_ATTRS = frozenset({"src", "href", "xlink:href", "srcset", "imagesrcset", "action", "formaction", "poster",
                        "data", "background", "cite", "codebase", "longdesc", "manifest", "ping", "lowsrc",
                        "dynsrc", "icon", "archive", "classid", "profile", "usemap", "itemtype"})
_NAVIGATION = frozenset({("a", "href"), ("area", "href")})  # a relative link to a file next to the report is fine
_REFUSED_TAGS = frozenset({"iframe", "frame", "frameset", "object", "embed", "applet", "base", "portal", "link",
                           "form", "fencedframe"})
# SVG presentation attributes that take url(): checked as CSS values.
_CSS_ATTRS = frozenset({"style", "fill", "stroke", "clip-path", "mask", "filter", "marker-start", "marker-mid",
                        "marker-end", "cursor"})
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)
_INVISIBLE = re.compile(r"[\t\n\r]")
_HEAD_PREFIX = re.compile(r"\A\s*(?:<!doctype html>\s*)?(?:<html(?:\s[^<>]*)?>\s*)?<head(?:\s[^<>]*)?>",
                          re.IGNORECASE)
_IMAGE_FUNCTIONS = frozenset({"image-set", "-webkit-image-set", "image", "cross-fade", "element", "src"})
PAGE_POLICY = ("default-src 'none'; script-src {scripts} 'unsafe-eval'; style-src 'unsafe-inline'; "
               "img-src data: blob:; base-uri 'none'; form-action 'none'")


def script_hash(text: str) -> str:
    """The CSP source expression allowing one inline script."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def _normal_url(value: str) -> str:
    return _INVISIBLE.sub("", value).strip("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f\x10\x11\x12\x13"
                                           "\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f ").replace("\\", "/")


def url_problem(value: str, navigation: bool = False) -> bool:
    """Whether a URL would leave the page: anything but a ``#fragment`` or ``data:`` (a relative file if a link)."""
    url = _normal_url(value)
    if not url or url.startswith("#"):
        return False
    if url[:5].lower() == "data:":
        return navigation  # a data: URL is an inline image, not a link
    if _SCHEME.match(url) or url.startswith("//"):
        return True
    return not navigation


def _tokens(nodes: Iterable[Any]) -> Iterator[Any]:
    for node in nodes:
        yield node
        for child in (getattr(node, "prelude", None), getattr(node, "content", None),
                      getattr(node, "arguments", None), getattr(node, "value", None)):
            if isinstance(child, list):
                yield from _tokens(child)


def css_problem(css: str, declarations: bool = False) -> str | None:
    """The first thing in a stylesheet (or a ``style`` attribute) that would fetch something, or None."""
    parsed = tinycss2.parse_blocks_contents(css) if declarations else tinycss2.parse_stylesheet(css)
    for node in _tokens(parsed):
        kind = getattr(node, "type", "")
        if kind == "at-rule" and node.lower_at_keyword in ("import", "namespace", "font-face"):
            return f"@{node.lower_at_keyword}"
        if kind == "url" and url_problem(node.value):
            return f"url({node.value})"
        if kind == "function" and node.lower_name == "url":
            strings = [t.value for t in node.arguments if t.type == "string"]
            if not strings or any(url_problem(s) for s in strings):
                return f"url({tinycss2.serialize(node.arguments)})"
        if kind == "function" and node.lower_name in _IMAGE_FUNCTIONS and \
                any(t.type == "string" and url_problem(t.value) for t in node.arguments):
            return f"{node.lower_name}({tinycss2.serialize(node.arguments)})"
    return None


class _Checker(HTMLParser):
    def __init__(self, scripts: frozenset[str] | None) -> None:
        super().__init__(convert_charrefs=True)
        self.scripts = scripts
        self.problem: str | None = None
        self.stack: list[str] = []
        self.text: list[str] = []

    def fail(self, what: str) -> None:
        if self.problem is None:
            self.problem = " ".join(what.split())[:120]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        tag = tag.lower()
        if tag in _REFUSED_TAGS:
            self.fail(f"<{tag}>")
        values = {name.lower(): value or "" for name, value in attrs}
        if tag == "meta" and values.get("http-equiv", "").lower() in ("refresh", "set-cookie", "location"):
            self.fail(f"<meta http-equiv={values['http-equiv']}>")
        if tag in ("animate", "set", "animatetransform", "animatemotion") and \
                values.get("attributename", "").lower() in ("href", "xlink:href", "src"):
            self.fail(f"<{tag} attributeName={values['attributename']}>")
        for name, value in values.items():
            if name.startswith("on"):
                self.fail(f"{name}= on <{tag}>")
            elif name in ("srcset", "imagesrcset"):
                if any(url_problem(part.split()[0]) for part in value.split(",") if part.split()):
                    self.fail(f"{name}={value}")
            elif name in _URL_ATTRS and url_problem(value, (tag, name) in _NAVIGATION):
                self.fail(f"{name}={value}")
            elif name in _CSS_ATTRS and (found := css_problem(value if name == "style" else f"x:{value}", True)):
                self.fail(f"{name}: {found}")
        if tag in ("script", "style"):
            self.stack.append(tag if tag == "style" or values.get("type", "").lower() not in
                              ("application/json", "application/ld+json") else "data")
            self.text = []

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag.lower() in ("script", "style"):
            self.handle_endtag(tag)

    def handle_data(self, data: str) -> None:
        if self.stack:
            self.text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag.lower() not in ("script", "style") or not self.stack:
            return
        kind, content = self.stack.pop(), "".join(self.text)
        if kind == "style" and (found := css_problem(content)):
            self.fail(f"<style>: {found}")
        if kind == "script" and self.scripts is not None and content not in self.scripts:
            self.fail(f"<script>{content[:60]}")


def external_reference(html: str, scripts: Iterable[str] | None = None) -> str | None:
    """The first thing in ``html`` that would make a browser fetch, leave the page or run a script, or None.

    Parameters
    ----------
    html
        The rendered document.
    scripts
        The inline scripts the page may run; None leaves scripts unchecked (only their ``src``).
    """
    checker = _Checker(frozenset(scripts) if scripts is not None else None)
    checker.feed(html)
    checker.close()
    return checker.problem


def secure_page(html: str, scripts: Iterable[str] = ()) -> str:
    """``html`` with reportgen's Content-Security-Policy as the first thing in its head.

    Raises
    ------
    ValueError
        When the document does not open with ``<head>`` (after the doctype and the ``<html>`` tag): anything
        before it would be read before the policy.
    """
    match = _HEAD_PREFIX.match(html)
    if match is None:
        raise ValueError("the page must open with <!DOCTYPE html>, <html> and <head>, with nothing before them")
    allowed = " ".join(sorted({script_hash(s) for s in scripts})) or "'none'"
    policy = PAGE_POLICY.format(scripts=allowed).replace("script-src 'none' 'unsafe-eval'", "script-src 'none'")
    meta = f'\n<meta http-equiv="Content-Security-Policy" content="{policy}">'
    return html[:match.end()] + meta + html[match.end():]

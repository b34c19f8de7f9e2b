"""Charts as PDF drawings: vl-convert's own PDF of each chart, kept as plain data for the PDF brief to embed.

WeasyPrint draws an SVG chart element by element in Python, and every letter of its text separately: at 100,000
customers the 16 charts took 0.55 of the 2.0 s the PDF brief took to lay out and write. vl-convert turns each
chart's SVG into a PDF page in native code instead (0.03 s a chart, in the chart process), and
:mod:`reportgen.render.pdf.chartread` reads that page into a :class:`ChartDrawing` (plain data: picklable, so the
chart process can make it while the render process lays out the pages). :func:`embed` writes it into the brief as
a form XObject, fonts and all, built from pydyf's public objects. Text stays text: it can be selected, searched and
extracted.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pydyf


class Name(str):
    """A PDF name, without its leading solidus."""


@dataclass(frozen=True)
class PdfString:
    """A PDF string, as its bytes."""

    raw: bytes


@dataclass(frozen=True)
class Ref:
    """A reference to another object of the drawing (an index into :attr:`ChartDrawing.objects`)."""

    index: int


@dataclass(frozen=True)
class StreamNode:
    """A PDF stream: its dictionary (without ``Length``) and its data, still encoded by its ``Filter``."""

    dictionary: dict[str, Any]
    data: bytes


@dataclass(frozen=True)
class ChartDrawing:
    """One chart as a PDF page's drawing: box, content, resources and the objects those refer to."""

    box: tuple[float, float, float, float]  # x0, y0, x1, y1 in points (one point per SVG pixel)
    content: StreamNode
    resources: dict[str, Any]
    objects: tuple[Any, ...]


def embed(drawing: ChartDrawing, add: Callable[[pydyf.Object], Any], shared: dict[bytes, pydyf.Stream]) -> pydyf.Stream:
    """Add the drawing's objects to a pydyf PDF (``add`` is ``pdf.add_object``) and return its form XObject.

    Objects identical across charts and referring to nothing (the sRGB colour profile every chart carries)
    are written once, through ``shared``.
    """
    objects: list[pydyf.Object | None] = []
    filled: list[tuple[Any, pydyf.Object]] = []
    for value in drawing.objects:  # numbered first, filled next: objects refer to each other in any order
        if isinstance(value, StreamNode) and not _refers(value.dictionary):
            key = hashlib.sha256(repr(value.dictionary).encode() + value.data).digest()
            if key not in shared:
                shared[key] = _stream(value, _nothing)
                add(shared[key])
            objects.append(shared[key])
            continue
        shell = _shell(value)
        if shell is not None:
            add(shell)
            filled.append((value, shell))
        objects.append(shell)

    def reference(index: int) -> Any:
        found = objects[index]
        return found.reference if found is not None else _pdf(drawing.objects[index], reference)

    for value, shell in filled:
        if isinstance(shell, pydyf.Stream):
            shell.stream, shell.extra = [value.data], _pdf(value.dictionary, reference)
        elif isinstance(shell, pydyf.Dictionary):
            shell.update(_pdf(value, reference))
        else:
            shell.extend(_pdf(value, reference))
    x0, y0, x1, y1 = drawing.box
    form = _stream(StreamNode({**drawing.content.dictionary, "Type": Name("XObject"), "Subtype": Name("Form"),
                               "BBox": [x0, y0, x1, y1], "Resources": drawing.resources}, drawing.content.data),
                   reference)
    add(form)
    return form


def _shell(value: Any) -> pydyf.Object | None:
    """An empty pydyf object for an indirect object of the drawing; None for a number or name, written in place."""
    if isinstance(value, StreamNode):
        return pydyf.Stream()
    if isinstance(value, dict):
        return pydyf.Dictionary()
    if isinstance(value, list):
        return pydyf.Array()
    return None


def _nothing(index: int) -> Any:
    raise AssertionError("an object that refers to nothing has no references to write")


def _stream(node: StreamNode, reference: Callable[[int], Any]) -> pydyf.Stream:
    return pydyf.Stream([node.data], _pdf(node.dictionary, reference))


def _pdf(value: Any, reference: Callable[[int], Any]) -> Any:
    """A plain value as pydyf writes it; ``reference(index)`` stands for one of the drawing's objects."""
    if isinstance(value, Ref):
        return reference(value.index)
    if isinstance(value, Name):
        return pydyf.name(value)
    if isinstance(value, dict):
        return pydyf.Dictionary({pydyf.name(key)[1:]: _pdf(item, reference) for key, item in value.items()})
    if isinstance(value, list):
        return pydyf.Array([_pdf(item, reference) for item in value])
    if isinstance(value, PdfString):
        return pydyf.String(value.raw)
    if value is None:
        return b"null"
    if isinstance(value, bool):
        return b"true" if value else b"false"
    return value


def _refers(value: Any) -> bool:
    if isinstance(value, Ref):
        return True
    if isinstance(value, dict):
        return any(_refers(item) for item in value.values())
    if isinstance(value, list):
        return any(_refers(item) for item in value)
    return False

"""Charts as PDF drawings: vl-convert's own PDF of each chart, kept as plain data for the PDF brief to embed.

WeasyPrint draws an SVG chart element by element in Python, and every letter of its text separately: at 100,000
customers the 16 charts took 0.55 of the 2.0 s the PDF brief took to lay out and write. vl-convert turns each
chart's SVG into a PDF page in native code instead (0.03 s a chart, in the chart process).
:func:`drawing_from_svg` reads that page into a :class:`ChartDrawing` (picklable, so the chart process can make
it while the render process lays out the pages), and :func:`embed` writes it into the brief as a form XObject,
fonts and all. Text stays text: it can be selected, searched and extracted.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pydyf
import vl_convert
from pypdf import PdfReader, generic

from reportgen.errors import RenderError


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


def drawing_from_svg(svg: str) -> ChartDrawing:
    """Turn a chart's SVG into a :class:`ChartDrawing` with vl-convert (native code) and read it back with pypdf.

    Raises
    ------
    RenderError
        When vl-convert cannot convert the SVG.
    """
    try:
        document = vl_convert.svg_to_pdf(svg)
    except Exception as exc:  # vl-convert raises RuntimeError on an SVG it cannot parse
        raise RenderError(f"a chart could not be converted to PDF: {' '.join(str(exc).split())}") from None
    page = PdfReader(io.BytesIO(document)).pages[0]
    reader = _Reader()
    contents = page["/Contents"].get_object()
    if isinstance(contents, list):  # several content streams: one decoded stream holds them all
        content = StreamNode({}, b"\n".join(part.get_object().get_data() for part in contents))
    else:
        content = reader.plain(contents)
    box = tuple(float(value) for value in page.mediabox)
    return ChartDrawing(box, content, reader.plain(page["/Resources"]), tuple(reader.objects))  # type: ignore[arg-type]


class _Reader:
    """pypdf objects to plain data; indirect objects become :class:`Ref` to entries of ``objects``."""

    def __init__(self) -> None:
        self.objects: list[Any] = []
        self._index: dict[int, int] = {}

    def plain(self, value: Any) -> Any:
        if isinstance(value, generic.IndirectObject):
            if value.idnum not in self._index:
                self._index[value.idnum] = len(self.objects)
                self.objects.append(None)
                self.objects[self._index[value.idnum]] = self.plain(value.get_object())
            return Ref(self._index[value.idnum])
        if isinstance(value, generic.StreamObject):
            dictionary = {key[1:]: self.plain(item) for key, item in value.items() if key != "/Length"}
            return StreamNode(dictionary, value._data)
        if isinstance(value, generic.DictionaryObject):
            return {key[1:]: self.plain(item) for key, item in value.items() if key != "/Parent"}
        if isinstance(value, generic.ArrayObject):
            return [self.plain(item) for item in value]
        if isinstance(value, generic.NameObject):
            return Name(value[1:])
        if isinstance(value, generic.BooleanObject):
            return bool(value)
        if isinstance(value, generic.NullObject):
            return None
        if isinstance(value, generic.TextStringObject):
            return PdfString(value.original_bytes)
        if isinstance(value, generic.ByteStringObject):
            return PdfString(bytes(value))
        if isinstance(value, generic.FloatObject):
            return float(value)
        if isinstance(value, generic.NumberObject):
            return int(value)
        raise RenderError(f"unexpected object in a chart's PDF: {type(value).__name__}")


_PLAIN_NAME = re.compile(r"[!-~]*")  # printable ASCII; delimiters and # are escaped
_DELIMITERS = frozenset(b"<>()[]{}/%#")


def _name(text: str) -> bytes:
    if _PLAIN_NAME.fullmatch(text) and not _DELIMITERS.intersection(text.encode()):
        return b"/" + text.encode()
    return b"/" + b"".join(bytes([c]) if 33 <= c <= 126 and c not in _DELIMITERS else b"#%02x" % c
                           for c in text.encode())


def _serialise(value: Any, reference: Callable[[int], bytes]) -> bytes:
    """PDF syntax of a plain value; ``reference(index)`` writes a reference to one of the drawing's objects."""
    if isinstance(value, Ref):
        return reference(value.index)
    if isinstance(value, Name):
        return _name(value)
    if isinstance(value, dict):
        return b"<<" + b" ".join(_name(key) + b" " + _serialise(item, reference) for key, item in value.items()) + b">>"
    if isinstance(value, list):
        return b"[" + b" ".join(_serialise(item, reference) for item in value) + b"]"
    if isinstance(value, PdfString):
        return b"<" + value.raw.hex().encode() + b">"
    if value is None:
        return b"null"
    if isinstance(value, bool):
        return b"true" if value else b"false"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:f}".rstrip("0").encode()
    return str(int(value)).encode()


def _stream(node: StreamNode, reference: Callable[[int], bytes]) -> bytes:
    head = _serialise({**node.dictionary, "Length": len(node.data)}, reference)
    return head + b"\nstream\n" + node.data + b"\nendstream"


class _Embedded(pydyf.Object):
    """One object of a drawing, serialised when the PDF is written (references resolve to numbers by then)."""

    def __init__(self, write: Callable[[], bytes], stream: bool) -> None:
        super().__init__()
        self._write, self._stream = write, stream

    @property
    def data(self) -> bytes:
        return self._write()

    @property
    def compressible(self) -> bool:
        return not self._stream


def embed(drawing: ChartDrawing, add: Callable[[Any], None], shared: dict[bytes, Any]) -> Any:
    """Add the drawing's objects to a pydyf PDF (``add`` is ``pdf.add_object``) and return its form XObject.

    Objects identical across charts and referring to nothing (the sRGB colour profile every chart carries)
    are written once, through ``shared``.
    """
    objects: list[Any] = []

    def reference(index: int) -> bytes:
        return objects[index].reference

    for value in drawing.objects:
        if isinstance(value, StreamNode) and not _refers(value.dictionary):
            written = _stream(value, reference)  # final already: it refers to nothing
            key = hashlib.sha256(written).digest()
            if key not in shared:
                shared[key] = _Embedded(lambda written=written: written, stream=True)
                add(shared[key])
            objects.append(shared[key])
            continue
        if isinstance(value, StreamNode):
            item = _Embedded(lambda value=value: _stream(value, reference), stream=True)
        else:
            item = _Embedded(lambda value=value: _serialise(value, reference), stream=False)
        add(item)
        objects.append(item)
    x0, y0, x1, y1 = drawing.box
    form = StreamNode({**drawing.content.dictionary, "Type": Name("XObject"), "Subtype": Name("Form"),
                       "BBox": [x0, y0, x1, y1], "Resources": drawing.resources}, drawing.content.data)
    item = _Embedded(lambda: _stream(form, reference), stream=True)
    add(item)
    return item


def _refers(value: Any) -> bool:
    if isinstance(value, Ref):
        return True
    if isinstance(value, dict):
        return any(_refers(item) for item in value.values())
    if isinstance(value, list):
        return any(_refers(item) for item in value)
    return False

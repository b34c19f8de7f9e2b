"""A chart's SVG to a :class:`~reportgen.render.pdf.chartforms.ChartDrawing`: vl-convert's PDF of it, read back with
pypdf's public API (only the chart process, or a PDF rendered without one, needs these two libraries)."""

from __future__ import annotations

import io
import zlib
from typing import Any

import vl_convert
from pypdf import PdfReader, generic

from reportgen.errors import RenderError
from reportgen.render.pdf.chartforms import ChartDrawing, Name, PdfString, Ref, StreamNode


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

    def stream(self, value: generic.StreamObject) -> StreamNode:
        """A stream, decoded by pypdf and compressed again (pypdf hands out only decoded data)."""
        filters = value.get("/Filter")
        if filters not in (None, "/FlateDecode") or "/DecodeParms" in value:
            raise RenderError(f"unexpected stream filter in a chart's PDF: {filters}")
        dictionary = {key[1:]: self.plain(item) for key, item in value.items()
                      if key not in ("/Length", "/Filter")}
        return StreamNode(dictionary | {"Filter": Name("FlateDecode")}, zlib.compress(value.get_data()))

    def plain(self, value: Any) -> Any:
        if isinstance(value, generic.IndirectObject):
            if value.idnum not in self._index:
                self._index[value.idnum] = len(self.objects)
                self.objects.append(None)
                self.objects[self._index[value.idnum]] = self.plain(value.get_object())
            return Ref(self._index[value.idnum])
        if isinstance(value, generic.StreamObject):
            return self.stream(value)
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

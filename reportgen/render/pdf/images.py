"""The PDF brief's charts inside WeasyPrint: sized from their SVG, loaded late, drawn as embedded PDF forms.

Two hooks into WeasyPrint (checked by the tests against the installed version):

- images at ``chart:<name>`` become :class:`ChartImage`. WeasyPrint loads every image while it builds the
  document's boxes, before it lays out the first page, so the layout would wait for the last chart the chart
  process draws; a chart image instead waits for its chart when the page that shows it is laid out.
- when the PDF is written, each chart's :class:`~reportgen.render.pdf.chartforms.ChartDrawing` is added as a form
  XObject with its own fonts and resources (WeasyPrint's image objects carry no resources of their own), instead
  of WeasyPrint drawing the SVG element by element.

Where the second hook cannot be installed, a chart image draws its SVG through WeasyPrint as before.
"""

from __future__ import annotations

import functools
import hashlib
import re
import weakref
from collections.abc import Callable, Mapping
from typing import Any

import weasyprint.document
import weasyprint.pdf

from reportgen.errors import RenderError
from reportgen.render import CHART_SCHEME
from reportgen.render.pdf.chartforms import ChartDrawing, drawing_from_svg, embed

_ROOT = re.compile(r"<svg\b[^>]*>")
_LENGTH = {side: re.compile(rf'\s{side}="([\d.]+)(?:px)?"') for side in ("width", "height")}
_embedding = False  # whether WeasyPrint hands chart images to embed() when it writes the PDF


class ChartImage:
    """A chart of the report as WeasyPrint sees an image: intrinsic size from the SVG, drawn as a PDF form.

    Parameters
    ----------
    name
        The chart's name (``chart:<name>``).
    charts
        Chart name → SVG; a lookup may wait for the chart process.
    drawings
        Chart name → PDF drawing made elsewhere (the chart process), or None to convert the SVG here.
    load_svg
        Loads the chart as WeasyPrint's own SVG image (used when forms cannot be embedded).
    """

    def __init__(self, name: str, charts: Mapping[str, str], drawings: Mapping[str, ChartDrawing] | None,
                 load_svg: Callable[[], Any]) -> None:
        self.name, self._charts, self._drawings, self._load_svg = name, charts, drawings, load_svg
        self.id = hashlib.md5(name.encode(), usedforsecurity=False).hexdigest()[:12]  # names the PDF XObject
        self._size: tuple[float, float] | None = None
        self._svg_image: Any = None

    def size(self) -> tuple[float, float]:
        """Width and height in CSS pixels, from the root element of the chart's SVG."""
        if self._size is None:
            root = _ROOT.search(self._charts[self.name])
            lengths = [_LENGTH[side].search(root[0]) if root else None for side in ("width", "height")]
            if not all(lengths) or not all(float(length[1]) for length in lengths):  # type: ignore[index]
                raise RenderError(f"chart {self.name!r} has no width and height in pixels")
            self._size = (float(lengths[0][1]), float(lengths[1][1]))  # type: ignore[index]
        return self._size

    def get_intrinsic_size(self, image_resolution: float, font_size: float) -> tuple[float, float, float]:
        """The chart's intrinsic width, height and ratio (WeasyPrint's image protocol)."""
        width, height = self.size()
        return width, height, width / height

    def draw(self, stream: Any, concrete_width: float, concrete_height: float, style: Any) -> None:
        """Place the chart's form, scaled to the box (WeasyPrint's image protocol)."""
        if not _embedding:
            if self._svg_image is None:
                self._svg_image = self._load_svg()
            self._svg_image.draw(stream, concrete_width, concrete_height, style)
            return
        name = stream.add_image(self, False, 1)
        width, height = self.size()
        stream.transform(concrete_width / width, 0, 0, -concrete_height / height, 0, concrete_height)
        stream.draw_x_object(name)

    def drawing(self) -> ChartDrawing:
        """The chart as a PDF drawing: the one made by the chart process, or converted here."""
        if self._drawings is not None and self.name in self._drawings:
            return self._drawings[self.name]
        return drawing_from_svg(self._charts[self.name])


def _chart_images() -> None:
    """Have WeasyPrint's documents load ``chart:`` images as :class:`ChartImage` (other URLs as before)."""
    original = getattr(weasyprint.document, "original_get_image_from_uri", None)
    if original is None or getattr(original, "makes_chart_images", False):
        return  # (None: a WeasyPrint without the hook loads charts through the URL fetcher, as any image)

    @functools.wraps(original)
    def get_image_from_uri(cache: dict, url_fetcher: Any, options: Any, url: str, *args: Any, **kwargs: Any) -> Any:
        charts = getattr(url_fetcher, "charts", None)
        name = url.removeprefix(f"{CHART_SCHEME}:")
        if url.startswith(f"{CHART_SCHEME}:") and url not in cache and charts is not None and name in charts:
            load_svg = functools.partial(original, {}, url_fetcher, options, url, *args, **kwargs)
            cache[url] = ChartImage(name, charts, getattr(url_fetcher, "drawings", None), load_svg)
        return original(cache, url_fetcher, options, url, *args, **kwargs)

    get_image_from_uri.makes_chart_images = True  # type: ignore[attr-defined]
    weasyprint.document.original_get_image_from_uri = get_image_from_uri


def _embedded_forms() -> None:
    """Have WeasyPrint add each chart image's form (and the objects it uses) when it writes a PDF."""
    global _embedding
    original = getattr(weasyprint.pdf, "_use_references", None)
    if original is None or getattr(original, "embeds_charts", False):
        _embedding = original is not None
        return
    shared: weakref.WeakKeyDictionary[Any, dict] = weakref.WeakKeyDictionary()  # per PDF: objects charts share

    @functools.wraps(original)
    def use_references(pdf: Any, resources: Any, images: dict, *args: Any, **kwargs: Any) -> Any:
        for image in images.values():
            if isinstance(image.get("image"), ChartImage) and image.get("x_object") is None:
                image["x_object"] = embed(image["image"].drawing(), pdf.add_object, shared.setdefault(pdf, {}))
        return original(pdf, resources, images, *args, **kwargs)

    use_references.embeds_charts = True  # type: ignore[attr-defined]
    weasyprint.pdf._use_references = use_references
    _embedding = True


def install() -> None:
    """Install both hooks (idempotent)."""
    _chart_images()
    _embedded_forms()

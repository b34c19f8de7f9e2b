"""The PDF brief's charts inside WeasyPrint: sized from their SVG, loaded late, drawn as embedded PDF forms.

Two hooks into WeasyPrint, the only places reportgen reaches into another library's internals (the README names
them with the versions they were tested on; ``pyproject.toml`` pins WeasyPrint to those versions, and one test
per hook fails when a release changes what it relies on):

- images at ``chart:<name>`` become :class:`ChartImage` (``weasyprint.document.original_get_image_from_uri`` is
  wrapped). WeasyPrint loads every image while it builds the document's boxes, before it lays out the first page,
  so the layout would wait for the last chart the chart process draws; a chart image instead waits for its chart
  when the page that shows it is laid out.
- when the PDF is written, each chart's :class:`~reportgen.render.pdf.chartforms.ChartDrawing` is added as a form
  XObject with its own fonts and resources (``weasyprint.pdf._use_references`` is wrapped: WeasyPrint gives an
  image's form the document's fonts, not its own), instead of WeasyPrint drawing the SVG element by element.
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
from reportgen.render.pdf.chartforms import ChartDrawing, embed

_ROOT = re.compile(r"<svg\b[^>]*>")
_LENGTH = {side: re.compile(rf'\s{side}="([\d.]+)(?:px)?"') for side in ("width", "height")}


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
    """

    def __init__(self, name: str, charts: Mapping[str, str], drawings: Mapping[str, ChartDrawing] | None) -> None:
        self.name, self._charts, self._drawings = name, charts, drawings
        self.id = hashlib.md5(name.encode(), usedforsecurity=False).hexdigest()[:12]  # names the PDF XObject
        self._size: tuple[float, float] | None = None

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
        name = stream.add_image(self, False, 1)
        width, height = self.size()
        stream.transform(concrete_width / width, 0, 0, -concrete_height / height, 0, concrete_height)
        stream.draw_x_object(name)

    def drawing(self) -> ChartDrawing:
        """The chart as a PDF drawing: the one made by the chart process, or converted here."""
        if self._drawings is not None and self.name in self._drawings:
            return self._drawings[self.name]
        from reportgen.render.pdf.chartread import drawing_from_svg  # the chart engine: only without a chart process

        return drawing_from_svg(self._charts[self.name])


def _hooks() -> tuple[Callable[..., Any], Callable[..., Any]]:
    """WeasyPrint's two functions the hooks wrap (or the wrappers, when installed already).

    Raises
    ------
    RenderError
        When the installed WeasyPrint lacks one of them (a release other than those ``pyproject.toml`` allows).
    """
    found = (getattr(weasyprint.document, "original_get_image_from_uri", None),
             getattr(weasyprint.pdf, "_use_references", None))
    if not all(callable(function) for function in found):
        raise RenderError(f"WeasyPrint {weasyprint.__version__} cannot place the report's charts: reportgen is "
                          "tested with the WeasyPrint versions its package metadata allows")
    return found  # type: ignore[return-value]


def install() -> None:
    """Have WeasyPrint load ``chart:`` images as :class:`ChartImage` (other URLs as before) and write each chart
    image's form, with the objects it uses, when it writes a PDF (idempotent)."""
    load, references = _hooks()
    if not getattr(load, "makes_chart_images", False):
        weasyprint.document.original_get_image_from_uri = _chart_images(load)
    if not getattr(references, "embeds_charts", False):
        weasyprint.pdf._use_references = _embedded_forms(references)


def _chart_images(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def get_image_from_uri(cache: dict, url_fetcher: Any, options: Any, url: str, *args: Any, **kwargs: Any) -> Any:
        charts = getattr(url_fetcher, "charts", None)
        name = url.removeprefix(f"{CHART_SCHEME}:")
        if url.startswith(f"{CHART_SCHEME}:") and url not in cache and charts is not None and name in charts:
            cache[url] = ChartImage(name, charts, getattr(url_fetcher, "drawings", None))
        return original(cache, url_fetcher, options, url, *args, **kwargs)

    get_image_from_uri.makes_chart_images = True  # type: ignore[attr-defined]
    return get_image_from_uri


def _embedded_forms(original: Callable[..., Any]) -> Callable[..., Any]:
    shared: weakref.WeakKeyDictionary[Any, dict] = weakref.WeakKeyDictionary()  # per PDF: objects charts share

    @functools.wraps(original)
    def use_references(pdf: Any, resources: Any, images: dict, *args: Any, **kwargs: Any) -> Any:
        for image in images.values():
            if isinstance(image.get("image"), ChartImage) and image.get("x_object") is None:
                image["x_object"] = embed(image["image"].drawing(), pdf.add_object, shared.setdefault(pdf, {}))
        return original(pdf, resources, images, *args, **kwargs)

    use_references.embeds_charts = True  # type: ignore[attr-defined]
    return use_references

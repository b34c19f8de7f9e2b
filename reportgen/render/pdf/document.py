"""The PDF brief for managers: the HTML report's templates laid out on pages by WeasyPrint."""

from __future__ import annotations

import contextlib
import gc
import logging
from collections.abc import Iterator, Mapping
from pathlib import Path
from urllib.parse import unquote, urlparse

import weasyprint
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

from reportgen.errors import RenderError, ReportgenError
from reportgen.render import RenderContext, register
from reportgen.render.context import render_page
from reportgen.render.pdf import images as pdfimages
from reportgen.render.pdf.chartforms import ChartDrawing
from reportgen.resources import templates_dir
from reportgen.result import AnalysisResult, CustomerTable

FILENAME = "report.pdf"
# Tagged PDF (structure tree, MarkInfo, /Lang, title shown) declaring PDF/UA-1; each chart is a Figure with /Alt.
PDF_VARIANT = "pdf/ua-1"
logger = logging.getLogger(__name__)


class LocalOnlyFetcher(URLFetcher):
    """Fetches ``data:`` URLs and files inside the template folders; refuses everything else.

    The report must render offline and must not read arbitrary files a template points at, so a refused URL
    stops the rendering instead of becoming a silently missing image. ``chart:<name>`` never reaches
    :meth:`fetch`: :mod:`reportgen.render.pdf.images` takes it from the SVGs in ``charts`` (for its size) and draws
    it from ``drawings`` (or from the SVG converted on the spot); a name not among the charts is refused.
    """

    def __init__(self, folders: list[Path], charts: Mapping[str, str] | None = None,
                 drawings: Mapping[str, ChartDrawing] | None = None) -> None:
        super().__init__(fail_on_errors=True, allowed_protocols=("data", "file"))
        self.folders = [folder.resolve() for folder in folders]
        self.charts = charts if charts is not None else {}
        self.drawings = drawings

    def fetch(self, url: str, headers: dict[str, str] | None = None) -> URLFetcherResponse:
        """Fetch ``url`` when it is a ``data:`` URL or a file inside a template folder."""
        parsed = urlparse(url)
        if parsed.scheme == "data":
            return super().fetch(url, headers)
        if parsed.scheme == "file":
            path = Path(unquote(parsed.path)).resolve()
            if any(path.is_relative_to(folder) for folder in self.folders) and path.is_file():
                return super().fetch(url, headers)
        logger.warning("PDF: refused to load %s", url)
        raise ValueError(f"refused to load {url}: only data: URLs and files in the template folders are allowed")


pdfimages.install()  # the charts' one way into the PDF: see reportgen.render.pdf.images


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while WeasyPrint lays out and draws a document.

    Layout builds hundreds of thousands of objects, which keep setting off collections, and the full ones walk
    every object of the process; the document stays alive until it is written anyway. Paused, the marketing
    report's PDF takes 1.60 instead of 1.80 s of CPU for 4 MB more at its peak.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def warm_up() -> None:
    """Initialise fonts and the layout engine once (the first document of a process pays for it)."""
    weasyprint.HTML(string="<p>reportgen</p>").render()


def write_pdf(page: str, path: Path, template_dir: Path | None, what: str,
              charts: Mapping[str, str] | None = None, drawings: Mapping[str, ChartDrawing] | None = None) -> None:
    """Lay out an HTML page with WeasyPrint and write it to ``path``; resources only from the template folders,
    charts (``chart:<name>``) from ``charts`` (SVG), drawn from ``drawings`` when given.

    Raises
    ------
    RenderError
        Naming ``what`` when the page refers to a refused resource, cannot be laid out, or cannot be written.
    """
    folders = [templates_dir()] + ([template_dir] if template_dir else [])
    try:
        with _collector_paused():
            weasyprint.HTML(string=page, base_url=str(template_dir or templates_dir()),
                            url_fetcher=LocalOnlyFetcher(folders, charts, drawings)).write_pdf(
                path, pdf_variant=PDF_VARIANT, custom_metadata=True)
    except ReportgenError:  # a chart that could not be drawn or converted names itself
        raise
    except FatalURLFetchingError as exc:
        if isinstance(exc.__cause__, ReportgenError):  # a chart that could not be drawn names itself
            raise exc.__cause__ from None
        raise RenderError(f"{what}: {' '.join(str(exc.__cause__ or exc).split())}") from None
    except OSError as exc:
        raise RenderError(f"cannot write {path}: {exc.strerror or exc}") from None
    except Exception as exc:  # WeasyPrint has no error hierarchy of its own; layout bugs surface as anything
        raise RenderError(f"{what} could not be laid out: {type(exc).__name__}: {' '.join(str(exc).split())}") \
            from None


@register("pdf")
def render_pdf(result: AnalysisResult, customers: CustomerTable, ctx: RenderContext, out_dir: Path) -> list[Path]:
    """Write ``report.pdf`` into ``out_dir``.

    Parameters
    ----------
    result
        The analysis to report.
    customers
        Per-customer rows (not shown in the PDF).
    ctx
        Presentation facts: generation time, user template folder and the rendered charts.
    out_dir
        Folder to write into.

    Returns
    -------
    list of Path
        The one file written.

    Raises
    ------
    RenderError
        When a template fails, the page refers to a resource outside the template folders, or WeasyPrint fails.
    """
    page = render_page(result, ctx, "pdf")
    path = out_dir / FILENAME
    write_pdf(page, path, ctx.template_dir, "PDF report", ctx.charts, ctx.chart_drawings)
    return [path]

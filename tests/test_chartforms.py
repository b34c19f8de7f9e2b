"""Charts as PDF drawings: read from vl-convert's PDF, written back as PDF objects a reader accepts."""

from __future__ import annotations

import io

import pydyf
from pypdf import PdfReader

from reportgen.render.pdf.chartforms import Name, PdfString, Ref, _name, _serialise, drawing_from_svg, embed

SVG = ('<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40" viewBox="0 0 120 40">'
       '<rect width="120" height="40" fill="white"/><rect x="5" y="5" width="30" height="20" fill="#4e79a7" '
       'fill-opacity="0.5"/><text x="40" y="20" font-family="DejaVu Sans" font-size="11">Share (é) 28%</text></svg>')


def test_names_and_values_are_written_in_pdf_syntax() -> None:
    assert _name("fo0") == b"/fo0" and _name("a b") == b"/a#20b" and _name("A/B#") == b"/A#2fB#23"
    assert _name("é") == b"/#c3#a9"
    value = {"Type": Name("Font"), "W": [1, 2.5, -0.25], "On": True, "Off": False, "None": None,
             "Text": PdfString(b"(x)\\"), "Ref": Ref(1)}
    assert _serialise(value, lambda index: b"%d 0 R" % (index + 10)) == (
        b"<</Type /Font /W [1 2.5 -0.25] /On true /Off false /None null /Text <2878295c> /Ref 11 0 R>>")


def test_a_drawing_embedded_in_a_pdf_reads_back_with_its_text_and_shape() -> None:
    drawing = drawing_from_svg(SVG)
    assert drawing.box == (0.0, 0.0, 120.0, 40.0) and "Font" in drawing.resources
    pdf = pydyf.PDF()
    shared: dict = {}
    form = embed(drawing, pdf.add_object, shared)
    again = embed(drawing, pdf.add_object, shared)  # a second chart: its colour profile is not written twice
    assert len(shared) >= 1 and form.number != again.number
    content = pydyf.Stream()
    content.stream.append(b"q 2 0 0 2 10 10 cm /c0 Do Q q 1 0 0 1 10 200 cm /c1 Do Q")
    pdf.add_object(content)
    resources = pydyf.Dictionary({"XObject": pydyf.Dictionary({"c0": form.reference, "c1": again.reference})})
    pdf.add_object(resources)
    page = pydyf.Dictionary({"Type": "/Page", "Parent": pdf.pages.reference, "MediaBox": pydyf.Array([0, 0, 300, 300]),
                             "Contents": content.reference, "Resources": resources.reference})
    pdf.add_page(page)
    output = io.BytesIO()
    pdf.write(output)
    reader = PdfReader(io.BytesIO(output.getvalue()), strict=True)
    text = reader.pages[0].extract_text()
    assert text.count("Share (é) 28%") == 2
    xobject = reader.pages[0]["/Resources"]["/XObject"]["/c0"].get_object()
    assert xobject["/Subtype"] == "/Form" and [float(v) for v in xobject["/BBox"]] == [0, 0, 120, 40]

"""Charts as PDF drawings: read from vl-convert's PDF, written back as PDF objects a reader accepts."""

from __future__ import annotations

import io

import pydyf
from pypdf import PdfReader

from reportgen.render.pdf.chartforms import ChartDrawing, Name, PdfString, Ref, StreamNode, embed
from reportgen.render.pdf.chartread import drawing_from_svg

SVG = ('<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40" viewBox="0 0 120 40">'
       '<rect width="120" height="40" fill="white"/><rect x="5" y="5" width="30" height="20" fill="#4e79a7" '
       'fill-opacity="0.5"/><text x="40" y="20" font-family="DejaVu Sans" font-size="11">Share (é) 28%</text></svg>')


def test_values_are_written_in_pdf_syntax_with_references_resolved() -> None:
    shared = StreamNode({"N": 3}, b"profile")  # refers to nothing: written once, however many charts carry it
    font = {"Type": Name("Font"), "W": [1, 2.5, -0.25], "On": True, "Off": False, "None": None,
            "Text": PdfString(b"(x)\\"), "Name": Name("A/B#"), "Profile": Ref(0), "Size": Ref(2)}
    drawing = ChartDrawing((0, 0, 10, 10), StreamNode({}, b"q Q"), {"Font": {"f0": Ref(1)}}, (shared, font, 7))
    pdf = pydyf.PDF()
    form = embed(drawing, pdf.add_object, {})
    profile, written = pdf.objects[-3:-1]
    assert written.data == (b"<</Type /Font/W [1 2.5 -0.25]/On true/Off false/None null/Text (\\(x\\)\\\\)"
                            b"/Name /A#2fB#23/Profile %d 0 R/Size 7>>" % profile.number)
    assert b"/Resources <</Font <</f0 %d 0 R>>>>" % written.number in form.data


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

"""Data that looks like markup stays text: in the HTML (escaped, no live element) and in the PDF (read back)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from bs4 import BeautifulSoup
from click.testing import CliRunner
from pypdf import PdfReader

from reportgen.cli import main

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'


def test_markup_in_data_is_shown_as_text(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    n = 300
    frame = pd.DataFrame({
        "customer_id": [f"C{i:04d}" for i in range(n)],
        "spend": np.r_[rng.normal(100, 10, n // 2), rng.normal(400, 30, n - n // 2)].round(2),
        IMG: np.r_[rng.normal(5, 1, n // 2), rng.normal(20, 2, n - n // 2)].round(2),
        "channel": rng.choice([SCRIPT, "store", "web"], n),
    })
    path = tmp_path / "hostile.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["run", str(path), "-o", str(out), "--k", "2", "-q"])
    assert result.exit_code == 0, result.output
    html = (out / "report.html").read_text(encoding="utf-8")
    soup = BeautifulSoup(html, "html.parser")
    assert not soup.find_all("img", src="x")
    assert all(SCRIPT not in (tag.string or "") for tag in soup.find_all("script"))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert SCRIPT in soup.get_text() and IMG in soup.get_text()
    pdf_text = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(out / "report.pdf").pages)
    assert "<img src=x onerror=alert(1)>" in pdf_text

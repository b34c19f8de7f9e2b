"""The currency of the amounts, where the data says it, stated in the report and suggested by ``init``."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from pypdf import PdfReader

from reportgen.initconfig import initial_config_text
from reportgen.prepare.currency import infer_currency


@pytest.mark.parametrize(("columns", "code", "evidence"), [
    ({"Country": ["United Kingdom"] * 9 + ["France"]}, "GBP", "the Country column, 90% United Kingdom"),
    ({"country_code": ["DE", "DE", "FR"]}, "EUR", "the country_code column, 67% DE"),
    ({"Currency": ["EUR", "EUR", "EUR"]}, "EUR", "the Currency column, 100% EUR"),
    ({"ccy": ["£", "£"]}, "GBP", "the ccy column, 100% £"),
    ({"price": ["£1.50", "£2", None]}, "GBP", "the £ sign in the price values"),
    ({"amount": ["12,50 €", "3 €"]}, "EUR", "the € sign in the amount values"),
    ({"Annual Income ($)": [1, 2]}, "USD", "the column name Annual Income ($)"),
    ({"Annual Income (k$)": [1, 2]}, "USD", "the column name Annual Income (k$)"),
])
def test_currency_from_the_data(columns: dict, code: str, evidence: str) -> None:
    guess = infer_currency(pd.DataFrame(columns))
    assert guess is not None and (guess.code, guess.evidence) == (code, evidence)


@pytest.mark.parametrize("columns", [
    {"name": ["a", "b"], "spend": [1.0, 2.0]},  # nothing says
    {"Country": ["United Kingdom", "France", "Spain", "Italy"]},  # no country holds most customers
    {"Currency": ["EUR", "USD", "GBP"]},  # mixed currencies: no single symbol is true
    {"Country": ["Atlantis", "Atlantis"]},  # unknown country
    {"note": ["$5 off", "free", "see notes", "n/a"]},  # a few symbols in free text
])
def test_no_currency_when_the_data_does_not_say(columns: dict) -> None:
    assert infer_currency(pd.DataFrame(columns)) is None


def test_init_suggests_the_currency(tmp_path: Path) -> None:
    rows = ["id,Country,spend,visits"] + [f"{i},Germany,{10 + i},{i % 7}" for i in range(60)]
    table = tmp_path / "customers.csv"
    table.write_text("\n".join(rows) + "\n", encoding="utf-8")
    text = initial_config_text(table)
    assert "# currency: EUR (€), inferred from the Country column, 100% Germany" in text
    assert 'currency = "€"' in text


def test_uk_log_report_uses_and_states_pounds(reference_reports: dict[str, Path]) -> None:
    reader = PdfReader(reference_reports["retail"] / "report.pdf")
    cover = " ".join(reader.pages[0].extract_text().split())
    assert "£ (from the country column, 90% United Kingdom)" in cover
    text = " ".join(page.extract_text() for page in reader.pages)
    assert "£" in text and "$" not in text.replace("reportgen", "")
    marketing = " ".join(PdfReader(reference_reports["marketing"] / "report.pdf").pages[0].extract_text().split())
    assert "AMOUNTS IN $ (SET IN THE CONFIGURATION)" in marketing.upper()

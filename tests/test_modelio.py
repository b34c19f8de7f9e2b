"""The model file: plain JSON that reproduces the fit's assignments, and is refused when edited or too new."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from reportgen.config import load_config
from reportgen.errors import BaselineError
from reportgen.inputs.files import read_table
from reportgen.model.modelfile import MODEL_FORMAT, assign, check_model, model_digest
from reportgen.pipeline import analyse
from reportgen.prepare.features import prepare
from reportgen.resources import sample_data_dir


@pytest.fixture(scope="module")
def fitted():
    config = load_config(sample_data_dir() / "reportgen.toml", {"segmentation.log_features": ["total_spend"]})
    analysis = analyse(config)
    frame = prepare(read_table(config.resolve(config.data.path), config.data), config).frame
    return analysis, frame


def test_model_reassigns_every_customer_as_fitted(fitted) -> None:
    analysis, frame = fitted
    check_model(analysis.model, "model.json")
    labels, distances = assign(analysis.model, frame)
    assert (labels == analysis.customers.segment).all()
    np.testing.assert_allclose(distances, analysis.customers.distance, atol=1e-6)
    assert analysis.model["format_version"] == MODEL_FORMAT
    assert model_digest(analysis.model) == model_digest(copy.deepcopy(analysis.model))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda m: m.update(kind="other"), "not a reportgen model file"),
        (lambda m: m.update(format_version=MODEL_FORMAT + 1), "written by a newer reportgen"),
        (lambda m: m["centroids"].append(m["centroids"][0] + [1.0]), "'centroids' is not a table"),
        (lambda m: m["centroids"].__setitem__(0, [float("nan")] * len(m["centroids"][0])), "non-finite"),
        (lambda m: m["scaler"]["scale"].pop(), "'scaler.scale' has the wrong shape"),
        (lambda m: m["categories"].pop(), "categories do not match"),
        (lambda m: m["centroids"].__setitem__(0, ["x"] * len(m["centroids"][0])), "'centroids' is not a table"),
    ],
)
def test_edited_model_is_refused(fitted, edit, message: str) -> None:
    model = copy.deepcopy(fitted[0].model)
    edit(model)
    with pytest.raises(BaselineError, match=message):
        check_model(model, "runs/2026-10/model.json")

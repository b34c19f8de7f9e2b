"""Config validation: every key declared once; every problem reported together with key path and value."""

from __future__ import annotations

from pathlib import Path

import pytest

from reportgen.config import Config, effective_config, load_config
from reportgen.errors import ConfigError


def test_defaults_validate() -> None:
    config = load_config()
    assert config.segmentation.k == "auto"
    assert (config.segmentation.k_min, config.segmentation.k_max) == (2, 10)
    assert config.segmentation.min_segment_share == 0.05
    assert config.output.formats == ["pdf", "html", "json", "csv"]


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"segmentation.k": "x"}, "Config value 'segmentation.k': input should be 'auto' or input should be a valid "
                                  "integer, unable to parse string as an integer but received 'x'"),
        ({"segmentation.kk": 3}, "Config key 'segmentation.kk' is not known (did you mean 'segmentation.k'?)"),
        ({"report.accent_color": "red"}, "Config value 'report.accent_color': expected a hex colour like #1f5f8b "
                                         "but received 'red'"),
        ({"segmentation.pca": 0}, "Config value 'segmentation.pca': expected a component count >= 2 but received 0"),
        ({"segmentation.k_min": 6, "segmentation.k_max": 4}, "k_min (6) must not exceed k_max (4)"),
        ({"output.formats": ["pdf", "doc"]}, "Config value 'output.formats.1': input should be 'pdf', 'html', "
                                             "'json' or 'csv' but received 'doc'"),
        ({"report.page_size": "A3"}, "Config value 'report.page_size': input should be 'A4' or 'Letter' but "
                                     "received 'A3'"),
    ],
)
def test_each_problem_names_key_and_value(overrides: dict, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(None, overrides)
    assert expected in str(info.value)


def test_all_problems_reported_at_once(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[segmentation]\nk = "many"\nseeed = 1\n[report]\npage_size = "A3"\n[nope]\nx = 1\n')
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert message.startswith(f"{path}: 4 problems: ")
    for fragment in ("'segmentation.k'", "'segmentation.seeed' is not known (did you mean 'segmentation.seed'?)",
                     "'report.page_size'", "Config key 'nope' is not known"):
        assert fragment in message


def test_toml_syntax_error_names_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("[segmentation\nk = 3\n")
    with pytest.raises(ConfigError, match=r"broken\.toml: not valid TOML"):
        load_config(path)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "absent.toml")


def test_paths_resolve_against_config_folder(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    path = tmp_path / "sub" / "c.toml"
    path.write_text('[data]\npath = "customers.csv"\n')
    config = load_config(path)
    assert config.resolve(config.data.path) == tmp_path / "sub" / "customers.csv"


def test_overrides_win_and_effective_config_is_plain() -> None:
    config = load_config(None, {"segmentation.k": "4", "report.title": "T"})
    assert config.segmentation.k == 4
    plain = effective_config(config)
    assert plain["segmentation"]["k"] == 4 and plain["report"]["title"] == "T"
    assert "base_dir" not in plain


def test_every_key_has_help() -> None:
    def walk(model: type) -> list[str]:
        missing = []
        for name, info in model.model_fields.items():
            if not info.description:
                missing.append(name)
            annotation = info.annotation
            if isinstance(annotation, type) and hasattr(annotation, "model_fields"):
                missing += walk(annotation)
        return missing

    assert walk(Config) == []

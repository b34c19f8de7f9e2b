"""Config validation: every key declared once; every problem reported together with key path and value."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from reportgen.cli import main
from reportgen.config import Config, effective_config, load_config
from reportgen.errors import ConfigError


def test_defaults_validate() -> None:
    config = load_config()
    assert config.segmentation.k == "auto"
    assert (config.segmentation.k_min, config.segmentation.k_max) == (3, 8)
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
        ({"features.roles.monetry": "spend"}, "Config key 'features.roles.monetry' is not known (did you mean "
                                              "'features.roles.monetary'?)"),
        ({"segmentaton.k": 3}, "Config key 'segmentaton' is not known (did you mean 'segmentation'?)"),
        ({"cleaning.ranges": {"Year_Birth": {"mn": 1920}}},
         "Config key 'cleaning.ranges.Year_Birth.mn' is not known (did you mean 'cleaning.ranges.Year_Birth.min'?)"),
        ({"features.numeric": "spend"}, "Config value 'features.numeric': input should be a valid list but "
                                        "received 'spend'"),
        ({"cleaning.ranges": {"Age": {"min": "young"}}}, "Config value 'cleaning.ranges.Age.min': input should be a "
                                                         "valid number, unable to parse string as a number but "
                                                         "received 'young'"),
        ({"cleaning.missing": {"Income": "zero"}}, "Config value 'cleaning.missing.Income': input should be "
                                                   "'median', 'mean', 'mode' or 'drop' but received 'zero'"),
        ({"features.derived": {"Age": 2014}}, "Config value 'features.derived.Age': input should be a valid string "
                                              "but received 2014"),
        ({"segmentation.k": True}, "Config value 'segmentation.k': expected 'auto' or an integer >= 2"),
        ({"segmentation.k_max": 99}, "Config value 'segmentation.k_max': input should be less than or equal to 30 "
                                     "but received 99"),
        ({"data": 3}, "Config value 'data': input should be a valid dictionary"),
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


def test_problems_between_config_and_data_are_listed_together(tmp_path: Path) -> None:
    """Names the data lacks, derived features that are not arithmetic or read unknown columns, and bad date
    formats: every one in the same error, with its key and the value received."""
    data = tmp_path / "customers.csv"
    data.write_text("customer_id,spend,orders,signup\n" + "".join(f"C{i},{i * 10},{i % 5},2024-01-{i + 1:02d}\n"
                                                                 for i in range(20)))
    config = tmp_path / "reportgen.toml"
    config.write_text(
        '[data]\nid_column = "customer"\ndate_formats = {signup = "%Y-%m-%Q"}\n'
        '[features]\nnumeric = ["spend", "order"]\n'
        '[features.derived]\nAvg = "spend / ordrs"\nEvil = "__import__(\'os\').system(\'ls\')"\n'
        'Broken = "spend +"\nOrders = "orders * 2"\nspend = "orders"\n'
        '[features.roles]\nmonetary = "TotalSpend"\n'
        '[cleaning.ranges]\nspnd = {min = 0}\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["run", str(data), "-c", str(config), "-o", str(tmp_path / "out"), "-q",
                                       "--formats", "json"])
    assert result.exit_code == 1 and result.output.count("\n") == 1, result.output
    expected = [
        "Config value 'data.id_column': column 'customer' named in the config is not in the data (did you mean "
        "'customer_id'?)",
        "Config value 'features.numeric': column 'order' named in the config is not in the data (did you mean "
        "'orders'?)",
        "Config value 'cleaning.ranges.spnd': column 'spnd' named in the config is not in the data (did you mean "
        "'spend'?)",
        "Config value 'features.roles.monetary': column 'TotalSpend' named in the config is not in the data",
        "Config value 'data.date_formats.signup': not a date format (",
        "Config value 'features.derived.Avg': unknown column 'ordrs' (did you mean 'orders'?) but received "
        "'spend / ordrs'",
        "Config value 'features.derived.Evil': function calls are not allowed except abs/min/max/log/sqrt but "
        "received \"__import__('os').system('ls')\"",
        "Config value 'features.derived.Broken': syntax error",
        "Config value 'features.derived.spend': the data already has a column 'spend'",
    ]
    assert result.output.startswith(f"Error: {len(expected)} problems: ")
    for fragment in expected:
        assert fragment in result.output, fragment
    assert "features.derived.Orders" not in result.output  # a new name, arithmetic over known columns: fine
    assert not (tmp_path / "out").exists()

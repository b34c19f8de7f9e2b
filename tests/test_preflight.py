"""User files and cross-key constraints are checked before any data is read, by run and validate alike."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from reportgen.cli import main
from reportgen.config import load_config
from reportgen.errors import ConfigError
from reportgen.userfiles import check_user_files

BROKEN_RULES = '[[rule]]\nid = "winback"\nwhen = "z_recency >"\naction = "Call them"\n'


@pytest.fixture(scope="module")
def large_input(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About 60 MB of customers: reading it alone takes seconds."""
    path = tmp_path_factory.mktemp("big") / "customers.csv"
    block = "".join(f"C{i:07d},{i % 97 * 13.5},{i % 11},{i % 365}\n" for i in range(100_000))
    with path.open("w") as handle:
        handle.write("customer_id,spend,orders,days_since_last_order\n")
        for _ in range(25):
            handle.write(block)
    return path


def _config(folder: Path, extra: str = "") -> Path:
    (folder / "rules.toml").write_text(BROKEN_RULES)
    config = folder / "reportgen.toml"
    config.write_text(f'[rules]\nfile = "rules.toml"\n{extra}')
    return config


@pytest.mark.parametrize("command", ["run", "validate"])
def test_broken_rules_fail_before_the_data_is_read(command: str, large_input: Path, tmp_path: Path) -> None:
    import reportgen.pipeline  # noqa: F401  (library imports cost the same for any input: not what is timed)

    config = _config(tmp_path)
    out = ["-o", str(tmp_path / "out")] if command == "run" else []
    start = time.perf_counter()
    result = CliRunner().invoke(main, [command, str(large_input), "-c", str(config), *out])
    elapsed = time.perf_counter() - start
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "rules.toml: rule 'winback'" in result.output and "'when' is invalid" in result.output
    assert elapsed < 1.0, f"{command} took {elapsed:.2f} s to refuse the rules file"
    assert not (tmp_path / "out").exists()


def test_every_problem_is_listed_with_its_key(tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "_cover.html").write_text("{% if %}")
    config = _config(tmp_path, '[segmentation]\nk = 3\n[segmentation.names]\nvip = "VIP"\n5 = "Five"\n'
                               f'[output]\ntemplate_dir = "{templates}"\n'
                               '[comparison]\nbaseline = "no-such-run"\n')
    with pytest.raises(ConfigError) as caught:
        check_user_files(load_config(config))
    problems = caught.value.problems
    assert any("rule 'winback'" in p for p in problems)
    assert any("'segmentation.names.vip'" in p for p in problems)
    assert any("'segmentation.names.5'" in p and "k = 3" in p for p in problems)
    assert any("'output.template_dir'" in p and "_cover.html" in p and "line 1" in p for p in problems)
    assert any("'comparison.baseline'" in p and "baseline folder not found" in p for p in problems)


def test_psi_bands_are_checked_with_the_config(tmp_path: Path) -> None:
    config = tmp_path / "reportgen.toml"
    config.write_text("[comparison]\npsi_moderate = 0.3\npsi_major = 0.2\n")
    with pytest.raises(ConfigError, match=r"comparison.*psi_moderate \(0.3\) must be below psi_major \(0.2\)"):
        load_config(config)

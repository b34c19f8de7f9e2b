"""The README documents every config key and every command option, generated from the declarations."""

from __future__ import annotations

from pathlib import Path

import click

from reportgen.cli import main
from reportgen.initconfig import config_reference

README = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")


def test_config_reference_is_current() -> None:
    assert config_reference() in README, "regenerate with: python -m reportgen.initconfig"


def test_every_command_and_option_is_documented() -> None:
    for name, command in main.commands.items():
        assert f"reportgen {name}" in README, name
        for param in command.params:
            if isinstance(param, click.Option):
                assert any(opt in README for opt in param.opts), f"{name} {param.opts}"

"""The README documents every setting and every command."""

from pathlib import Path

import pytest

from saraban.cli import build_parser
from saraban.settings import SETTINGS

README = (Path(__file__).parents[1] / "README.md").read_text("utf-8")


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.name)
def test_readme_lists_every_setting(setting):
    assert f"| `{setting.name}` |" in README


def test_readme_names_every_command():
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices
    missing = [name for name in commands if f"saraban {name}" not in README]
    assert not missing, f"README.md does not show: {missing}"


def test_readme_opens_with_the_two_commands():
    first_block = README.split("```")[1]
    lines = [ln.split("#")[0].strip() for ln in first_block.splitlines()[1:] if ln.strip()]
    assert lines == ["make run", "make test"]

"""The README documents every command, every command documents itself, and the README's
Python example runs."""

import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from meta.cli import cli

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_command_has_help_with_example(name):
    command = cli.commands[name]
    assert command.help and "Example:" in command.help
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_command_in_readme(name):
    assert f"meta {name}" in README


TORCH = ("pip install --retries 0 torch==2.13.0 "
         "--extra-index-url https://download.pytorch.org/whl/cpu")


def test_readme_test_command_is_what_ci_runs():
    ci = (Path(__file__).resolve().parent.parent / ".ci" / "run").read_text()
    assert TORCH.replace("pip install", "pip install --quiet") in ci
    assert "pip install --quiet -e '.[test]'" in ci and "\npytest\n" in ci
    assert f"{TORCH} && pip install -e '.[test]' && pytest" in README
    assert "pytest -m slow" in README


def test_readme_python_example_runs(tmp_path, capsys):
    code = re.findall(r"```python\n(.*?)```", README, re.S)
    assert len(code) == 1
    here = os.getcwd()
    os.chdir(tmp_path)
    try:
        exec(compile(code[0], "README.md", "exec"), {})
    finally:
        os.chdir(here)
    out = capsys.readouterr().out
    assert "runs:ladder/l" in out and "'alpha'" in out

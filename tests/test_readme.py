"""The README is executable: every ``python`` block runs on its own, and CI runs exactly its test command."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _blocks(lang: str) -> list[tuple[int, str]]:
    return [(README[: m.start()].count("\n") + 1, m.group(1))
            for m in re.finditer(rf"^```{lang}\n(.*?)^```", README, flags=re.DOTALL | re.MULTILINE)]


PYTHON = _blocks("python")


def test_readme_has_python_examples():
    assert len(PYTHON) >= 7


@pytest.mark.parametrize("line,code", PYTHON, ids=[f"README.md:{line}" for line, _ in PYTHON])
def test_readme_python_block_runs_on_its_own(line: int, code: str, tmp_path: Path):
    """Each block in a fresh interpreter and an empty directory: no name from another block, no prepared file."""
    script = tmp_path / "block.py"
    script.write_text(code, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "DLTHEORY_EXTRA_EXPERIMENTS"}
    env.update(MPLBACKEND="Agg", OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=900, check=False)
    assert proc.returncode == 0, f"README.md:{line} failed:\n{(proc.stdout + proc.stderr)[-3000:]}"
    assert proc.stdout.strip(), f"README.md:{line} printed nothing (a reader should see what it computes)"


def test_ci_runs_exactly_the_readme_test_command_with_the_constraints():
    commands = [line for _, block in _blocks("bash") for line in block.splitlines()
                if line.startswith("python3 -m venv")]
    assert len(commands) == 2, commands
    assert all("-c constraints.txt" in c for c in commands)
    test_command = next(c for c in commands if "pytest" in c)
    ci = [line for line in (ROOT / ".ci" / "run").read_text().splitlines()
          if line and not line.startswith(("#", "set ", "cd "))]
    assert ci == [test_command]
    pins = dict(line.split("==", 1) for line in (ROOT / "constraints.txt").read_text().splitlines()
                if "==" in line and not line.startswith("#"))
    assert pins["torch"] == "2.13.0"
    assert {"numpy", "scipy", "pandas", "matplotlib", "typer"} <= set(pins)
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '"torch>=2.4"' in pyproject and "torch==" not in pyproject

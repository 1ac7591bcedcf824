"""Dependencies point one way: frontend -> backend -> optimizer (import-linter contracts
in pyproject.toml)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_hold() -> None:
    proc = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 broken" in proc.stdout


def test_optimizer_command_stays_lean_to_import() -> None:
    # `journeyfolio --help` must not pull in the web stack or the solver
    code = (
        "import sys, optimizer.cli; "
        "heavy = [m for m in ('fastapi', 'sqlmodel', 'streamlit', 'pulp', 'highspy') "
        "if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout.strip()
    assert out == "[]"

"""CI runs bandit (no high-severity finding allowed) and the whole suite, matrix included, on PostgreSQL too."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_bandit_finds_no_high_severity_issue():
    if shutil.which("bandit") is None and not (Path(sys.executable).parent / "bandit").exists():
        pytest.skip("bandit is not installed (requirements-dev.txt)")
    bandit = shutil.which("bandit") or str(Path(sys.executable).parent / "bandit")
    done = subprocess.run([bandit, "-q", "-r", str(ROOT / "portal"), "-lll", "-f", "json"],  # noqa: S603
                          capture_output=True, text=True, check=False)
    report = json.loads(done.stdout)
    high = [f"{r['filename']}:{r['line_number']} {r['test_id']} {r['issue_text']}" for r in report["results"]]
    assert not high, "\n".join(high)
    assert done.returncode == 0


def test_ci_runs_lint_with_bandit_and_the_suite_on_postgresql():
    ci = (ROOT / ".ci" / "run").read_text()
    makefile = (ROOT / "Makefile").read_text()
    assert "make lint" in ci and "bandit -q -r portal -lll" in makefile
    assert 'TEST_DATABASE_URL="$PG_URL" make test' in ci


def test_nothing_keeps_the_route_matrix_out_of_the_ci_runs():
    """make test runs plain pytest on tests/: no option in pytest.ini or the Makefile deselects, and the matrix,
    CSRF and fuzz tests carry no skip, so both CI runs (SQLite, then TEST_DATABASE_URL) check every route."""
    ini = (ROOT / "pytest.ini").read_text()
    addopts = next((line for line in ini.splitlines() if line.strip().startswith("addopts")), "")
    assert not any(flag in addopts.split() for flag in ("-m", "-k", "--ignore", "--deselect", "-x"))
    assert "testpaths = tests" in ini
    assert "$(BIN)/pytest $(PYTEST_ARGS)" in (ROOT / "Makefile").read_text()
    assert "PYTEST_ARGS" not in (ROOT / ".ci" / "run").read_text()
    for name in ("test_security_matrix.py", "test_security_csrf.py", "test_security_fuzz.py"):
        source = (ROOT / "tests" / name).read_text()
        assert "mark.skip" not in source and "pytest.skip(" not in source, name


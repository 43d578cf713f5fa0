"""docs/THREAT-MODEL.md names the test behind each mitigation: every test it names exists, so the doc cannot rot."""
import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "THREAT-MODEL.md"
# `test_file.py::test_name`, `e2e/test_file.py`, or `::test_name` (the file named last before it).
REFERENCE = re.compile(r"`((?:e2e/)?test_[a-z0-9_]+\.py)?(?:::(test_[a-z0-9_]+))?`")


def _tests_in(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {node.name for node in tree.body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}


def _references() -> list[tuple[str, str | None]]:
    found, current = [], None
    for match in REFERENCE.finditer(DOC.read_text()):
        file, name = match.groups()
        if file is None and name is None:
            continue
        current = file or current
        assert current, f"::{name} names no file before it"
        found.append((current, name))
    return found


def test_the_threat_model_names_its_tests():
    references = _references()
    assert len(references) >= 30, "the threat model should name the test behind each mitigation"
    missing = []
    for file, name in references:
        path = ROOT / "tests" / file
        if not path.is_file():
            missing.append(file)
        elif name and name not in _tests_in(path):
            missing.append(f"{file}::{name}")
    assert not missing, f"the threat model names tests that do not exist: {missing}"


def test_every_adversary_the_issue_names_has_a_section():
    text = DOC.read_text()
    for adversary in ("dealer looking for the tipster", "abusive relative", "curious staff member",
                      "stolen laptop", "compromised Twilio account"):
        assert adversary in text, adversary

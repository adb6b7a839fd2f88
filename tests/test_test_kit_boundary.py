"""The test kit stays out of production: no image copies or installs it (nor any test or
development extra), and nothing a service image runs imports it or pytest."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILES = [*sorted(ROOT.glob("services/*/Dockerfile")), ROOT / "demo" / "Dockerfile"]
SHIPPED_SOURCES = [
    ROOT / "shared" / "src",
    *sorted(ROOT.glob("services/*/src")),
    ROOT / "demo" / "src",
]
TEST_ONLY = {"asn_testkit", "pytest", "testcontainers"}


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda path: path.parent.name)
def test_no_image_copies_or_installs_the_test_kit(dockerfile):
    instructions = dockerfile.read_text()
    assert "testkit" not in instructions
    installs = re.findall(r"pip install[^\n]*", instructions)
    assert installs, f"{dockerfile} installs nothing"
    assert not [line for line in installs if "[" in line], "an image installs an extra"


def imported_modules(source: Path) -> set[str]:
    tree = ast.parse(source.read_text(), filename=str(source))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


def test_shipped_code_never_imports_the_test_kit():
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_modules(path) & TEST_ONLY)
        for folder in SHIPPED_SOURCES
        for path in folder.rglob("*.py")
        if imported_modules(path) & TEST_ONLY
    }
    assert offenders == {}

"""docs/architecture.md stays true: its layer diagram is the import contract CI checks, every part and
server module has its line, and sub-package ``__init__`` files stay empty (start-up budgets)."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
PACKAGE = ROOT / "jwtgate"


def _contracts() -> list[dict[str, object]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts: list[dict[str, object]] = config["tool"]["importlinter"]["contracts"]
    return contracts


def _table_names(section: str) -> set[str]:
    """Every backticked name in the first column of the Markdown table under ``section``."""
    body = DOC.split(section, 1)[1].split("\n\n", 2)[1]
    cells = [line.split("|")[1] for line in body.splitlines() if line.startswith("|")]
    return {name for cell in cells for name in re.findall(r"`([^`]+)`", cell)}


def test_the_layer_diagram_is_the_layers_contract() -> None:
    (layers,) = [c["layers"] for c in _contracts() if c["type"] == "layers"]
    assert isinstance(layers, list)
    diagram = DOC.split("## Import rules", 1)[1].split("```\n", 2)[1]
    drawn = [re.sub(r"\s*\|\s*", " | ", line.strip()) for line in diagram.splitlines() if line.strip()]
    assert drawn == [layer.replace("(", "").replace(")", "") for layer in layers]


def test_every_part_has_its_line() -> None:
    parts = {p.name + "/" for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    parts |= {p.name for p in PACKAGE.glob("*.py") if p.name not in ("__init__.py", "__main__.py")}
    assert parts <= _table_names("## The parts")


def test_every_server_module_has_its_line() -> None:
    modules = {p.stem for p in (PACKAGE / "server").glob("*.py") if p.name != "__init__.py"}
    assert modules == _table_names("`server/` in request order:")


@pytest.mark.parametrize("init", sorted(PACKAGE.glob("*/__init__.py")), ids=lambda p: p.parent.name)
def test_subpackage_init_files_hold_no_code(init: Path) -> None:
    body = ast.parse(init.read_text(encoding="utf-8")).body
    assert all(isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) for node in body), init

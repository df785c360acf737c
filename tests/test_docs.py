"""The documentation is held to the code: the rules table against the refusals' rule tags and the
tests, every path and function the docs name against the tree, code citing only documents that exist,
and the README's two commands against what CI runs."""
from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
RULES = DOCS / "rules.md"
ROW = re.compile(r"^\| (R\d+) \| (.+?) \| (.+?) \| (.+?) \|$", re.M)


def rules_table() -> dict[str, tuple[str, str, str]]:
    return {m[1]: (m[2], m[3], m[4]) for m in ROW.finditer(RULES.read_text(encoding="utf-8"))}


def rule_tags() -> dict[str, list[str]]:
    """rule → where a refusal is tagged with it (``rule="R…"`` in governance/)."""
    tags: dict[str, list[str]] = {}
    for path in (ROOT / "governance").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.keyword) and node.arg == "rule" and isinstance(node.value, ast.Constant) \
                    and isinstance(node.value.value, str):
                tags.setdefault(node.value.value, []).append(f"{path.relative_to(ROOT)}:{node.value.lineno}")
            if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "rule" for t in node.targets) \
                    and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                tags.setdefault(node.value.value, []).append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return tags


def test_the_table_lists_r1_to_r18_once_each() -> None:
    assert list(rules_table()) == [f"R{n}" for n in range(1, 19)]


def test_every_rule_tag_in_the_code_is_in_the_table() -> None:
    assert set(rule_tags()) <= set(rules_table()), sorted(set(rule_tags()) - set(rules_table()))


@pytest.mark.parametrize("rule", [f"R{n}" for n in range(1, 19)])
def test_every_rule_has_a_tagged_refusal_and_a_test_that_names_it(rule: str) -> None:
    assert rule_tags().get(rule), f"no refusal in governance/ is tagged rule=\"{rule}\""
    _, _, tested_by = rules_table()[rule]
    files = re.findall(r"`(tests/[\w/]+\.py)`", tested_by)
    assert files, f"{rule} names no test file"
    for name in files:
        text = (ROOT / name).read_text(encoding="utf-8")
        assert re.search(rf"\b{rule}\b", text), f"{name} never names {rule}"


@pytest.mark.parametrize("rule", [f"R{n}" for n in range(1, 19)])
def test_what_the_table_says_enforces_a_rule_exists(rule: str) -> None:
    _, enforced, _ = rules_table()[rule]
    for path, function in re.findall(r"`(governance/[\w/]+\.py)(?:: (\w+))?`", enforced):
        assert (ROOT / path).exists(), path
        if function:
            module = importlib.import_module(path[:-3].replace("/", "."))
            assert hasattr(module, function), f"{path} has no {function}"


def test_every_path_the_docs_name_exists() -> None:
    for doc in [*DOCS.glob("*.md"), ROOT / "README.md"]:
        for name in re.findall(r"`((?:governance|tests|bench|pages|migrations|data|docs)/[\w/.-]+\.(?:py|md|json|csv))",
                               doc.read_text(encoding="utf-8")):
            if name.startswith("tests/artifacts/"):  # what a test run writes (git-ignored), not a source
                continue
            assert (ROOT / name).exists(), f"{doc.name} names {name}, which does not exist"


def test_code_cites_only_documents_that_exist() -> None:
    for path in [*(ROOT / "governance").rglob("*.py"), *(ROOT / "pages").glob("*.py"), *(ROOT / "bench").rglob("*.py")]:
        text = path.read_text(encoding="utf-8")
        assert "DESIGN §" not in text, f"{path} cites a document outside the repository"
        for cited in re.findall(r"docs/([\w-]+\.md)", text):
            assert (DOCS / cited).exists(), f"{path} cites docs/{cited}"


def test_the_readme_keeps_its_two_commands_and_ci_runs_the_test_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = "pip install -r requirements.txt && streamlit run dashboard.py"
    tests = "pip install -r requirements.txt && python -m pytest"
    assert start in readme and tests in readme
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert tests in ci
    assert "ruff check" in ci and "mypy" in ci

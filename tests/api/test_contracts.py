"""The API's place in the import contracts: it reaches neither Dagster nor the demo, and no
package below the CLI reaches it."""

from __future__ import annotations

from pathlib import Path

from tests.ci.test_import_contracts import _copy_tree, _lint_imports


def test_imports_across_the_api_boundary_break_their_contracts(tmp_path: Path) -> None:
    tree = _copy_tree(tmp_path / "tree")
    (tree / "api" / "reversed_import.py").write_text(
        '"""The API reaching into Dagster-facing code."""\n\n'
        "from orchestration import definitions  # noqa: F401\n"
    )
    (tree / "reports" / "reversed_import.py").write_text(
        '"""A working package importing the API."""\n\nimport api.app  # noqa: F401\n'
    )
    (tree / "siteledger" / "reversed_import.py").write_text(
        '"""The core importing the API."""\n\nimport api.keys  # noqa: F401\n'
    )
    done = _lint_imports(tree)
    report = done.stdout + done.stderr
    assert done.returncode != 0, report
    assert "3 broken" in report, report
    assert "api.reversed_import -> orchestration" in report, report
    assert "reports.reversed_import -> api.app" in report, report
    assert "siteledger.reversed_import -> api.keys" in report, report

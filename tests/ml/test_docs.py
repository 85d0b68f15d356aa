"""docs/analytics.md describes every analytics table and column the warehouse publishes."""

from pathlib import Path

from ml.tables import TABLES
from orchestration.keys import ANALYTICS

DOC = (Path(__file__).resolve().parents[2] / "docs" / "analytics.md").read_text()


def test_every_table_and_column_is_documented() -> None:
    for table, columns in TABLES.items():
        section = DOC.split(f"### `{table}`", 1)
        assert len(section) == 2, f"docs/analytics.md has no section for {table}"
        body = section[1].split("\n### ", 1)[0]
        for column, meaning in columns.items():
            assert f"| `{column}` | {meaning} |" in body, f"{table}.{column}"


def test_the_dagster_assets_are_the_documented_tables() -> None:
    assert {key.path[-1] for key in ANALYTICS} == set(TABLES)

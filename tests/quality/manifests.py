"""Small dbt manifests, shaped as dbt 1.11 writes them (``target/manifest.json``, schema v12)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

PROJECT = "siteledger"


def model(
    name: str,
    columns: list[str],
    *,
    folder: str = "marts/things",
    constraints: list[dict[str, Any]] | None = None,
    column_constraints: dict[str, list[str]] | None = None,
    materialized: str = "table",
) -> dict[str, Any]:
    """A model node; ``column_constraints`` maps a column to its constraint types."""
    column_constraints = column_constraints or {}
    return {
        "resource_type": "model",
        "unique_id": f"model.{PROJECT}.{name}",
        "name": name,
        "alias": name,
        "schema": "marts",
        "package_name": PROJECT,
        "fqn": [PROJECT, *folder.split("/"), name],
        "path": f"{folder}/{name}.sql",
        "original_file_path": f"models/{folder}/{name}.sql",
        "patch_path": f"{PROJECT}://models/{folder}/_models.yml",
        "config": {"materialized": materialized},
        "contract": {"enforced": bool(constraints or column_constraints)},
        "constraints": [
            {"type": "primary_key", "name": None, "expression": None, "columns": []} | c
            for c in constraints or []
        ],
        "columns": {
            column: {
                "name": column,
                "description": f"{column}.",
                "data_type": None,
                "constraints": [
                    {"type": kind, "name": None, "expression": None, "to": None, "to_columns": []}
                    for kind in column_constraints.get(column, [])
                ],
            }
            for column in columns
        },
    }


def data_test(
    model_name: str,
    test_name: str,
    kwargs: dict[str, Any],
    *,
    column_name: str | None = None,
    namespace: str | None = None,
    where: str | None = None,
) -> dict[str, Any]:
    """A generic test node attached to ``model_name``."""
    suffix = "_".join(str(v) for v in kwargs.values())
    return {
        "resource_type": "test",
        "unique_id": f"test.{PROJECT}.{test_name}_{model_name}_{suffix}",
        "name": f"{test_name}_{model_name}_{suffix}",
        "package_name": PROJECT,
        "fqn": [PROJECT, f"{test_name}_{model_name}_{suffix}"],
        "test_metadata": {
            "name": test_name,
            "kwargs": {**kwargs, "model": f"{{{{ get_where_subquery(ref('{model_name}')) }}}}"},
            "namespace": namespace,
        },
        "column_name": column_name,
        "attached_node": f"model.{PROJECT}.{model_name}",
        "depends_on": {"macros": [], "nodes": [f"model.{PROJECT}.{model_name}"]},
        "config": {"enabled": True, "severity": "error", "where": where},
    }


def grain(model_name: str, columns: list[str]) -> dict[str, Any]:
    return data_test(model_name, "grain", {"columns": columns})


def unique(model_name: str, column: str) -> dict[str, Any]:
    return data_test(model_name, "unique", {"column_name": column}, column_name=column)


def manifest(*nodes: dict[str, Any]) -> dict[str, Any]:
    return {
        "metadata": {
            "dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json",
            "dbt_version": "1.11.0",
            "project_name": PROJECT,
        },
        "nodes": {node["unique_id"]: node for node in nodes},
        "sources": {},
        "macros": {},
    }


def write_manifest(path: Path, *nodes: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(manifest(*nodes)), encoding="utf-8")
    return path

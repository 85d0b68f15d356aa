"""dbt wired in one place: the project, its manifest, and the translator to Dagster assets."""

import fcntl
import json
import os
import re
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from dagster import AssetCheckSpec, AssetKey, AssetSpec, TableColumn, TableSchema
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
)

from orchestration.environment import dbt_target
from siteledger.dbt import DBT_EXECUTABLE, DBT_PROJECT_DIR, dbt_env, dbt_target_dir
from siteledger.settings import Settings, get_settings

dbt_project = DbtProject(
    project_dir=DBT_PROJECT_DIR,
    profiles_dir=DBT_PROJECT_DIR,
    target_path=dbt_target_dir(get_settings()),
)


_SOURCE_KEYS = {
    "lake": lambda table: AssetKey(["raw", table]),
    "site_config": lambda _: SITE_CONFIG_KEY,
}
SITE_CONFIG_KEY: AssetKey = AssetKey(["raw", "site_config"])
_GROUPS = {"staging": "staging", "intermediate": "intermediate", "reference": "reference"}
_OWNERS = {"marts": ["team:water-accounting"]}


@contextmanager
def dbt_environment(
    settings: Settings, start_day: str | None = None, end_day: str | None = None
) -> Iterator[None]:
    """Point dbt subprocesses (which inherit this process's environment) at ``settings`` and a
    partition window."""
    wanted = dbt_env(settings, start_day, end_day)
    saved = {key: os.environ.get(key) for key in wanted}
    os.environ.update(wanted)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _newest_source_mtime() -> float:
    newest = 0.0
    for folder in ("models", "macros", "tests", "seeds"):
        for path in (DBT_PROJECT_DIR / folder).rglob("*"):
            if path.is_file():
                newest = max(newest, path.stat().st_mtime)
    for name in ("dbt_project.yml", "profiles.yml"):
        newest = max(newest, (DBT_PROJECT_DIR / name).stat().st_mtime)
    return newest


def ensure_manifest() -> Path:
    """Parse the dbt project when its manifest is missing or older than its sources.

    ``DbtProject.prepare_if_dev`` only acts under ``dagster dev``; tests, the CLI and production
    code locations load definitions without it. A lock keeps parallel loaders from parsing at once.
    """
    manifest = dbt_project.manifest_path
    manifest.parent.mkdir(parents=True, exist_ok=True)
    with open(manifest.parent / ".parse.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if manifest.exists() and manifest.stat().st_mtime >= _newest_source_mtime():
            return manifest
        # the target and environment the builds use: dbt's partial-parse state then matches
        # theirs, and a home's first build skips a whole-project parse (~10 s)
        env = {**os.environ, **dbt_env(get_settings())}
        subprocess.run(
            [
                DBT_EXECUTABLE,
                "parse",
                "--quiet",
                "--target",
                dbt_target(),
                "--project-dir",
                str(DBT_PROJECT_DIR),
                "--profiles-dir",
                str(DBT_PROJECT_DIR),
                "--target-path",
                str(manifest.parent),
                "--log-path",
                str(manifest.parent.parent / "logs"),
            ],
            check=True,
            env=env,
            cwd=DBT_PROJECT_DIR,
        )
    return manifest


_OPERATORS = (
    (">=", " is at least "),
    ("<=", " is at most "),
    ("!=", " differs from "),
    (">", " is above "),
    ("<", " is below "),
    ("=", " equals "),
)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _ref_name(ref: str) -> str:
    """``ref('dim_sites')`` -> ``dim_sites``."""
    found = re.search(r"ref\(\s*['\"]([^'\"]+)['\"]", ref or "")
    return found.group(1) if found else _slug(ref or "")


def test_claim(node: Mapping[str, Any]) -> tuple[str, str]:
    """A dbt test as a claim: a readable check name and one sentence saying what it asserts.

    Generic tests get names from their kind and arguments (``site_id_is_unique``,
    ``one_row_per_site_id_and_day``); singular tests are already named as claims
    (``assert_<claim>.sql``) and keep their name.
    """
    meta = node.get("test_metadata") or {}
    kwargs = meta.get("kwargs") or {}
    kind = meta.get("name")
    column = kwargs.get("column_name")
    columns = kwargs.get("columns") or kwargs.get("combination_of_columns") or []
    described = node.get("description") or (node.get("meta") or {}).get("description")
    if kind == "unique":
        name, claim = f"{column}_is_unique", f"No two rows share a {column}."
    elif kind == "not_null":
        name, claim = f"{column}_is_never_null", f"Every row has a {column}."
    elif kind == "grain":
        joined = " and ".join(columns)
        name = f"one_row_per_{'_and_'.join(columns)}"
        claim = f"One row per {joined}: no two rows share them and none of them is null."
    elif kind == "accepted_values":
        values = ", ".join(str(v) for v in kwargs.get("values", []))
        name, claim = f"{column}_is_an_accepted_value", f"{column} is one of: {values}."
    elif kind == "expression_is_true":
        expression = str(kwargs.get("expression", ""))
        readable = expression
        for operator, words in _OPERATORS:
            readable = readable.replace(operator, words)
        name, claim = _slug(readable), f"Every row satisfies {expression}."
    elif kind in ("relationships", "relationships_by"):
        target = _ref_name(kwargs.get("to", ""))
        mine = columns or [column]
        theirs = kwargs.get("to_columns") or [kwargs.get("field")]
        verb = "exists" if len(mine) == 1 else "exist"
        name = f"{'_and_'.join(mine)}_{verb}_in_{target}"
        claim = f"Every {', '.join(mine)} is a {', '.join(str(c) for c in theirs)} of {target}."
    else:
        name = node["name"]
        words = name.removeprefix("assert_").replace("_", " ")
        claim = f"{words[:1].upper()}{words[1:]}."
    given = node.get("name") or ""
    generated = f"{meta['namespace']}_{kind}_" if meta.get("namespace") else f"{kind}_"
    if kind and given and not given.startswith(generated):
        name = given  # a generic test the yml names itself (``name:``) keeps that name
    return _shortened(name), (described or claim).strip()


# dbt cuts long generated test names at a hash; a check name this long is cut at a word
MAX_CHECK_NAME = 80


def _shortened(name: str) -> str:
    if len(name) <= MAX_CHECK_NAME:
        return name
    return name[:MAX_CHECK_NAME].rsplit("_", 1)[0]


def readable_manifest(path: Path) -> dict[str, Any]:
    """The dbt manifest with every test renamed as its claim (:func:`test_claim`).

    dagster-dbt names a test's asset check after the test node, both when it builds the check
    specs and when it maps dbt's results back, so renaming the nodes here renames both. A name
    taken twice on one model keeps dbt's own name.
    """
    manifest = json.loads(path.read_text())
    taken: set[tuple[str, str]] = set()
    for node in manifest["nodes"].values():
        if node["resource_type"] != "test":
            continue
        name, claim = test_claim(node)
        attached = node.get("attached_node") or ",".join(node["depends_on"]["nodes"])
        if (attached, name) in taken:
            name = node["name"]
        taken.add((attached, name))
        node["name"] = name[:120]
        node["meta"] = {**(node.get("meta") or {}), "description": claim}
    return manifest


UNKNOWN_TYPE = "unknown"


def read_catalog(target_path: Path | None = None) -> dict[str, Any]:
    """dbt's catalog (``catalog.json``: the columns and types the warehouse holds), written by
    ``dbt docs generate`` (``siteledger docs``); empty when it has not been generated."""
    path = (target_path or dbt_project.target_path) / "catalog.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def column_schema(props: Mapping[str, Any], catalog: Mapping[str, Any]) -> TableSchema | None:
    """A model's columns for its Dagster asset page: every column the YAML documents (with its
    description) and every column the warehouse holds, in the table's order. The type is the
    YAML's ``data_type``, else the warehouse's (catalog), else "unknown"."""
    documented = props.get("columns") or {}
    section = "sources" if props.get("resource_type") == "source" else "nodes"
    found = ((catalog.get(section) or {}).get(props.get("unique_id", "")) or {}).get("columns", {})
    in_table = {str(name).lower(): column for name, column in found.items()}
    names = [str(c["name"]).lower() for c in sorted(in_table.values(), key=lambda c: c["index"])]
    names += [name for name in documented if name.lower() not in in_table]
    if not names:
        return None
    by_name = {name.lower(): column for name, column in documented.items()}
    columns = []
    for name in names:
        doc = by_name.get(name.lower()) or {}
        data_type = doc.get("data_type") or (in_table.get(name.lower()) or {}).get("type")
        columns.append(
            TableColumn(
                name=name,
                type=str(data_type).lower() if data_type else UNKNOWN_TYPE,
                description=doc.get("description") or None,
                tags={tag: "" for tag in doc.get("tags") or []},
            )
        )
    return TableSchema(columns=columns)


class SiteledgerDbtTranslator(DagsterDbtTranslator):
    """Keys, groups and owners from the model's folder; lake sources link to ingestion assets;
    column schemas with descriptions from the YAML and types from the catalog."""

    def __init__(self, catalog: Mapping[str, Any] | None = None) -> None:
        super().__init__(
            settings=DagsterDbtTranslatorSettings(
                enable_asset_checks=True, enable_duplicate_source_asset_keys=True
            )
        )
        self._catalog = read_catalog() if catalog is None else catalog

    def get_asset_check_spec(
        self,
        asset_spec: AssetSpec,
        manifest: Mapping[str, Any],
        unique_id: str,
        project: Any,
    ) -> AssetCheckSpec | None:
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None or spec.description:
            return spec
        claim = test_claim(self.get_resource_props(manifest, unique_id))[1]
        return spec._replace(description=claim)

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            to_key = _SOURCE_KEYS.get(dbt_resource_props["source_name"])
            if to_key is not None:
                return to_key(dbt_resource_props["name"])
        return super().get_asset_key(dbt_resource_props)

    def get_asset_spec(
        self, manifest: Mapping[str, Any], unique_id: str, project: Any
    ) -> AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        if props["resource_type"] == "source":
            return spec
        fqn = props["fqn"]  # e.g. ["siteledger", "marts", "water", "fct_site_balance_daily"]
        layer = fqn[1] if len(fqn) > 2 else "dbt"
        if props["resource_type"] == "seed":  # reference tables shipped with the project
            layer = "reference"
        group = _GROUPS.get(layer) or (fqn[2] if layer == "marts" and len(fqn) > 3 else layer)
        spec = spec.replace_attributes(
            group_name=group, owners=_OWNERS.get(layer, ["team:data-engineering"])
        )
        schema = column_schema(props, self._catalog)
        if schema is not None:
            spec = spec.replace_attributes(
                metadata={**spec.metadata, "dagster/column_schema": schema}
            )
        # upstream assets dbt cannot know of (a second writer of a source), from the model's meta
        extra = (props.get("meta") or {}).get("siteledger", {}).get("also_depends_on", [])
        if extra:
            spec = spec.merge_attributes(deps=[AssetKey.from_user_string(k) for k in extra])
        return spec


class SiteledgerDbtCli(DbtCliResource):
    """dbt as a subprocess, without dagster-dbt's in-process copy of the dbt adapter.

    dagster-dbt loads dbt's project, profile and adapter in this process before every invocation
    (~2 s of a ~13 s one-day build) only to fetch column metadata and row counts when asked; the
    row counts come from the build database after the run (``dagster/row_count``) instead.
    """

    def _initialize_dbt_core_adapter(self, args: Any) -> Any:
        return None

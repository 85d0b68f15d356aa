"""dbt wired in one place: the project, its manifest, and the translator to Dagster assets."""

import fcntl
import os
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from dagster import AssetKey, AssetSpec
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtProject

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
_GROUPS = {"staging": "staging", "intermediate": "intermediate"}
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
        env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "False"}
        env.setdefault("SITELEDGER_HOME", str(Path("var").resolve()))
        subprocess.run(
            [
                DBT_EXECUTABLE,
                "parse",
                "--quiet",
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


class SiteledgerDbtTranslator(DagsterDbtTranslator):
    """Keys, groups and owners from the model's folder; lake sources link to ingestion assets."""

    def __init__(self) -> None:
        super().__init__(
            settings=DagsterDbtTranslatorSettings(
                enable_asset_checks=True, enable_duplicate_source_asset_keys=True
            )
        )

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
        group = _GROUPS.get(layer) or (fqn[2] if layer == "marts" and len(fqn) > 3 else layer)
        spec = spec.replace_attributes(
            group_name=group, owners=_OWNERS.get(layer, ["team:data-engineering"])
        )
        # upstream assets dbt cannot know of (a second writer of a source), from the model's meta
        extra = (props.get("meta") or {}).get("siteledger", {}).get("also_depends_on", [])
        if extra:
            spec = spec.merge_attributes(deps=[AssetKey.from_user_string(k) for k in extra])
        return spec

"""The dbt documentation site for BI users, as one HTML file that opens with no network.

``dbt docs generate --static`` writes ``static_index.html``: dbt's docs app with the manifest
and catalog inside it, so it opens from disk (the plain ``index.html`` fetches ``manifest.json``
and ``catalog.json``, which browsers refuse over ``file://``). The catalog (column types, row
counts) is read from the build warehouse for the published marts; without a warehouse the site
still documents every model and column, with an empty catalog. dbt's app loads its usage
tracker from a CDN when the manifest allows tracking; the environment turns tracking off and the
loader's address is removed as well, so the page requests nothing from the network.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from siteledger.dbt import DBT_EXECUTABLE, DBT_PROJECT_DIR, DbtError, dbt_env, dbt_target_dir
from siteledger.settings import Settings

# models whose tables readers see in the published warehouse
PUBLISHED_SELECT = "path:models/marts"
# dbt docs' snowplow loader: `i.src="//d1fc8wv8zag5ca.cloudfront.net/2.9.0/sp.js"`
_TRACKER = re.compile(r"""(\.src\s*=\s*)(["'])(?:https?:)?//[^"']*\bsp\.js\2""")
# what a browser would fetch by itself: a script, image or frame source (attribute or a
# property set from script), a stylesheet link, a CSS import or url()
_FETCHES = (
    re.compile(r"""\bsrc\s*=\s*["']?\s*(?:https?:)?//""", re.IGNORECASE),
    re.compile(r"""<link\b[^>]*\bhref\s*=\s*["']?\s*(?:https?:)?//""", re.IGNORECASE),
    re.compile(r"""@import\s+(?:url\()?\s*["']?(?:https?:)?//""", re.IGNORECASE),
    re.compile(r"""url\(\s*["']?(?:https?:)?//""", re.IGNORECASE),
)


@dataclass(frozen=True)
class DocsSite:
    index: Path
    n_models: int
    n_published: int
    catalog_tables: int


def docs_dir(settings: Settings) -> Path:
    """Where ``siteledger docs`` writes the site (open ``index.html``)."""
    return settings.home / "docs" / "dbt"


def remote_fetches(html: str) -> list[str]:
    """Every place the page would request something from the network by itself (links a
    reader clicks, and URLs inside strings that are not fetched, are not counted)."""
    return [m.group(0) for pattern in _FETCHES for m in pattern.finditer(html)]


def build_docs_site(settings: Settings) -> DocsSite:
    """Generate the dbt docs with the published marts' catalog and write the offline site."""
    target = dbt_target_dir(settings)
    settings.ensure_dirs()
    args = ["generate", "--static", "--select", PUBLISHED_SELECT]
    with tempfile.TemporaryDirectory(prefix="siteledger-docs-") as scratch:
        env = {**os.environ, **dbt_env(settings)}
        if not settings.build_db.exists():
            # dbt opens (and would create) the warehouse to compile: give it a throw-away one
            env["SITELEDGER_BUILD_DB"] = str(Path(scratch) / "empty.duckdb")
            args.append("--empty-catalog")
        done = subprocess.run(
            [
                DBT_EXECUTABLE,
                "docs",
                *args,
                "--project-dir",
                str(DBT_PROJECT_DIR),
                "--profiles-dir",
                str(DBT_PROJECT_DIR),
            ],
            cwd=DBT_PROJECT_DIR,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    if done.returncode != 0:
        raise DbtError(
            f"dbt docs generate failed (exit {done.returncode})", done.stdout + done.stderr
        )
    html = (target / "static_index.html").read_text(encoding="utf-8")
    html = _TRACKER.sub(r"\1\2\2", html)
    folder = docs_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    index = folder / "index.html"
    index.write_text(html, encoding="utf-8")
    manifest = json.loads((target / "manifest.json").read_text())
    catalog = json.loads((target / "catalog.json").read_text())
    models = [n for n in manifest["nodes"].values() if n["resource_type"] == "model"]
    return DocsSite(
        index=index,
        n_models=len(models),
        n_published=sum(1 for n in models if n["original_file_path"].startswith("models/marts")),
        catalog_tables=len(catalog.get("nodes") or {}),
    )

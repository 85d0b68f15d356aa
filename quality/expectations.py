"""Great Expectations suites over the quality scores, run per site and partition batch.

GE 1.24 validates pandas frames here: its SQL datasource against DuckDB fails silently (every
expectation ``success=False``, the error only in ``exception_info``; STACK_NOTES), so the score
rows are read from DuckDB and handed over as dataframes. One suite per site, because the
thresholds are the site's score bands. Each expectation's unexpected rows (by day, scope and
scope id) become that row's ``failing_expectations``. A run of a suite costs ~0.3 s whatever the
batch size, so a long window is validated in batches of one calendar month (12 runs for a year)
and a nightly run in one batch of its days.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import shutil
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from quality.scores import COMPONENTS, STATUSES

INDEX_COLUMNS = ["day", "scope", "scope_id"]
_REMOTE = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)


@dataclass(frozen=True)
class Bands:
    excellent_min: float = 95.0
    good_min: float = 85.0
    fair_min: float = 70.0


@dataclass
class ExpectationOutcome:
    """One expectation of one batch: what GE found."""

    site_id: str
    batch_start: dt.date
    batch_end: dt.date
    expectation: str
    column: str | None
    success: bool
    element_count: int
    unexpected_count: int
    unexpected_percent: float | None
    exception: str | None = None


@dataclass
class ValidationRun:
    """Failing expectations per score row, and every expectation outcome."""

    failing: dict[tuple[Any, ...], list[str]] = field(default_factory=lambda: defaultdict(list))
    outcomes: list[ExpectationOutcome] = field(default_factory=list)


def claim(column: str, bound: float) -> str:
    """How a failed score expectation reads in ``failing_expectations``."""
    return f"{column} >= {bound:g}"


class ScoreValidator:
    """An ephemeral GE context with one suite per site; results kept for Data Docs."""

    def __init__(self) -> None:
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
        import great_expectations as gx
        from great_expectations.data_context.types.base import (
            DataContextConfig,
            InMemoryStoreBackendDefaults,
            ProgressBarsConfig,
        )

        logging.getLogger("great_expectations").setLevel(logging.ERROR)
        self._gx = gx
        # no default docs site: GE's ephemeral default makes a temporary folder per context
        config = DataContextConfig(
            store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False)
        )
        self.context = gx.get_context(mode="ephemeral", project_config=config)
        self.context.variables.progress_bars = ProgressBarsConfig(globally=False)
        source = self.context.data_sources.add_pandas("quality_scores")
        self._asset = source.add_dataframe_asset("fct_quality_scores_daily")
        self._batch = self._asset.add_batch_definition_whole_dataframe("partition")
        self._checkpoints: dict[str, Any] = {}

    def _checkpoint(self, site_id: str, bands: Bands) -> Any:
        if site_id in self._checkpoints:
            return self._checkpoints[site_id]
        gx = self._gx
        suite = self.context.suites.add(gx.ExpectationSuite(name=f"quality_scores.{site_id}"))
        for column in COMPONENTS:
            suite.add_expectation(
                gx.expectations.ExpectColumnValuesToBeBetween(
                    column=column,
                    min_value=bands.good_min,
                    max_value=100,
                    meta={"claim": claim(column, bands.good_min)},
                )
            )
        suite.add_expectation(
            gx.expectations.ExpectColumnValuesToBeBetween(
                column="overall_score",
                min_value=bands.fair_min,
                max_value=100,
                meta={"claim": claim("overall_score", bands.fair_min)},
            )
        )
        suite.add_expectation(
            gx.expectations.ExpectColumnValuesToNotBeNull(
                column="overall_score", meta={"claim": "overall_score is not null"}
            )
        )
        suite.add_expectation(
            gx.expectations.ExpectColumnValuesToBeInSet(
                column="status", value_set=list(STATUSES), meta={"claim": "status is known"}
            )
        )
        suite.add_expectation(
            gx.expectations.ExpectCompoundColumnsToBeUnique(
                column_list=INDEX_COLUMNS, meta={"claim": "one row per day, scope and scope id"}
            )
        )
        definition = self.context.validation_definitions.add(
            gx.ValidationDefinition(name=f"scores.{site_id}", data=self._batch, suite=suite)
        )
        checkpoint = self.context.checkpoints.add(
            gx.Checkpoint(
                name=f"quality_scores.{site_id}",
                validation_definitions=[definition],
                result_format={
                    "result_format": "COMPLETE",
                    "unexpected_index_column_names": INDEX_COLUMNS,
                },
            )
        )
        self._checkpoints[site_id] = checkpoint
        return checkpoint

    def validate(self, scores: pd.DataFrame, bands: dict[str, Bands]) -> ValidationRun:
        """Run each site's suite on each batch of ``scores``; rows are keyed by
        (site_id, day, scope, scope_id)."""
        run = ValidationRun()
        if scores.empty:
            return run
        frame = scores.copy()
        frame["day"] = pd.to_datetime(frame["day"]).dt.date
        for (site_id, _month), part in frame.groupby(["site_id", _batch_keys(frame["day"])]):
            checkpoint = self._checkpoint(site_id, bands.get(site_id, Bands()))
            batch = (min(part["day"]), max(part["day"]))
            result = checkpoint.run(
                batch_parameters={"dataframe": part.reset_index(drop=True)},
                run_id=self._run_id(f"{site_id}_{batch[0]}_{batch[1]}"),
            )
            for validation in result.run_results.values():
                self._collect(run, site_id, batch, validation)
        return run

    def _run_id(self, name: str) -> Any:
        from great_expectations.core.run_identifier import RunIdentifier

        return RunIdentifier(run_name=name, run_time=dt.datetime.now(dt.UTC))

    @staticmethod
    def _collect(
        run: ValidationRun, site_id: str, batch: tuple[dt.date, dt.date], validation: Any
    ) -> None:
        for item in validation.results:
            config = item.expectation_config
            meta = config.meta or {}
            name = str(meta.get("claim", config.type))
            result = item.result or {}
            exception = (item.exception_info or {}).get("exception_message")
            run.outcomes.append(
                ExpectationOutcome(
                    site_id=site_id,
                    batch_start=batch[0],
                    batch_end=batch[1],
                    expectation=name,
                    column=config.kwargs.get("column"),
                    success=bool(item.success),
                    element_count=int(result.get("element_count") or 0),
                    unexpected_count=int(result.get("unexpected_count") or 0),
                    unexpected_percent=result.get("unexpected_percent"),
                    exception=exception,
                )
            )
            if exception:
                raise RuntimeError(
                    f"expectation {name!r} on {site_id} {batch[0]}..{batch[1]} errored: {exception}"
                )
            column = config.kwargs.get("column")
            for row in result.get("unexpected_index_list") or []:
                key = (site_id, row["day"], row["scope"], row["scope_id"])
                value = row.get(column) if column else None
                detail = name if value is None else f"{name} ({float(value):g})"
                run.failing[key].append(detail)

    def build_data_docs(self, folder: Path) -> Path:
        """Data Docs of this run's validations under ``folder``, readable offline; returns the
        index page."""
        tmp = folder.with_name(folder.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        self.context.add_data_docs_site(
            site_name="siteledger",
            site_config={
                "class_name": "SiteBuilder",
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(tmp),
                },
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            },
        )
        try:
            self.context.build_data_docs(site_names=["siteledger"])
        finally:
            self.context.delete_data_docs_site("siteledger")
        make_offline(tmp)
        shutil.rmtree(folder, ignore_errors=True)
        tmp.rename(folder)
        return folder / "index.html"


def _batch_keys(days: pd.Series) -> pd.Series:
    """Calendar month of each day ('2025-07'): the validation batch it belongs to."""
    return pd.to_datetime(days).dt.strftime("%Y-%m")


OFFLINE_STYLE = """<style>
body{font-family:system-ui,sans-serif;margin:1.5rem;color:#222}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ccc;padding:.2rem .5rem}
.text-danger,.fa-times{color:#b00}.text-success,.fa-check-circle{color:#070}
.collapse:not(.show){display:block}nav,.navbar,.ge-footer{display:none}
</style>"""

_SCRIPT_REMOTE = re.compile(
    r"<script[^>]*\bsrc\s*=\s*[\"']?\s*(?:https?:)?//[^>]*>\s*</script>", re.IGNORECASE
)
_LINK_REMOTE = re.compile(r"<link[^>]*\bhref\s*=\s*[\"']?\s*(?:https?:)?//[^>]*>", re.IGNORECASE)
_IMG_REMOTE = re.compile(r"<img[^>]*\bsrc\s*=\s*[\"']?\s*(?:https?:)?//[^>]*>", re.IGNORECASE)
_ANCHOR_REMOTE = re.compile(
    r"""(\bhref\s*=\s*)(["']?)\s*(?:https?:)?//[^"'\s>]*\2""", re.IGNORECASE
)
_CSS_IMPORT_REMOTE = re.compile(r"""@import\s+(?:url\()?["']?(?:https?:)?//[^;]*;""")
_CSS_URL_REMOTE = re.compile(r"""url\(\s*["']?(?:https?:)?//[^)]*\)""")
_IFRAME_FORM = re.compile(r"<(iframe|form)\b.*?</\1>", re.IGNORECASE | re.DOTALL)


def make_offline(folder: Path) -> int:
    """Rewrite every HTML page under ``folder`` so that it loads nothing from the network:
    remote scripts, stylesheets, images and forms are removed (GE pulls Bootstrap, jQuery, Vega
    and its logos from CDNs), remote links point nowhere, and a small inline stylesheet keeps the
    tables readable. Returns the number of pages rewritten."""
    pages = 0
    for page in folder.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        text = _SCRIPT_REMOTE.sub("", text)
        text = _LINK_REMOTE.sub("", text)
        text = _IMG_REMOTE.sub("", text)
        text = _IFRAME_FORM.sub("", text)
        text = _ANCHOR_REMOTE.sub(r'\1"#"', text)
        text = _CSS_IMPORT_REMOTE.sub("", text)
        text = _CSS_URL_REMOTE.sub("none", text)
        text = text.replace("</head>", OFFLINE_STYLE + "</head>", 1)
        page.write_text(text, encoding="utf-8")
        pages += 1
    for sheet in folder.rglob("*.css"):
        css = sheet.read_text(encoding="utf-8", errors="replace")
        css = _CSS_URL_REMOTE.sub("none", _CSS_IMPORT_REMOTE.sub("", css))
        sheet.write_text(css, encoding="utf-8")
    return pages


def remote_references(folder: Path) -> list[str]:
    """Every place a page or stylesheet under ``folder`` would fetch from the network."""
    found = []
    for path in [*folder.rglob("*.html"), *folder.rglob("*.css")]:
        text = path.read_text(encoding="utf-8", errors="replace")
        for pattern in (_REMOTE, _CSS_IMPORT_REMOTE, _CSS_URL_REMOTE):
            found += [f"{path.relative_to(folder)}: {m.group(0)}" for m in pattern.finditer(text)]
    return found

"""Data Docs as static HTML: an index of every validation and one page per validation.

GE's own site builder pulls Bootstrap, jQuery and Vega from CDNs and fills its index table with
scripts, so offline it shows an unstyled page with no list. These pages are plain HTML with one
inline stylesheet and no script: each validation page says what every expectation claimed, what
share of rows met it, and, per meter (or node, or site), which days failed and what was read.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from collections import defaultdict
from collections.abc import Iterable
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from quality.expectations import ExpectationOutcome, Validation

# failing rows listed per expectation on a page; the rest are counted
MAX_ROWS = 500

STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d2733;
background:#f5f7fa}
header{background:#1f3a5f;color:#fff;padding:.9rem 1.5rem}header h1{margin:0;font-size:1.3rem}
header p{margin:.2rem 0 0;color:#c9d6e8}header a{color:#fff}
main{padding:1rem 1.5rem;max-width:1200px}
section{background:#fff;border:1px solid #d9e0e8;border-radius:6px;padding:.8rem 1rem;
margin:0 0 1rem}
h2{font-size:1.1rem;margin:.2rem 0 .6rem}h3{font-size:1rem;margin:.8rem 0 .4rem}
table{border-collapse:collapse;width:100%;margin:.3rem 0 .6rem}
th,td{border-bottom:1px solid #e3e8ee;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#eef2f6;font-weight:600}td.n{text-align:right;font-variant-numeric:tabular-nums}
.pass{color:#17693a;font-weight:600}.fail{color:#b3261e;font-weight:600}
.badge{display:inline-block;padding:.05rem .45rem;border-radius:3px;font-size:.85em}
.badge.pass{background:#e3f4e8}.badge.fail{background:#fbe6e4}
.muted{color:#66717e}code{background:#eef2f6;padding:0 .25rem;border-radius:3px}
"""


def _page(title: str, subtitle: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
        f"<header><h1>{escape(title)}</h1><p>{subtitle}</p></header><main>{body}</main>"
        "</body></html>\n"
    )


def _badge(success: bool) -> str:
    return (
        '<span class="badge pass">pass</span>'
        if success
        else '<span class="badge fail">fail</span>'
    )


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value:.2f} %"


def page_name(validation: Validation) -> str:
    """File name of a validation's page under ``validations/``."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", validation.name) + ".html"


def _table(headers: Iterable[str], rows: Iterable[Iterable[str]], numeric: set[int]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="n">{cell}</td>' if i in numeric else f"<td>{cell}</td>"
            for i, cell in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_index(validations: list[Validation], built_at: dt.datetime) -> str:
    """The index: every validation with its batch, rows and outcome, linked to its page."""
    ordered = sorted(validations, key=lambda v: (v.site_id, v.suite, v.batch_start))
    failed = sum(not v.success for v in ordered)
    rows = [
        (
            f'<a href="validations/{escape(page_name(v))}">{escape(v.suite)}</a>',
            escape(v.site_id),
            f"{v.batch_start} … {v.batch_end}",
            f"{v.n_rows:,}",
            f"{sum(o.success for o in v.outcomes)} of {len(v.outcomes)}",
            f"{sum(o.unexpected_count for o in v.outcomes):,}",
            _badge(v.success),
        )
        for v in ordered
    ]
    body = (
        "<section><h2>Validations</h2>"
        f"<p>{len(ordered)} validations, {failed} with a failed expectation. "
        "<code>readings.&lt;site&gt;</code> checks every meter-day's readings and scores "
        "(register falls on cumulative meter classes only); "
        "<code>quality_scores.&lt;site&gt;</code> checks the node and site scores per month.</p>"
        + _table(
            ("suite", "site", "days", "rows", "expectations met", "rows failing", "result"),
            rows,
            {3, 4, 5},
        )
        + "</section>"
    )
    return _page(
        "Data quality validations",
        f"Built {built_at:%Y-%m-%d %H:%M} UTC by the quality stage.",
        body,
    )


def _by_scope(outcomes: list[ExpectationOutcome]) -> str:
    """Per meter (or node, site): days failing and the expectations they failed."""
    days: dict[tuple[str, str, str], set[dt.date]] = defaultdict(set)
    claims: dict[tuple[str, str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for outcome in outcomes:
        for failure in outcome.failures:
            key = (failure.meter_class, failure.scope, failure.scope_id)
            days[key].add(failure.day)
            claims[key][outcome.expectation] += 1
    if not days:
        return "<p>Every row met every expectation.</p>"
    ordered = sorted(days, key=lambda k: (k[0], -len(days[k]), k))
    rows = [
        (
            escape(key[0] or "—"),
            escape(key[1]),
            f"<strong>{escape(key[2])}</strong>",
            f"{len(days[key]):,}",
            "<br>".join(
                f"{escape(c)} — {n:,} day{'s' if n != 1 else ''}"
                for c, n in sorted(claims[key].items())
            ),
        )
        for key in ordered
    ]
    return _table(("meter class", "scope", "id", "days failing", "expectations failed"), rows, {3})


def render_validation(validation: Validation) -> str:
    """A validation's page: its expectations, what failed per meter, and the failing rows."""
    summary = _table(
        ("expectation", "column", "feeds", "mostly", "rows", "unexpected", "share", "result"),
        [
            (
                escape(o.expectation),
                f"<code>{escape(o.column or '')}</code>",
                escape(o.feeds),
                "" if o.mostly is None else f"{o.mostly:.0%}",
                f"{o.element_count:,}",
                f"{o.unexpected_count:,}",
                _pct(o.unexpected_percent),
                _badge(o.success),
            )
            for o in validation.outcomes
        ],
        {4, 5, 6},
    )
    details = []
    for outcome in validation.outcomes:
        if not outcome.failures:
            continue
        shown = sorted(outcome.failures, key=lambda f: (f.scope_id, f.day))[:MAX_ROWS]
        more = len(outcome.failures) - len(shown)
        details.append(
            f"<h3>{escape(outcome.expectation)} — {len(outcome.failures):,} "
            f"row{'s' if len(outcome.failures) != 1 else ''}</h3>"
            + _table(
                ("day", "meter class", "id", "read"),
                [
                    (
                        str(f.day),
                        escape(f.meter_class or f.scope),
                        escape(f.scope_id),
                        escape(f.detail),
                    )
                    for f in shown
                ],
                set(),
            )
            + (f'<p class="muted">… and {more:,} more rows.</p>' if more > 0 else "")
        )
    body = (
        "<section><h2>Expectations</h2>"
        f"<p>{validation.n_rows:,} rows of {validation.batch_start} … {validation.batch_end}; "
        "an expectation with a <em>mostly</em> holds when that share of rows meets it.</p>"
        + summary
        + "</section><section><h2>What failed, per meter</h2>"
        + _by_scope(validation.outcomes)
        + "</section>"
        + ("<section><h2>Failing rows</h2>" + "".join(details) + "</section>" if details else "")
    )
    subtitle = (
        f"Site {escape(validation.site_id)} · validated {validation.validated_at:%Y-%m-%d %H:%M} "
        f'UTC · {_badge(validation.success)} · <a href="../index.html">all validations</a>'
    )
    return _page(
        f"{validation.suite} · {validation.batch_start} … {validation.batch_end}", subtitle, body
    )


def write_data_docs(validations: list[Validation], folder: Path) -> Path:
    """Write the index and one page per validation under ``folder`` (replacing it); returns
    the index page."""
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "validations").mkdir(parents=True)
    for validation in validations:
        page = tmp / "validations" / page_name(validation)
        page.write_text(render_validation(validation), encoding="utf-8")
    (tmp / "index.html").write_text(
        render_index(validations, dt.datetime.now(dt.UTC)), encoding="utf-8"
    )
    shutil.rmtree(folder, ignore_errors=True)
    tmp.rename(folder)
    return folder / "index.html"

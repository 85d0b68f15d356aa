"""Report definitions: what a regulator receives, from YAML.

A definition names the regulator, the report type, the period (weekly, monthly, quarterly, annual;
the financial year is the organisation's, ``organisation.yaml``; or a lot, for the per-lot
documents of the materials domain), its domain (water, the default, energy:
:mod:`reports.energy`, or materials: :mod:`reports.materials`), the sections, the summary metrics,
the requirements (min/max per metric, e.g. closure error <= 5 %), the formats, the recipients and
the due-date rule.
Shipped definitions live in ``reports/definitions/``; a deployment adds its own (YAML or JSON)
under ``$SITELEDGER_HOME/reports/definitions/`` (same id = override), with custom templates in a
``templates/`` folder beside them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from reports.metrics import METRICS
from siteledger.site.loader import (
    ConfigProblem,
    SiteConfigError,
    parse_yaml_mapping,
    read_config_text,
    validation_problems,
)

SHIPPED_DIR = Path(__file__).resolve().parent / "definitions"

# a "lot" period is one lot of a product or material: a per-lot document (a certificate of
# analysis, a recall report) keyed by the lot id, from the lot's dates
PeriodKind = Literal["weekly", "monthly", "quarterly", "annual", "lot"]
Domain = Literal["water", "energy", "materials", "metering"]
Format = Literal["pdf", "xlsx", "csv", "json", "xml"]
SECTIONS = (
    "summary",
    "requirements",
    "categories",
    "quality_categories",
    "storage",
    "facilities",
    "facility_detail",
    "discharges",
    "efficiency",
    "accuracy",
    "charts",
    "outlook",
    "sustainability",
    "restatements",
    "data_quality",
    "sites",
)
# sections an organisation's report can fill (it has no site-level tables)
ORGANISATION_SECTIONS = ("summary", "requirements", "sites", "efficiency", "accuracy", "storage")


class DefinitionError(ValueError):
    """A definition file that cannot be used; ``problems`` lists every reason."""

    def __init__(self, path: Path | str, problems: list[str]):
        self.path = str(path)
        self.problems = problems
        super().__init__(f"{path}: " + "; ".join(problems))


class _Model(BaseModel):
    # a NaN bound would pass every check: refuse non-finite numbers where they are written
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class RequirementSpec(_Model):
    """A bound on one metric; breaching it keeps the report in draft."""

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$", max_length=80)
    metric: str
    min: float | None = None
    max: float | None = None
    reference: str = ""
    # a metric the period cannot compute (e.g. no inputs, so no closure %) breaches unless allowed
    allow_missing: bool = False

    @field_validator("metric")
    @classmethod
    def _known_metric(cls, value: str) -> str:
        if value not in METRICS:
            raise ValueError(f"unknown metric {value!r}; known: {', '.join(sorted(METRICS))}")
        return value

    @model_validator(mode="after")
    def _has_bound(self) -> RequirementSpec:
        if self.min is None and self.max is None:
            raise ValueError("a requirement needs min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self


class DueRule(_Model):
    """Due date = period end + ``days_after_period_end`` (site-local calendar days)."""

    days_after_period_end: int = Field(ge=0, le=366)


class Branding(_Model):
    accent_colour: str = Field("#1f4e79", pattern=r"^#[0-9a-fA-F]{6}$")
    footer_note: str = ""


class ReportDefinition(_Model):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]*$")
    title: str
    regulator: str
    # internal: a report for the operator's own people (sustainability, management); it applies
    # to every listed site whatever regulators the site names
    audience: Literal["regulator", "internal"] = "regulator"
    report_type: str
    # water: the site's water balance marts (sections and metrics above); energy: the energy
    # marts, with the sections and metrics of reports.energy; materials: the materials marts,
    # with those of reports.materials; metering: the metering marts, with those of
    # reports.metering
    domain: Domain = "water"
    period: PeriodKind
    # site: one report per site; organisation: one per organisation, its sites as rows (annual)
    scope: Literal["site", "organisation"] = "site"
    # the organisation's financial year (organisation.yaml) cuts quarters and years; a definition
    # may repeat it to make sure it is built for that year, never set a different one
    financial_year_start_month: int | None = Field(None, ge=1, le=12)
    sites: list[str] = Field(default_factory=lambda: ["*"])
    unit: Literal["m3", "ML"] = "m3"
    sections: list[str]
    metrics: list[str] = Field(min_length=1)
    requirements: list[RequirementSpec] = Field(default_factory=list)
    # the site file's requirements whose period matches this report's also apply
    include_site_requirements: bool = True
    # WAF output destinations that count as discharge (GRI 303-4: surface, ground, sea, third party)
    discharge_categories: list[str] = Field(
        default_factory=lambda: ["surface_water", "sea_water", "third_party_water"]
    )
    formats: list[Format] = Field(default_factory=lambda: list(get_args(Format)))
    recipients: list[str] = Field(default_factory=list)
    due: DueRule
    template: str = "report.html.j2"
    branding: Branding = Field(default_factory=Branding)
    narrative: str = ""
    source_path: str | None = Field(None, exclude=True)

    @field_validator("period")
    @classmethod
    def _period_fits_domain(cls, value: str, info: ValidationInfo) -> str:
        domain = info.data.get("domain", "water")
        if value == "weekly" and domain == "water":
            raise ValueError(
                "weekly periods are for energy reports (domain: energy); a water report is "
                "monthly, quarterly or annual"
            )
        if value == "lot" and domain != "materials":
            raise ValueError(
                "lot periods are for materials reports (domain: materials); a "
                f"{domain} report has calendar periods"
            )
        return value

    @field_validator("sections")
    @classmethod
    def _known_sections(cls, value: list[str], info: ValidationInfo) -> list[str]:
        known = _domain_sections(info.data.get("domain", "water"))
        unknown = [s for s in value if s not in known]
        if unknown:
            raise ValueError(f"unknown sections {unknown}; known: {', '.join(known)}")
        return value

    @field_validator("metrics")
    @classmethod
    def _known_metrics(cls, value: list[str], info: ValidationInfo) -> list[str]:
        known = _domain_metrics(info.data.get("domain", "water"))
        unknown = [m for m in value if m not in known]
        if unknown:
            raise ValueError(f"unknown metrics {unknown}; known: {', '.join(sorted(known))}")
        return value

    @field_validator("recipients")
    @classmethod
    def _emails(cls, value: list[str]) -> list[str]:
        bad = [r for r in value if "@" not in r or any(c in r for c in " \r\n,;<>")]
        if bad:
            raise ValueError(f"not e-mail addresses: {bad}")
        return value

    @field_validator("template")
    @classmethod
    def _template_name(cls, value: str) -> str:
        # a bare file name: templates are looked up only in the template folders
        if "/" in value or "\\" in value or value.startswith("."):
            raise ValueError(f"template {value!r} must be a file name, not a path")
        return value

    @model_validator(mode="after")
    def _domain_fits(self) -> ReportDefinition:
        if self.domain == "water":
            return self
        rules = _DOMAIN_RULES[self.domain]
        name = f"{'an' if self.domain[0] in 'aeiou' else 'a'} {self.domain} report"
        if self.scope != "site":
            raise ValueError(f"{name} is a site's (scope: site)")
        if self.requirements:
            raise ValueError(f"requirements bound water metrics; {name} has none")
        if self.period not in rules.periods:
            raise ValueError(f"{name} is {rules.periods_text}")
        unknown = [f for f in self.formats if f not in ("pdf", "xlsx")]
        if unknown:
            raise ValueError(f"{name} is rendered as pdf or xlsx, not {unknown}")
        if self.domain == "materials":
            from reports.materials.catalogue import check_sections

            check_sections(self.period, self.sections, self.metrics)
        if self.domain == "metering":
            from reports.metering.catalogue import check_sections as check_metering

            check_metering(self.period, self.sections, self.metrics)
        if self.template == "report.html.j2":
            # the water report's template reads the water payload: a domain has its own
            self.template = rules.template
        return self

    @model_validator(mode="after")
    def _scope_fits(self) -> ReportDefinition:
        if self.scope == "organisation":
            if self.period != "annual":
                raise ValueError("an organisation report is annual (period: annual)")
            extra = [
                s
                for s in self.sections
                if s not in ORGANISATION_SECTIONS and s not in ("restatements", "data_quality")
            ]
            if extra:
                raise ValueError(
                    f"sections {extra} need a site; an organisation report can show "
                    f"{', '.join(ORGANISATION_SECTIONS)}, restatements, data_quality"
                )
        elif "sites" in self.sections:
            raise ValueError("the sites section is for organisation reports (scope: organisation)")
        return self

    def fy_start_month(self, organisation_month: int) -> int:
        """The financial year's first month: the organisation's, which a definition that names
        one must agree with."""
        declared = self.financial_year_start_month
        if declared is not None and declared != organisation_month:
            raise DefinitionError(
                self.source_path or self.id,
                [
                    f"financial_year_start_month: {declared} disagrees with the organisation's "
                    f"financial year, which starts in month {organisation_month} "
                    "(organisation.yaml); remove it from the definition"
                ],
            )
        return organisation_month

    def applies_to(self, site_id: str, regulators: Collection[str] = ()) -> bool:
        """Whether ``site_id`` files this report: it is among ``sites`` and, when the site names
        its regulators, this report's regulator is one of them (a mine files the returns of its
        own jurisdiction)."""
        listed = "*" in self.sites or site_id in self.sites
        if self.audience == "internal":
            return listed
        return listed and (not regulators or self.regulator in regulators)

    @property
    def fingerprint(self) -> str:
        """Hash of everything that shapes the report (not where the file lives; the financial
        year is in the period of every report)."""
        # a default audience is left out, so definitions written before it keep their fingerprint
        exclude = {"financial_year_start_month"}
        if self.audience == "regulator":
            exclude.add("audience")
        if self.domain == "water":
            exclude.add("domain")
        payload = json.dumps(self.model_dump(mode="json", exclude=exclude), sort_keys=True).encode()
        return hashlib.sha256(payload).hexdigest()

    def due_date(self, period_end: dt.date) -> dt.date:
        """Due date of a period whose last day is ``period_end``."""
        return period_end + dt.timedelta(days=self.due.days_after_period_end)


@dataclass(frozen=True)
class _DomainRules:
    """What a domain's report may be: its period kinds and its default template."""

    periods: tuple[str, ...]
    periods_text: str
    template: str


_DOMAIN_RULES = {
    "energy": _DomainRules(("weekly", "monthly"), "weekly or monthly", "energy_report.html.j2"),
    "materials": _DomainRules(
        ("monthly", "lot"), "monthly or per lot (period: lot)", "materials_report.html.j2"
    ),
    "metering": _DomainRules(("monthly",), "monthly", "metering_report.html.j2"),
}


def _domain_sections(domain: str) -> tuple[str, ...]:
    if domain == "energy":
        from reports.energy import ENERGY_SECTIONS

        return ENERGY_SECTIONS
    if domain == "materials":
        from reports.materials.catalogue import MATERIALS_SECTIONS

        return MATERIALS_SECTIONS
    if domain == "metering":
        from reports.metering.catalogue import METERING_SECTIONS

        return METERING_SECTIONS
    return SECTIONS


def _domain_metrics(domain: str) -> Collection[str]:
    if domain == "energy":
        from reports.energy import ENERGY_METRICS

        return ENERGY_METRICS
    if domain == "materials":
        from reports.materials.catalogue import MATERIALS_METRICS

        return MATERIALS_METRICS
    if domain == "metering":
        from reports.metering.catalogue import METERING_METRICS

        return METERING_METRICS
    return METRICS


def _problem_text(problem: ConfigProblem) -> str:
    """A problem as ``line N: key.path: reason`` (the file is the error's ``path``)."""
    message = problem.message
    if message.startswith("not valid YAML"):
        message = "cannot read YAML" + message[len("not valid YAML") :]
    elif message.startswith("expected a mapping at the top"):
        message = f"a report definition must be a YAML mapping ({message})"
    where = f"line {problem.line}: " if problem.line else ""
    return f"{where}{problem.path or '(root)'}: {message}"


def load_definition(path: Path) -> ReportDefinition:
    """The definition in ``path``; raises :class:`DefinitionError` listing every problem with
    its line (unreadable, binary or oversized files, invalid YAML, unknown keys, bad values)."""
    try:
        doc = parse_yaml_mapping(read_config_text(path), str(path))
    except SiteConfigError as exc:
        raise DefinitionError(path, [_problem_text(p) for p in exc.problems]) from exc
    try:
        definition = ReportDefinition.model_validate(doc.data)
    except ValidationError as exc:
        problems = [_problem_text(p) for p in validation_problems(exc, doc)]
        raise DefinitionError(path, problems) from exc
    definition.source_path = str(path)
    return definition


def definition_dirs(home_reports_dir: Path | None) -> list[Path]:
    dirs = [SHIPPED_DIR]
    if home_reports_dir is not None:
        dirs.append(home_reports_dir / "definitions")
    return dirs


def load_definitions(home_reports_dir: Path | None = None) -> list[ReportDefinition]:
    """Shipped definitions, then the deployment's (a later file with the same id replaces one)."""
    found: dict[str, ReportDefinition] = {}
    for folder in definition_dirs(home_reports_dir):
        if not folder.is_dir():
            continue
        # JSON is YAML too: a definition may be written in either
        for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml"), *folder.glob("*.json")]):
            definition = load_definition(path)
            found[definition.id] = definition
    return list(found.values())


def template_dirs(definition: ReportDefinition) -> list[Path]:
    """Folders a definition's template may come from: its own folder's ``templates/``, then the
    shipped templates (so a custom template can extend the shipped base)."""
    dirs = []
    if definition.source_path:
        custom = Path(definition.source_path).parent / "templates"
        if custom.is_dir():
            dirs.append(custom)
    dirs.append(Path(__file__).resolve().parent / "templates")
    return dirs

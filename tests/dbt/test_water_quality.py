"""Water quality and incidents marts on hand-made lab files: every expected number below is worked
out by hand in the comments (the lab site of tests/ingestion/lab_site.py: discharge point SP-DIS
with TDS max 1 500 mg/L, pH 6.5-8.5, copper max 20 ug/L, sulfate monthly mean max 400 mg/L (set
here); treatment T-1 from SP-TIN to SP-TOUT)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from ingestion.files import import_landing
from ingestion.site_tables import write_site_tables
from siteledger.settings import Settings
from siteledger.state import StateStore
from siteledger.state.incidents import Incident, export_incidents, record_incident
from tests.dbt.runner import query, run_dbt, shared_home
from tests.ingestion.lab_site import EDD_HEADER, WATER_QUALITY, lab_site

LIMITS = [
    *[lim for lim in WATER_QUALITY["limits"] if lim["id"] != "L-SO4-M"],
    {
        "id": "L-SO4-M",
        "sample_point": "SP-DIS",
        "parameter": "so4",
        "max": 400,
        "basis": "monthly_mean",
    },
]
# Australia/Perth is UTC+8: 09:00 local is 01:00 UTC
EDD = (
    EDD_HEADER
    + "\n".join(
        [
            "SP-TIN,2025-03-10 09:00,TDS,1250,mg/L,,,,",
            "SP-TIN,2025-03-10 15:00,TDS,1350,mg/L,,,,",
            "SP-TOUT,2025-03-10 11:00,TDS,350,mg/L,,,,",
            "SP-TIN,2025-03-10 09:00,Copper,80,µg/L,,,,",
            "SP-TOUT,2025-03-10 11:00,Copper,<5,µg/L,,,,",
            "SP-DIS,2025-03-12 09:00,TDS,1620,mg/L,,,,",
            "SP-DIS,2025-03-12 09:00,Copper,0.031,mg/L,,,,",
            "SP-DIS,2025-03-12 09:00,pH,6.2,pH,,,,",
            "SP-DIS,2025-03-12 09:00,Sulfate,420,mg/L,,,,",
            "SP-DIS,2025-03-26 09:00,Copper,10,µg/L,<,,,",
            "SP-DIS,2025-03-26 09:00,Sulfate,<400,mg/L,,,,",
            "SP-DIS,2025-04-09 09:00,Sulfate,380,mg/L,,,,",
            "SP-DIS,2025-04-23 09:00,Sulfate,450,mg/L,,,,",
        ]
    )
    + "\n"
)
TESTED = (
    "fct_water_quality_results fct_discharge_exceedances fct_treatment_efficiency "
    "fct_flow_quality_check fct_environmental_incidents int_lab_results_deduplicated"
)
MARTS = (
    "+fct_discharge_exceedances +fct_treatment_efficiency +fct_environmental_incidents "
    "+fct_flow_quality_check"
)


def _build(home: Path) -> None:
    settings = Settings(home=home)
    settings.ensure_dirs()
    site = lab_site(limits=LIMITS)
    write_site_tables(settings, site)
    (settings.landing / "lab_edd_hand.csv").write_text(EDD, encoding="utf-8")
    store = StateStore(settings.state_store_url)
    results = import_landing(settings, site, store)
    assert [(r.status, r.imported, r.failed) for r in results] == [("committed", 13, 0)]
    # recorded: the 12 March discharge (detected too: linked, not doubled) and a dam overflow
    # nobody's data shows
    record_incident(
        store,
        Incident(
            site_id="small_site",
            type="discharge",
            flow="dam_to_creek",
            started_at=dt.datetime(2025, 3, 12, 8, tzinfo=dt.UTC),
            ended_at=dt.datetime(2025, 3, 13, tzinfo=dt.UTC),
            status="contained",
            severity="high",
            reported_to_authority=True,
            reported_on=dt.date(2025, 3, 13),
        ),
        "cli",
    )
    record_incident(
        store,
        Incident(
            site_id="small_site",
            type="overflow",
            node="dam",
            started_at=dt.datetime(2025, 2, 1, tzinfo=dt.UTC),
            ended_at=dt.datetime(2025, 2, 2, tzinfo=dt.UTC),
            status="resolved",
        ),
        "cli",
    )
    export_incidents(settings, store)
    store.dispose()
    run_dbt(home, "run", "--select", MARTS)
    run_dbt(home, "test", "--select", TESTED)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shared_home(tmp_path_factory, "water_quality", _build)


def test_treatment_removal_is_inlet_minus_outlet_over_inlet(home: Path):
    rows = query(
        home,
        "select parameter_id, inlet_value, outlet_value, removal_pct, removal_basis "
        "from marts.fct_treatment_efficiency order by parameter_id",
    )
    assert rows == [
        # copper: in 80 ug/L = 0.080 mg/L; out < 5 ug/L = 0.005 mg/L (taken at its detection
        # limit, so the removal is at least (0.080 - 0.005) / 0.080 = 93.75 %)
        {
            "parameter_id": "cu",
            "inlet_value": pytest.approx(0.08),
            "outlet_value": pytest.approx(0.005),
            "removal_pct": 93.75,
            "removal_basis": "at_least",
        },
        # TDS: the day's inlet mean (1 250 + 1 350) / 2 = 1 300; out 350;
        # (1 300 - 350) / 1 300 = 73.0769 %
        {
            "parameter_id": "tds",
            "inlet_value": 1300.0,
            "outlet_value": 350.0,
            "removal_pct": 73.0769,
            "removal_basis": "measured",
        },
    ]


def test_discharge_results_against_each_limit(home: Path):
    rows = query(
        home,
        "select limit_id, cast(period_start as varchar) as period, value, value_low, status, "
        "exceedance_side, margin, margin_pct from marts.fct_discharge_exceedances "
        "order by limit_id, period_start, evaluated_at_utc",
    )
    assert rows == [
        # 0.031 mg/L against 20 ug/L = 0.020 mg/L: over by 0.011 mg/L = 55 % of the limit
        {
            "limit_id": "L-CU",
            "period": "2025-03-12",
            "value": pytest.approx(0.031),
            "value_low": pytest.approx(0.031),
            "status": "exceeded",
            "exceedance_side": "above_max",
            "margin": pytest.approx(-0.011),
            "margin_pct": -55.0,
        },
        # < 10 ug/L: between 0 and 0.010 mg/L, at or below 0.020: within, 0.010 of headroom
        {
            "limit_id": "L-CU",
            "period": "2025-03-26",
            "value": pytest.approx(0.010),
            "value_low": 0.0,
            "status": "within",
            "exceedance_side": None,
            "margin": pytest.approx(0.010),
            "margin_pct": 50.0,
        },
        # pH 6.2 under the 6.5 minimum by 0.3 (0.3 / 6.5 = 4.6154 %); 2.3 under the 8.5 maximum
        {
            "limit_id": "L-PH",
            "period": "2025-03-12",
            "value": 6.2,
            "value_low": 6.2,
            "status": "exceeded",
            "exceedance_side": "below_min",
            "margin": pytest.approx(-0.3),
            "margin_pct": -4.6154,
        },
        # March sulfate: 420 and < 400 -> mean between (420 + 0) / 2 = 210 and (420 + 400) / 2
        # = 410; 410 > 400 but 210 < 400: indeterminate, not an exceedance
        {
            "limit_id": "L-SO4-M",
            "period": "2025-03-01",
            "value": 410.0,
            "value_low": 210.0,
            "status": "indeterminate",
            "exceedance_side": None,
            "margin": -10.0,
            "margin_pct": -2.5,
        },
        # April: (380 + 450) / 2 = 415 > 400: over by 15 = 3.75 %
        {
            "limit_id": "L-SO4-M",
            "period": "2025-04-01",
            "value": 415.0,
            "value_low": 415.0,
            "status": "exceeded",
            "exceedance_side": "above_max",
            "margin": -15.0,
            "margin_pct": -3.75,
        },
        # 1 620 against 1 500: over by 120 = 8 %
        {
            "limit_id": "L-TDS",
            "period": "2025-03-12",
            "value": 1620.0,
            "value_low": 1620.0,
            "status": "exceeded",
            "exceedance_side": "above_max",
            "margin": -120.0,
            "margin_pct": -8.0,
        },
    ]


def test_incidents_union_recorded_and_detected_without_doubles(home: Path):
    rows = query(
        home,
        "select source, incident_type, node_id, flow_id, cast(started_day as varchar) as start, "
        "cast(ended_day as varchar) as ended, status, detection_rule, linked_detection_ids, "
        "is_confirmed_by_data from marts.fct_environmental_incidents "
        "order by started_day, source",
    )
    detected_march = "detected:discharge_outside_licence:small_site:SP-DIS:2025-03-12:2025-03-12"
    assert rows == [
        {
            "source": "manual",
            "incident_type": "overflow",
            "node_id": "dam",
            "flow_id": None,
            "start": "2025-02-01",
            "ended": "2025-02-02",
            "status": "resolved",
            "detection_rule": None,
            "linked_detection_ids": None,
            "is_confirmed_by_data": False,
        },
        # recorded from 08:00 UTC 12 March (16:00 in Perth) to 00:00 UTC 13 March (08:00 on
        # the 13th in Perth): the 12 March detection (TDS, copper, pH over their limits) is
        # linked to it
        {
            "source": "manual",
            "incident_type": "discharge",
            "node_id": None,
            "flow_id": "dam_to_creek",
            "start": "2025-03-12",
            "ended": "2025-03-13",
            "status": "contained",
            "detection_rule": None,
            "linked_detection_ids": detected_march,
            "is_confirmed_by_data": True,
        },
        # April's sulfate mean was recorded by nobody; the March sulfate mean was indeterminate
        # and is no incident
        {
            "source": "detected",
            "incident_type": "discharge",
            "node_id": None,
            "flow_id": "dam_to_creek",
            "start": "2025-04-01",
            "ended": "2025-04-30",
            "status": "contained",
            "detection_rule": "discharge_outside_licence",
            "linked_detection_ids": None,
            "is_confirmed_by_data": False,
        },
    ]

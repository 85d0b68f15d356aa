"""The demo's prepaid water utility (demo/metering.py): ``demo_waterco`` written as file drops
with its ground truth.

The generator tests run on a small utility (150 customers, 120 days from 2025-07-01): the same
seed writes the same bytes, the files carry the contract's columns, a reference detector run on
the written readings finds exactly the truth's leak days (and none on stale or offline days),
and each customer's balance in the truth equals both the simulation's running ledger and a hand
ledger computed from the files alone (purchases, registers, the site file's tariffs).

The scoring tests run the same small utility through import and the dbt build and compare the
marts with the truth (docs/metering.md, Demo and benchmark); they skip while the metering
importer (``ingestion.metering_lake``) is not there.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import math
from collections import defaultdict
from datetime import date, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from openpyxl import load_workbook

from demo import metering as wc
from demo.write import ground_truth_dir, write_demo

START = date(2025, 7, 1)
DAYS = 120
CUSTOMERS = 150
SEED = 7
SITE = wc.METERING_SITE_ID
HAS_IMPORTER = importlib.util.find_spec("ingestion.metering_lake") is not None


def _write(home: Path, seed: int = SEED) -> None:
    write_demo(home, days=DAYS, start=START, seed=seed, sites=(SITE,), customers=CUSTOMERS)


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("waterco")
    _write(home)
    return home


def _truth(home: Path) -> dict[str, Any]:
    return json.loads((ground_truth_dir(home, SITE) / wc.TRUTH_FILE).read_text())


def _rows(home: Path, pattern: str) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for path in sorted((home / "landing").glob(pattern)):
        with path.open(newline="", encoding="utf-8") as handle:
            rows += list(csv.DictReader(handle))
    return rows


def _section(home: Path) -> dict[str, Any]:
    return yaml.safe_load((home / "sites" / f"{SITE}.yaml").read_text())["metering"]


def _readings(home: Path) -> pd.DataFrame:
    """Every readings file as one frame of distinct (meter, read_at), in canonical names."""
    h = wc.READINGS_HEADERS
    frames = [
        pd.read_csv(p, dtype={h["meter_id"]: str, h["read_at"]: str})
        for p in sorted((home / "landing").glob("waterco_hes_readings_*.csv"))
    ]
    frame = pd.concat(frames, ignore_index=True).rename(columns={v: k for k, v in h.items()})
    frame["read_at"] = pd.to_datetime(frame["read_at"], format=wc.READ_TIME_FORMAT)
    return frame


def _reference_leak_days(readings: pd.DataFrame) -> tuple[set[tuple[str, str]], pd.DataFrame]:
    """The site's leak rule on the written registers (hour volume = register rise since the
    previous distinct reading, on the hour that ends at the reading; a day counts when all 24
    hours reported): no zero-flow hour, 12 or more flowing hours, or night flow above 10 L/h."""
    r = readings.drop_duplicates(["meter_id", "read_at"]).sort_values(["meter_id", "read_at"])
    r = r.assign(litres=r.groupby("meter_id")["register_m3"].diff() * 1000)
    r = r.dropna(subset=["litres"])
    r["hour_start"] = r["read_at"] - pd.Timedelta(hours=1)
    r["day"] = r["hour_start"].dt.strftime("%Y-%m-%d")
    r["hour"] = r["hour_start"].dt.hour
    r["flowing"] = r["litres"].round() >= 1
    night = r[r["hour"].isin(wc.NIGHT_HOURS)].groupby(["meter_id", "day"])["litres"]
    daily = r.groupby(["meter_id", "day"]).agg(hours=("litres", "size"), flowing=("flowing", "sum"))
    daily["night_min"] = night.min()
    daily["night_n"] = night.size()
    full = daily[daily["hours"] == 24]
    leak = (
        (full["flowing"] == 24)
        | (full["flowing"] >= 12)
        | ((full["night_n"] == 3) & (full["night_min"] > 10))
    )
    return {(m, d) for m, d in full[leak].index}, daily


# -- the generator ------------------------------------------------------------------------------
def test_the_same_seed_writes_the_same_bytes_and_another_seed_does_not(small: Path, tmp_path: Path):
    _write(tmp_path / "again")
    names = sorted(p.name for p in (small / "landing").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "again" / "landing").iterdir())
    assert len([n for n in names if n.startswith("waterco_hes_readings_")]) == 4  # Jul-Oct
    for name in names:
        assert (small / "landing" / name).read_bytes() == (
            tmp_path / "again" / "landing" / name
        ).read_bytes(), name
    assert (ground_truth_dir(small, SITE) / wc.TRUTH_FILE).read_bytes() == (
        ground_truth_dir(tmp_path / "again", SITE) / wc.TRUTH_FILE
    ).read_bytes()
    _write(tmp_path / "other", seed=8)
    first = "waterco_hes_readings_2025-07.csv"
    assert (small / "landing" / first).read_bytes() != (
        tmp_path / "other" / "landing" / first
    ).read_bytes()


def test_the_files_carry_the_contract_columns_and_the_site_names_them(small: Path):
    landing = small / "landing"
    with (landing / "waterco_crm_2025-07-01_customers.csv").open() as f:
        assert tuple(next(csv.reader(f))) == wc.CUSTOMER_COLUMNS
    assert tuple(_rows(small, "waterco_crm_*_meters.csv")[0]) == wc.METER_COLUMNS
    assert tuple(_rows(small, "waterco_pay_purchases_*.csv")[0]) == wc.PURCHASE_COLUMNS
    assert tuple(_rows(small, "waterco_hes_events_*.csv")[0]) == wc.EVENT_COLUMNS
    vouchers = json.loads(next(landing.glob("waterco_pay_campaign_vouchers_*.json")).read_text())
    assert set(vouchers[0]) == {
        "voucher_code",
        "discount_type",
        "value",
        "max_discount",
        "min_purchase",
        "total_limit",
        "per_customer_limit",
        "valid_from",
        "valid_until",
        "description",
    }
    sheet = load_workbook(next(landing.glob("waterco_maintenance_*.xlsx")))["Tasks"]
    assert [c.value for c in sheet[3]] == [h for _, h in wc.MAINTENANCE_HEADERS]
    readings = _readings(small)
    assert list(readings.columns) == list(wc.READINGS_HEADERS)
    section = _section(small)
    layouts = {lay["kind"]: lay for lay in section["layouts"]}
    assert set(layouts) == {
        "customers",
        "meters",
        "vouchers",
        "purchases",
        "readings",
        "meter_events",
        "maintenance",
    }
    assert layouts["readings"]["columns"] == wc.READINGS_HEADERS
    for path in landing.iterdir():
        kinds = [k for k, lay in layouts.items() if path.match(lay["pattern"])]
        assert len(kinds) == 1 or path.match("waterco_bulk_*.csv"), path.name
    # import order is name order: each CRM export's customers before its meters (a meter needs
    # its customer; the later export's leavers after the first export's meters), vouchers before
    # purchases
    names = sorted(p.name for p in landing.iterdir())
    crm = [n for n in names if n.startswith("waterco_crm_")]
    assert crm == [
        "waterco_crm_2025-07-01_customers.csv",
        "waterco_crm_2025-07-01_meters.csv",
        "waterco_crm_2025-09-11_customers.csv",
        "waterco_crm_2025-09-11_meters.csv",
    ]
    assert names.index("waterco_pay_campaign_vouchers_2025.json") < min(
        i for i, n in enumerate(names) if n.startswith("waterco_pay_purchases_")
    )
    # money columns are whole rupiah, a purchase's final amount is amount less discount
    for row in _rows(small, "waterco_pay_purchases_*.csv"):
        assert int(row["final_amount"]) == int(row["amount"]) - int(row["discount"])
        assert len(row["token_id"]) == 20 and row["token_id"].isdigit()
        assert row["paid_at"].endswith("+07:00")
    assert section["districts"][0]["bulk_meters"] == ["bulk_north"]
    versions = section["tariffs"][1]["versions"]
    assert [v["effective_from"] for v in versions] == ["2025-01-01", "2025-09-01"]
    assert versions[0]["blocks"] == [
        {"up_to_m3": 10, "rate": 3550},
        {"up_to_m3": 20, "rate": 4700},
        {"rate": 5500},
    ]


def test_counts_and_events_are_where_the_truth_says(small: Path):
    truth = _truth(small)
    readings = _readings(small)
    assert len(readings) == truth["readings_written"] - 3 * (DAYS * 24 + 1)  # less the bulk rows
    assert readings["meter_id"].nunique() == truth["meters"]
    customers = _rows(small, "waterco_crm_*_customers.csv")
    assert len({r["customer_id"] for r in customers}) == truth["customers"] == CUSTOMERS
    assert {r["action"] for r in customers} == {"create", "update", "deactivate"}
    assert truth["leak_days"] and truth["bursts"] and truth["offline"] and truth["stale"]
    assert {e["event_type"] for e in truth["tamper_events"]} == {"magnetic", "cover_open", "tilt"}
    events = {r["event_id"]: r for r in _rows(small, "waterco_hes_events_*.csv")}
    for event in truth["tamper_events"]:
        assert events[event["event_id"]]["event_type"] == event["event_type"]
    # a burst is above 0.2 x Q3 in the written registers
    r = readings.drop_duplicates(["meter_id", "read_at"]).sort_values(["meter_id", "read_at"])
    r = r.assign(litres=r.groupby("meter_id")["register_m3"].diff() * 1000).set_index(
        ["meter_id", "read_at"]
    )
    for burst in truth["bursts"]:
        start = datetime.fromisoformat(burst["start"]).replace(tzinfo=None)
        first_hour = r.loc[(burst["meter_id"], start + timedelta(hours=1)), "litres"]
        assert first_hour > burst["threshold_l_per_h"]
    # the reverse register rises by the truth's litres on the day
    for rev in truth["reverse_flow"]:
        rows = readings[readings["meter_id"] == rev["meter_id"]].sort_values("read_at")
        rise = rows["reverse_m3"].diff() * 1000
        day = (rows["read_at"] - pd.Timedelta(hours=1)).dt.strftime("%Y-%m-%d") == rev["day"]
        assert round(rise[day].sum()) == rev["reverse_l"] >= 10
    # stale meters repeat their last reading: same time, same register
    for stale in truth["stale"]:
        rows = readings[readings["meter_id"] == stale["meter_id"]]
        last = datetime.fromisoformat(stale["last_reading_at"]).replace(tzinfo=None)
        repeated = rows[rows["read_at"] == last]
        assert len(repeated) > 24 and repeated["register_m3"].nunique() == 1
    dying = truth["dying_battery"]
    battery = readings[readings["meter_id"] == dying["meter_id"]]["battery_pct"].dropna()
    assert battery.iloc[0] > 20 and battery.iloc[-1] < 10


def test_a_reference_detector_finds_exactly_the_truth_leak_days(small: Path):
    truth = _truth(small)
    found, daily = _reference_leak_days(_readings(small))
    leaks = {(x["meter_id"], x["day"]) for x in truth["leak_days"]}
    edges = {(x["meter_id"], x["day"]) for x in truth["leak_edge_days"]}
    assert len(leaks) > 100
    assert leaks <= found, sorted(leaks - found)[:5]
    assert found - leaks - edges == set(), sorted(found - leaks - edges)[:5]
    # about 10 % of homes leak; leak kinds all present
    assert {x["kind"] for x in truth["leak_days"]} == {"continuous", "intermittent", "night_flow"}
    # stale and offline days are never full days with 24 fresh hours
    for stale in truth["stale"]:
        for day in stale["days"]:
            assert (stale["meter_id"], day) not in found
            hours = daily["hours"].get((stale["meter_id"], day), 0)
            assert hours < 24
    for off in truth["offline"]:
        for day in off["days_without_readings"]:
            assert (off["meter_id"], day) not in daily.index


def test_balances_in_the_truth_equal_the_running_ledger_and_a_hand_ledger_from_the_files(
    small: Path,
):
    truth = _truth(small)
    balances = {b["customer_id"]: b for b in truth["balances"]}
    # 1. the simulation's own running float ledger
    plan = wc.make_plan(CUSTOMERS, START, DAYS, SEED)
    utility, _ = wc.simulate_and_write(plan, None)
    for c, customer_id in enumerate(plan.customer_ids):
        assert abs(balances[customer_id]["balance"] - utility.balance[c]) < 0.006, customer_id
    # 2. a hand ledger from the files alone
    section = _section(small)
    tariffs = {t["id"]: t["versions"] for t in section["tariffs"]}
    customers: dict[str, dict[str, Any]] = {}
    for row in _rows(small, "waterco_crm_*_customers.csv"):
        entry = customers.setdefault(row["customer_id"], {"first": None, "stop": None})
        day = date.fromisoformat(row["effective_at"][:10])
        entry["segment"] = row["segment"]
        if row["action"] == "create":
            entry["first"] = day
        elif row["action"] == "deactivate":
            entry["stop"] = day
    meter_customer = {
        r["meter_id"]: r["customer_id"]
        for r in _rows(small, "waterco_crm_*_meters.csv")
        if r["action"] == "create"
    }
    readings = _readings(small).drop_duplicates(["meter_id", "read_at"])
    readings = readings.sort_values(["meter_id", "read_at"])
    readings["litres"] = (readings.groupby("meter_id")["register_m3"].diff() * 1000).round()
    readings["month"] = (readings["read_at"] - pd.Timedelta(hours=1)).dt.strftime("%Y-%m")
    readings["customer_id"] = readings["meter_id"].map(meter_customer)
    monthly = readings.dropna(subset=["litres"]).groupby(["customer_id", "month"])["litres"].sum()
    credit: dict[str, int] = defaultdict(int)
    for row in _rows(small, "waterco_pay_purchases_*.csv"):
        credit[row["customer_id"]] += int(row["amount"])
    last_day = START + timedelta(days=DAYS - 1)

    def version(versions: list[dict[str, Any]], day: date) -> dict[str, Any]:
        return [v for v in versions if date.fromisoformat(v["effective_from"]) <= day][-1]

    def charge(litres: int, blocks: list[dict[str, Any]]) -> Fraction:
        total, lower = Fraction(0), 0
        for block in blocks:
            upper = block.get("up_to_m3", math.inf) * 1000
            total += Fraction(str(block["rate"])) * Fraction(
                int(max(0, min(litres, upper) - lower)), 1000
            )
            lower = upper
        return total

    for customer_id, entry in customers.items():
        stop = entry["stop"] or last_day + timedelta(days=1)
        balance = Fraction(credit[customer_id])
        day = entry["first"]
        months: dict[str, date] = {}
        while day < stop:
            v = version(tariffs[entry["segment"]], day)
            nxt = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
            balance -= Fraction(str(v["fixed_charge_per_month"])) / (nxt - day.replace(day=1)).days
            months.setdefault(day.strftime("%Y-%m"), day)
            day += timedelta(days=1)
        for month, first in months.items():
            litres = int(monthly.get((customer_id, month), 0))
            balance -= charge(litres, version(tariffs[entry["segment"]], first)["blocks"])
        assert abs(float(balance) - balances[customer_id]["balance"]) < 0.006, customer_id
    statuses = {b["balance_status"] for b in balances.values()}
    assert {"ok", "low", "emergency"} <= statuses
    assert sum(b["balance"] > 0 for b in balances.values()) > 0.75 * CUSTOMERS


def test_collections_and_voucher_cost_add_up_from_the_purchase_files(small: Path):
    truth = _truth(small)
    purchases = _rows(small, "waterco_pay_purchases_*.csv")
    by_month: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for row in purchases:
        cell = by_month[row["paid_at"][:7] + "-01"]
        cell[0] += 1
        cell[1] += int(row["final_amount"])
        cell[2] += int(row["discount"])
    assert {
        m["month"]: [m["purchases"], m["collections"], m["voucher_cost"]]
        for m in truth["collections_monthly"]
    } == by_month
    assert truth["voucher_cost"] == sum(int(r["discount"]) for r in purchases) > 0
    vouchers = {
        v["voucher_code"]: v
        for v in json.loads(
            next((small / "landing").glob("waterco_pay_campaign_vouchers_*.json")).read_text()
        )
    }
    used: dict[tuple[str, str], int] = defaultdict(int)
    for row in purchases:
        if not row["voucher_code"]:
            assert row["discount"] == "0"
            continue
        v = vouchers[row["voucher_code"]]
        assert v["valid_from"] <= row["paid_at"] <= v["valid_until"]
        assert v["min_purchase"] is None or int(row["amount"]) >= v["min_purchase"]
        used[(row["voucher_code"], row["customer_id"])] += 1
    for (code, _), count in used.items():
        limit = vouchers[code]["per_customer_limit"]
        assert limit is None or count <= limit
    # non-revenue water: the bulk meters see more than the customers' registers
    nrw = truth["nonrevenue_water_monthly"]
    assert all(0 < x["nrw_pct"] < 40 for x in nrw)


@pytest.mark.slow
def test_the_default_year_writes_quickly(tmp_path: Path):
    """2 000 customers x 8 760 hours: the brief's 'well under a minute' (measured ~12 s)."""
    import time

    started = time.perf_counter()
    out = wc.write_site(tmp_path, None, customers=wc.DEFAULT_CUSTOMERS, start=START, days=365)
    seconds = time.perf_counter() - started
    assert out.n_readings > 17_500_000
    assert seconds < 45, f"a year of 2 000 customers took {seconds:.1f} s"


# -- through import and dbt (needs the metering importer and marts) -------------------------------
needs_chain = pytest.mark.skipif(
    not HAS_IMPORTER, reason="the metering importer (ingestion.metering_lake) is not there yet"
)


def _build(home: Path) -> None:
    from ingestion.files import import_landing
    from ingestion.site_tables import write_site_tables
    from siteledger.settings import get_settings
    from siteledger.site import load_site
    from siteledger.state import StateStore
    from tests.dbt.runner import run_dbt

    out = write_demo(home, days=DAYS, start=START, seed=SEED, sites=(SITE,), customers=CUSTOMERS)
    settings = get_settings(home)
    settings.ensure_dirs()
    store = StateStore(settings.state_store_url)
    try:
        site = load_site(out.sites[SITE].site_file)
        results = [r for r in import_landing(settings, site, store) if r.status != "unmatched"]
        assert {r.status for r in results} == {"committed"}, [
            (r.file_name, r.status) for r in results if r.status != "committed"
        ]
        write_site_tables(settings, site)
    finally:
        store.dispose()
    # cautious: no test of a model outside the selection (the water tests need the water models)
    run_dbt(
        home, "build", "--select", "+path:models/marts/metering", "--indirect-selection", "cautious"
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.dbt.runner import shared_home

    return shared_home(tmp_path_factory, "metering_demo_small", _build)


@pytest.fixture
def marts(built: Path):  # type: ignore[no-untyped-def]
    import duckdb

    from siteledger.settings import get_settings

    with duckdb.connect(str(get_settings(built).build_db), read_only=True) as con:
        con.execute("set schema = 'marts'")
        yield con


@needs_chain
@pytest.mark.slow
@pytest.mark.integration
def test_the_import_quarantines_only_the_stale_meters_repeated_readings(built: Path):
    import duckdb

    from siteledger.settings import get_settings

    rows = get_settings(built).quarantine / "rows"
    files = [str(p) for p in rows.rglob("*.parquet")]
    reasons = (
        duckdb.connect()
        .execute(
            "select reason, count(*) from read_parquet(?, union_by_name = true) group by 1",
            [files],
        )
        .fetchall()
        if files
        else []
    )
    # a stale meter's repeated last reading is a duplicate; nothing else of the demo is refused
    # (a leaver's meter is created before the customer leaves, its purchases and readings too)
    assert [r for r in reasons if not r[0].startswith("duplicate reading")] == []


def _customer_days(rows: list[dict[str, str]]) -> set[tuple[str, str]]:
    return {(r["customer_id"], r["day"]) for r in rows}


@needs_chain
@pytest.mark.slow
@pytest.mark.integration
def test_leak_detection_recall_and_precision_at_the_customer_day_level(built: Path, marts):
    truth = _truth(built)
    leaks = _customer_days(truth["leak_days"])
    edges = _customer_days(truth["leak_edge_days"])
    found = {
        (c, str(d))
        for c, d in marts.execute(
            "select customer_id, day from fct_meter_leak_days where site_id = ? and leak",
            [SITE],
        ).fetchall()
    }
    scored = found - edges
    recall = len(leaks & scored) / len(leaks)
    precision = len(leaks & scored) / max(len(scored), 1)
    assert recall >= 0.95, f"recall {recall:.3f}: missed {sorted(leaks - scored)[:5]}"
    assert precision >= 0.9, f"precision {precision:.3f}: extra {sorted(scored - leaks)[:5]}"
    # a stale meter's days never leak, whatever its last readings looked like
    stale = {(s["customer_id"], day) for s in truth["stale"] for day in s["days"]}
    assert found & stale == set()


@needs_chain
@pytest.mark.slow
@pytest.mark.integration
def test_every_tamper_burst_and_reverse_flow_event_is_in_the_events_mart(built: Path, marts):
    truth = _truth(built)
    events = marts.execute(
        "select meter_id, event_id, event_type, source, cast(day as varchar) "
        "from fct_meter_events where site_id = ?",
        [SITE],
    ).fetchall()
    from_file = {(m, e, t) for m, e, t, s, _ in events if s == "meter"}
    for tamper in truth["tamper_events"]:
        assert (tamper["meter_id"], tamper["event_id"], tamper["event_type"]) in from_file
    detected = {(m, t, d) for m, _, t, s, d in events if s == "detected"}
    for burst in truth["bursts"]:
        assert (burst["meter_id"], "burst", burst["day"]) in detected, burst
    for rev in truth["reverse_flow"]:
        assert (rev["meter_id"], "reverse_flow", rev["day"]) in detected, rev


@needs_chain
@pytest.mark.slow
@pytest.mark.integration
def test_balances_and_collections_equal_the_truth_to_the_cent(built: Path, marts):
    truth = _truth(built)
    balances = {
        c: (float(b), str(d), s)
        for c, b, d, s in marts.execute(
            "select customer_id, balance, as_of_day, balance_status "
            "from fct_customer_balances where site_id = ?",
            [SITE],
        ).fetchall()
    }
    assert len(balances) == truth["customers"]
    wrong = []
    for expected in truth["balances"]:
        balance, as_of, status = balances[expected["customer_id"]]
        # a customer who left is charged nothing after leaving: its last ledger day may be the
        # day before it left (the truth's) or the last day of data, with the same balance
        days = {expected["as_of_day"], truth["last_day"]}
        if abs(balance - expected["balance"]) > 0.005 or as_of not in days:
            wrong.append((expected["customer_id"], expected["balance"], balance, as_of))
        elif status != expected["balance_status"]:
            wrong.append((expected["customer_id"], expected["balance_status"], status, as_of))
    assert wrong == [], f"{len(wrong)} customers differ: {wrong[:5]}"
    monthly = {
        str(m): (int(p), float(c), float(v))
        for m, p, c, v in marts.execute(
            "select month, sum(purchases), sum(collections), sum(voucher_cost) "
            "from fct_metering_collections_monthly where site_id = ? group by month",
            [SITE],
        ).fetchall()
    }
    assert monthly == {
        m["month"]: (m["purchases"], float(m["collections"]), float(m["voucher_cost"]))
        for m in truth["collections_monthly"]
    }


def test_the_scoring_needs_numbers_the_truth_has(small: Path):
    """The figures the scoring tests read exist and are consistent (runs without the chain)."""
    truth = _truth(small)
    customers = {b["customer_id"] for b in truth["balances"]}
    assert len(customers) == CUSTOMERS
    assert {x["customer_id"] for x in truth["leak_days"]} <= customers
    assert all(b["as_of_day"] <= truth["last_day"] for b in truth["balances"])
    assert np.isclose(
        sum(m["collections"] for m in truth["collections_monthly"]) + truth["voucher_cost"],
        sum(m["credit_sold"] for m in truth["collections_monthly"]),
    )

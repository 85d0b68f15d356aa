"""The demo mine generator: a valid site, conserved water, and files that carry the truth."""

from __future__ import annotations

import calendar
import json
import re
from datetime import date, datetime
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from demo import build_demo_site, simulate, write_demo
from demo.energy import has_station, station_meter_ids
from demo.faults import ENERGY_KINDS, KINDS, READING_KINDS
from demo.simulate import DemoSimulation
from demo.site import CATCHMENT_AREA_M2, CATCHMENT_RUNOFF, SITE_IDS, build_highveld_site
from siteledger.site import dump_site, load_organisation, parse_site_text
from siteledger.site.curves import level_to_volume
from siteledger.site.models import SiteConfig
from siteledger.site.organisation import validate_home

DAYS = 8
START = date(2025, 7, 1)
TZ = "Australia/Perth"
HEADER_RE = re.compile(r"^(?P<name>.+?) \[(?P<unit>[^\]]+)\]$")


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("clean")
    write_demo(home, days=DAYS, start=START, seed=7)
    return home


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("faulty")
    write_demo(home, days=DAYS, start=START, seed=7, faults=True)
    return home


@pytest.fixture(scope="module")
def year() -> DemoSimulation:
    return simulate(build_demo_site(6), start=START, days=365, seed=7)


@pytest.fixture(scope="module")
def site(clean: Path) -> SiteConfig:
    return parse_site_text((clean / "sites" / "demo_mine.yaml").read_text())


def _scada(home: Path, site: SiteConfig) -> pd.DataFrame:
    """Every SCADA export as one frame: UTC index, one column per meter id."""
    by_tag = {m.tag: m.id for m in site.meters if m.tag}
    frames = []
    for path in sorted((home / "landing").glob("scada_export_????????.csv")):
        frame = pd.read_csv(path)
        stamps = pd.to_datetime(frame.pop("Timestamp"), format="%d/%m/%Y %H:%M")
        frame.index = stamps.dt.tz_localize(TZ).dt.tz_convert("UTC")
        frame.columns = [by_tag[HEADER_RE.match(c)["name"]] for c in frame.columns]
        frames.append(frame)
    return pd.concat(frames)


def _logger(home: Path) -> pd.DataFrame:
    frames = [
        pd.read_csv(p) for p in sorted((home / "landing").glob("logger_borefield_????????.csv"))
    ]
    table = pd.concat(frames, ignore_index=True)
    table["time_utc"] = pd.to_datetime(table["time_utc"], utc=True)
    return table.pivot(index="time_utc", columns="meter", values="value")


def _manual(home: Path) -> pd.DataFrame:
    rows = []
    for path in sorted((home / "landing").glob("manual_readings_*.xlsx")):
        sheet = openpyxl.load_workbook(path, read_only=True)["Readings"]
        header, *data = sheet.iter_rows(min_row=3, values_only=True)
        rows += [dict(zip(header, row, strict=True)) for row in data]
    return pd.DataFrame(rows)


def _truth(home: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(home / "demo" / "ground_truth" / f"{name}.csv", parse_dates=["day"])


def _local_day(index: pd.DatetimeIndex) -> pd.Index:
    return index.tz_convert(TZ).normalize().tz_localize(None)


def _midnight_values(frame: pd.DataFrame, column: str) -> pd.Series:
    """Readings at local 00:00, indexed by the local day they open."""
    series = frame[column].dropna()
    local = series.index.tz_convert(TZ)
    at_midnight = series[(local.hour == 0) & (local.minute == 0)]
    return pd.Series(at_midnight.values, index=_local_day(at_midnight.index))


def test_site_validates_round_trips_and_scales_with_bores():
    small = build_demo_site(6)
    assert parse_site_text(dump_site(small)) == small
    assert len(small.meters) >= 40
    assert [f.id for f in small.flows[:6]] == [f"bore_{i:02d}_to_rwd" for i in range(1, 7)]
    measured = {m.flow for m in small.meters if m.flow}
    estimated = {r.flow for r in small.estimations}
    for flow in small.flows:
        assert (flow.id in estimated) == (flow.method != "measured"), flow.id
        if flow.method == "measured":
            assert flow.id in measured, flow.id
    large = build_demo_site(115)
    assert parse_site_text(dump_site(large)) == large
    # the power station's meters (demo/energy.py) come on top of the water instruments
    station = len(station_meter_ids()) if has_station(large) else 0
    assert 480 <= len(large.meters) - station <= 520


def test_stores_stay_within_capacity_for_a_year(year: DemoSimulation):
    capacity = np.array([year.site.node(s).capacity_m3 for s in year.store_ids])
    fill = year.storage / capacity
    assert fill.min() > 0.15
    assert fill.max() < 0.9
    volumes = year.flows_daily.groupby("flow_id")["volume_m3"].sum()
    # the controls actually act: river top-ups in summer, creek discharge in winter
    assert volumes["river_to_rwd"] > 0
    assert volumes["rwd_to_discharge"] > 0


def test_mass_is_conserved_per_store_and_step_and_the_site_closes(year: DemoSimulation):
    rows = {s: i for i, s in enumerate(year.store_ids)}
    incidence = np.zeros((len(rows), len(year.flow_ids)))
    for j, flow_id in enumerate(year.flow_ids):
        flow = year.site.flow(flow_id)
        if flow.to_node in rows:
            incidence[rows[flow.to_node], j] += 1
        if flow.from_node in rows:
            incidence[rows[flow.from_node], j] -= 1
    change = np.diff(year.storage, axis=0)
    np.testing.assert_allclose(change, year.flows @ incidence.T, atol=1e-6)
    for flow_id in ("plant", "dust_suppression"):
        ins = [j for j, f in enumerate(year.flow_ids) if year.site.flow(f).to_node == flow_id]
        outs = [j for j, f in enumerate(year.flow_ids) if year.site.flow(f).from_node == flow_id]
        np.testing.assert_allclose(
            year.flows[:, ins].sum(axis=1), year.flows[:, outs].sum(axis=1), atol=1e-9
        )
    closure = year.site_daily["closure_m3"].abs().max()
    assert closure < 1e-6
    assert year.site_daily["inputs_m3"].min() > 1000


def test_written_site_daily_closes_and_matches_flows(clean: Path):
    site_daily = _truth(clean, "site_daily")
    assert len(site_daily) == DAYS
    assert site_daily["closure_m3"].abs().max() < 1e-5
    storage = _truth(clean, "storage_daily")
    delta = storage.assign(d=storage.closing_m3 - storage.opening_m3).groupby("day")["d"].sum()
    np.testing.assert_allclose(delta.values, site_daily["delta_storage_m3"].values, atol=1e-4)


def test_estimated_flows_follow_the_rules_on_the_written_readings(clean: Path, site: SiteConfig):
    flows = _truth(clean, "flows_daily").pivot(index="day", columns="flow_id", values="volume_m3")
    scada = _scada(clean, site)
    manual = _manual(clean)
    rules = {r.flow: r.params for r in site.estimations}

    rain = scada["RG-101"].dropna().groupby(_local_day(scada["RG-101"].dropna().index)).sum()
    for store in ("raw_water_dam", "process_water_dam", "return_water_dam", "tsf", "pit_sump"):
        area = site.node(store).surface_area_m2
        expected = rain / 1000 * area * rules[f"rain_on_{store}"]["runoff_coefficient"]
        np.testing.assert_allclose(flows[f"rain_on_{store}"], expected.values, atol=1e-5)
    # the catchment's runoff is gauged: the flume's totaliser counts the rain off the catchment
    assert "catchment_runoff_to_rwd" not in rules
    assert site.flow("catchment_runoff_to_rwd").method == "measured"
    runoff = flows["catchment_runoff_to_rwd"]
    np.testing.assert_allclose(
        runoff, (rain / 1000 * CATCHMENT_AREA_M2 * CATCHMENT_RUNOFF).values, atol=1e-5
    )
    register = _midnight_values(scada, "FQ-108").iloc[: DAYS + 1].to_numpy()
    np.testing.assert_allclose(np.diff(register), runoff.to_numpy(), atol=0.11)
    assert rain.sum() > 0 and runoff.sum() > 1000

    pan = manual[manual["Meter"] == "EP-101"].set_index("Date / Time")["Reading"]
    assert len(pan) == DAYS
    for store in ("raw_water_dam", "tsf"):
        area = site.node(store).surface_area_m2
        expected = pan / 1000 * area * rules[f"evap_{store}"]["pan_factor"]
        np.testing.assert_allclose(flows[f"evap_{store}"], expected.values, atol=1e-5)

    curve = site.node("tsf").stage_storage
    opening = level_to_volume(curve, _midnight_values(scada, "LT-401").iloc[:DAYS].values)
    dim = np.array([calendar.monthrange(d.year, d.month)[1] for d in flows.index])
    pct = rules["tsf_seepage"]["rate_pct_per_month"]
    np.testing.assert_allclose(flows["tsf_seepage"], opening * pct / 100 / dim, atol=1e-5)

    ore = scada["WT-301"].dropna().groupby(_local_day(scada["WT-301"].dropna().index)).sum()
    moisture = manual[manual["Meter"] == "AT-302"].set_index("Date / Time")["Reading"]
    np.testing.assert_allclose(
        flows["ore_moisture"], (ore * moisture.values / 100).values, atol=1e-5
    )
    np.testing.assert_allclose(flows["dust_evaporation"], (ore * 0.025).values, atol=1e-5)


def test_flow_rate_meters_integrate_to_the_truth(clean: Path, site: SiteConfig):
    flows = _truth(clean, "flows_daily").pivot(index="day", columns="flow_id", values="volume_m3")
    scada = _scada(clean, site)
    logger = _logger(clean)
    busiest_bore = flows.filter(like="bore_").sum().idxmax()
    bore_meter = f"B{busiest_bore.split('_')[1]}-FT"
    for meter_id, source in (
        ("FT-130A", scada),
        ("FT-130B", scada),
        ("FT-140", scada),
        ("FT-120", scada),
        (bore_meter, logger),
    ):
        rates = source[meter_id].dropna()
        daily = (rates * 0.25).groupby(_local_day(rates.index)).sum().iloc[:DAYS]
        truth = flows[site.meter(meter_id).flow]
        busy = truth > 100
        assert busy.sum() >= 3, meter_id
        np.testing.assert_allclose(daily[busy.values], truth[busy], rtol=0.005, err_msg=meter_id)


def test_totaliser_deltas_with_rollover_match_the_truth(clean: Path, site: SiteConfig):
    flows = _truth(clean, "flows_daily").pivot(index="day", columns="flow_id", values="volume_m3")
    readings = _scada(clean, site).join(_logger(clean), how="outer")
    totalisers = [m for m in site.meters if m.measurand == "totaliser" and not m.manual]
    assert len(totalisers) > 10
    for meter in totalisers:
        counts = _midnight_values(readings, meter.id)
        assert len(counts) == DAYS + 1, meter.id
        delta = np.diff(counts.values) % meter.rollover
        np.testing.assert_allclose(delta, flows[meter.flow], atol=0.2, err_msg=meter.id)


def test_levels_through_the_curve_give_the_true_storage(clean: Path, site: SiteConfig):
    storage = _truth(clean, "storage_daily")
    scada = _scada(clean, site)
    for meter in (m for m in site.meters if m.measurand == "level" and not m.manual):
        levels = _midnight_values(scada, meter.id)
        volume = level_to_volume(site.node(meter.node).stage_storage, levels.values)
        truth = storage[storage.node_id == meter.node]
        np.testing.assert_allclose(volume[:-1], truth["opening_m3"], rtol=0.001)
        np.testing.assert_allclose(volume[1:], truth["closing_m3"], rtol=0.001)


def test_the_three_layouts_parse_with_plain_tools(clean: Path, site: SiteConfig):
    landing = clean / "landing"
    scada = pd.read_csv(landing / "scada_export_20250702.csv")
    assert scada.columns[0] == "Timestamp"
    assert len(scada) == 96
    assert all(HEADER_RE.match(c) for c in scada.columns[1:])
    assert scada["Timestamp"].iloc[1] == "02/07/2025 00:15"
    closing = pd.read_csv(landing / f"scada_export_{20250701 + DAYS}.csv")
    assert len(closing) == 1 and closing["PLT_FT130A [m3/h]"].isna().all()

    logger = pd.read_csv(landing / "logger_borefield_20250702.csv")
    assert list(logger.columns) == ["meter", "time_utc", "value", "unit"]
    assert logger["time_utc"].iloc[0] == "2025-07-01T16:00:00Z"
    assert set(logger["unit"]) == {"m3", "m3/h", "kWh", "kW"}
    assert len(logger) == 96 * 4 * 6

    book = openpyxl.load_workbook(landing / "manual_readings_2025-07.xlsx")
    sheet = book["Readings"]
    assert sheet["A1"].value.startswith("Demo Mine")
    assert [c.value for c in sheet[3]] == [
        "Date / Time",
        "Meter",
        "Reading",
        "Unit",
        "Read by",
        "Comment",
    ]
    assert isinstance(sheet["A4"].value, datetime)
    frame = pd.read_excel(landing / "manual_readings_2025-07.xlsx", sheet_name="Readings", header=2)
    # FL-176: the pit genset's diesel (demo/carbon.py); FD-901: the power station's diesel
    # delivery dockets (demo/energy.py), one row per delivery
    daily = {"RG-102", "EP-101", "AT-302", "LI-101", "LI-201", "FL-176"}
    dockets = frame[frame["Meter"] == "FD-901"]
    assert set(frame["Meter"]) - {"FD-901"} == daily
    assert len(frame) == 6 * DAYS + len(dockets)
    assert has_station(site) or dockets.empty
    layouts = {layout.id: layout for layout in site.file_layouts}
    assert layouts["manual_readings"].header_row == 3
    assert layouts["borefield_logger"].timezone == "UTC"


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path):
    names = (
        "landing/scada_export_20250703.csv",
        "landing/logger_borefield_20250703.csv",
        "landing/manual_readings_2025-07.xlsx",
        "demo/ground_truth/faults.json",
        "demo/ground_truth/flows_daily.parquet",
        "sites/demo_mine.yaml",
        "landing/highveld_scada_export_20250703.csv",
        "landing/highveld_manual_readings_2025-07.xlsx",
        "demo/ground_truth/demo_highveld/faults.json",
        "demo/ground_truth/demo_highveld/flows_daily.parquet",
        "sites/demo_highveld.yaml",
        "organisation.yaml",
    )
    runs = {}
    for label, seed in (("a", 3), ("b", 3), ("c", 4)):
        write_demo(tmp_path / label, days=5, seed=seed, faults=True)
        runs[label] = [(tmp_path / label / n).read_bytes() for n in names]
    assert runs["a"] == runs["b"]
    assert runs["a"][0] != runs["c"][0]
    assert runs["a"][2] != runs["c"][2]
    assert runs["a"][6] != runs["c"][6]


def test_faults_need_five_days(tmp_path: Path):
    with pytest.raises(ValueError, match="at least 5 days"):
        write_demo(tmp_path, days=4, faults=True)


def _line(path: Path, number: int) -> str:
    return path.read_text().splitlines()[number - 1]


def test_every_fault_is_where_the_manifest_says(faulty: Path, clean: Path):
    landing = faulty / "landing"
    faults = json.loads((faulty / "demo" / "ground_truth" / "faults.json").read_text())
    site = parse_site_text((faulty / "sites" / "demo_mine.yaml").read_text())
    energy = set(ENERGY_KINDS) if has_station(site) else set()
    assert {f["kind"] for f in faults} == set(KINDS) | energy
    # the power station's faults (tests/demo/test_energy_demo.py) last to the period's end
    for fault in (f for f in faults if f["kind"] not in energy):
        path = landing / fault["file"]
        kind, meter_id, line = fault["kind"], fault["meter_id"], fault["line"]
        first_day = pd.Timestamp(fault["start_utc"]).tz_convert(TZ).date()
        last_day = pd.Timestamp(fault["end_utc"]).tz_convert(TZ).date()
        assert 1 <= (first_day - START).days <= (last_day - START).days <= DAYS - 2, fault
        if kind in ("gap", "stuck", "spike", "out_of_range"):
            frame = pd.read_csv(path)
            column = f"{site.meter(meter_id).tag} [{site.meter(meter_id).unit}]"
            first = line - 2
            count = {"gap": 24, "stuck": 48}.get(kind, 1)
            cells = frame[column].iloc[first : first + count]
            if kind == "gap":
                assert cells.isna().all()
                assert not frame[column].drop(cells.index).isna().any()
            elif kind == "stuck":
                assert cells.nunique() == 1
                assert frame[column].iloc[first + count :].nunique() > 1
            elif kind == "spike":
                ratio = cells.iloc[0] / frame["PLT_FT130B [m3/h]"].iloc[first]
                assert 9.9 < ratio < 10.1
            else:
                assert cells.iloc[0] == -9999
        elif kind == "rollover":
            rows = pd.read_csv(path)
            mine = rows[rows["meter"] == meter_id]
            wrapped = mine.index.get_loc(line - 2)
            assert mine["time_utc"].iloc[wrapped] == fault["start_utc"]
            before, after = mine["value"].iloc[wrapped - 1], mine["value"].iloc[wrapped]
            assert after < before
            assert 0 < (after - before) % site.meter(meter_id).rollover < 100
        elif kind == "duplicate_rows" and fault["expected"] == "ingested":
            lines = path.read_text().splitlines()
            numbers = re.fullmatch(r"lines (\d+)-(\d+) repeat lines (\d+)-(\d+)", fault["detail"])
            first, last, orig_first, orig_last = (int(x) for x in numbers.groups())
            assert first == line
            assert lines[first - 1 : last] == lines[orig_first - 1 : orig_last]
            assert len(set(lines)) == len(lines) - (last - first + 1)
        elif kind == "duplicate_rows":
            assert fault["expected"] == "not_imported"
            original = landing / fault["file"].replace("_resend", "")
            assert path.read_bytes() == original.read_bytes()
        elif kind == "unit_change":
            rows = pd.read_csv(path)
            mine = rows[rows["meter"] == meter_id]
            assert set(mine["unit"]) == {"L"}
            assert mine.index[0] == line - 2
            clean_rows = pd.read_csv(clean / "landing" / fault["file"])
            clean_mine = clean_rows[clean_rows["meter"] == meter_id]
            np.testing.assert_allclose(mine["value"].values, clean_mine["value"].values * 1000)
        elif kind == "malformed_file":
            header = _line(path, 1).split(",")
            fields = _line(path, line).split(",")
            if "fields" in fault["detail"]:
                assert len(fields) == len(header) - 1
            elif meter_id is not None:
                tag = f"{site.meter(meter_id).tag} [{site.meter(meter_id).unit}]"
                assert fields[header.index(tag)] == "#VALUE!"
            else:
                assert fields[0].endswith(" 25:61")
            assert fault["expected"] == "quarantined"
        elif kind == "corrupt_file":
            data = path.read_bytes()
            assert b"\x00" in data
            assert fault["expected"] == "quarantined"


# -- the second mine and the organisation --------------------------------------------------
HIGHVELD_TZ = "Africa/Johannesburg"


def _highveld_scada(home: Path) -> pd.DataFrame:
    site = parse_site_text((home / "sites" / "demo_highveld.yaml").read_text())
    by_tag = {m.tag: m.id for m in site.meters if m.tag}
    frames = []
    for path in sorted((home / "landing").glob("highveld_scada_export_????????.csv")):
        frame = pd.read_csv(path)
        stamps = pd.to_datetime(frame.pop("Timestamp"), format="%d/%m/%Y %H:%M")
        frame.index = stamps.dt.tz_localize(HIGHVELD_TZ).dt.tz_convert("UTC")
        frame.columns = [by_tag[HEADER_RE.match(c)["name"]] for c in frame.columns]
        frames.append(frame)
    return pd.concat(frames)


def test_the_organisation_file_names_both_regions_and_every_site_fits_it(clean: Path):
    org = load_organisation(clean / "organisation.yaml")
    assert (org.organisation.id, org.organisation.name) == (
        "example_resources",
        "Example Resources Ltd",
    )
    assert org.organisation.financial_year_start_month == 7
    assert org.organisation.data_start == START
    assert [r.id for r in org.regions] == ["wa_south_west", "highveld", "jakarta"]
    assert validate_home(clean) == []
    sites = {p.stem: parse_site_text(p.read_text()).site for p in (clean / "sites").glob("*")}
    # the two mines, the two workshops (sites without a water model, demo/materials.py) and the
    # prepaid water utility (demo/metering.py)
    assert sorted(sites) == [
        "demo_coating",
        "demo_highveld",
        "demo_mine",
        "demo_soapworks",
        "demo_waterco",
    ]
    assert {(s.organisation, s.region, s.timezone, s.data_start) for s in sites.values()} == {
        ("example_resources", "wa_south_west", TZ, START),
        ("example_resources", "highveld", HIGHVELD_TZ, START),
        ("example_resources", "jakarta", "Asia/Jakarta", START),
    }
    parameters = {s.id for s in sites.values()}
    assert parameters == set(SITE_IDS)


def test_the_highveld_mine_is_a_smaller_layout_on_its_own_files_and_ports():
    highveld, mine = build_highveld_site(), build_demo_site(6)
    # a valid site file, not only a valid object
    assert parse_site_text(dump_site(highveld)) == highveld
    stores = [n.id for n in highveld.nodes if n.kind == "store"]
    assert stores == ["raw_water_dam", "process_water_dam", "return_water_dam", "tsf"]
    station = len(station_meter_ids()) if has_station(mine) else 0
    assert len(highveld.meters) == 29 and len(mine.meters) == 73 + station
    assert {lay.pattern for lay in highveld.file_layouts} == {
        "highveld_scada_export_*.csv",
        "highveld_logger_borefield_*.csv",
        "highveld_manual_readings_*.xlsx",
    }
    ports = {m.modbus.port for m in highveld.meters if m.modbus}
    assert ports == {5030, 5031}
    assert not ports & {m.modbus.port for m in mine.meters if m.modbus}


def test_highveld_days_are_johannesburg_days(clean: Path):
    sim = simulate(build_highveld_site(), start=START, days=DAYS, seed=7)
    # local midnight of 1 July in Johannesburg (UTC+2) is 30 June 22:00 UTC
    assert sim.ts_utc[0] == pd.Timestamp("2025-06-30T22:00:00Z")
    scada = _highveld_scada(clean)
    assert scada.index[0] == sim.ts_utc[0]
    first_lines = (clean / "landing" / "highveld_scada_export_20250702.csv").read_text()
    assert first_lines.splitlines()[1].startswith("02/07/2025 00:00,")
    # each local day of the truth sums the 15-minute volumes from its local midnight
    truth = _highveld_truth(clean, "flows_daily")
    second = sim.flows_15min.loc["2025-07-01T22:00Z":"2025-07-02T21:45Z"].sum()
    day2 = truth[truth["day"] == "2025-07-02"].set_index("flow_id")["volume_m3"]
    np.testing.assert_allclose(day2[second.index], second.round(6), atol=1e-6)
    site_daily = _highveld_truth(clean, "site_daily")
    assert len(site_daily) == DAYS
    assert site_daily["closure_m3"].abs().max() < 1e-6
    # the meters the files carry are the truth's: the raw water transfer's rate on day 2
    rate = scada.loc["2025-07-01T22:00Z":"2025-07-02T21:45Z", "FT-120"] * 0.25
    assert rate.sum() == pytest.approx(day2["rwd_to_pwd"], rel=0.005)


def _highveld_truth(home: Path, name: str) -> pd.DataFrame:
    frame = pd.read_csv(home / "demo" / "ground_truth" / "demo_highveld" / f"{name}.csv")
    frame["day"] = frame["day"].astype(str)
    return frame


def test_each_mine_has_its_own_weather_and_the_device_simulator_shows_it(clean: Path):
    from demo.devices.values import DemoValues

    mine = simulate(build_demo_site(6), start=START, days=DAYS, seed=7)
    highveld = DemoValues(build_highveld_site(), START, DAYS, seed=7)
    assert not np.array_equal(mine.drivers.rain_mm, highveld.sim.drivers.rain_mm)
    scada = _highveld_scada(clean)
    # a poll of the simulated device gives what the file drop says (outside the fault windows)
    for meter in ("FT-110", "LT-101", "FQ-121"):
        shown = [highveld.grid[meter][k] for k in range(0, DAYS * 96, 97)]
        written = scada[meter].to_numpy()[0 : DAYS * 96 : 97]
        np.testing.assert_array_equal(shown, written)


def test_the_highveld_mine_always_carries_its_reading_faults(clean: Path, faulty: Path):
    assert not (clean / "demo" / "ground_truth" / "faults.json").exists()
    for home in (clean, faulty):
        manifest = home / "demo" / "ground_truth" / "demo_highveld" / "faults.json"
        faults = json.loads(manifest.read_text())
        assert {f["kind"] for f in faults} == READING_KINDS
        assert all(f["file"].startswith("highveld_scada_export_") for f in faults)
    site = parse_site_text((clean / "sites" / "demo_highveld.yaml").read_text())
    faults = json.loads(
        (clean / "demo" / "ground_truth" / "demo_highveld" / "faults.json").read_text()
    )
    for fault in faults:
        frame = pd.read_csv(clean / "landing" / fault["file"])
        meter = site.meter(fault["meter_id"])
        column = frame[f"{meter.tag} [{meter.unit}]"]
        first = fault["line"] - 2
        # the manifest's local time is Johannesburg's: line 2 is 00:00 local
        local = pd.Timestamp(fault["start_utc"]).tz_convert(HIGHVELD_TZ)
        assert frame["Timestamp"].iloc[first] == local.strftime("%d/%m/%Y %H:%M")
        if fault["kind"] == "gap":
            assert column.iloc[first : first + 24].isna().all()
        elif fault["kind"] == "stuck":
            assert column.iloc[first : first + 48].nunique() == 1
        elif fault["kind"] == "spike":
            assert column.iloc[first] > 5 * column.iloc[first - 1]
        else:
            assert column.iloc[first] == -9999


def test_a_short_demo_has_no_room_for_the_highveld_faults_and_reruns_replace_drops(
    tmp_path: Path,
):
    write_demo(tmp_path, days=5)
    assert (tmp_path / "landing" / "highveld_scada_export_20250706.csv").exists()
    out = write_demo(tmp_path, days=3)
    assert out.sites["demo_highveld"].faults_manifest is None
    assert not (tmp_path / "demo" / "ground_truth" / "demo_highveld" / "faults.json").exists()
    names = sorted(p.name for p in (tmp_path / "landing").iterdir())
    assert "highveld_scada_export_20250706.csv" not in names
    assert len([n for n in names if n.startswith("highveld_")]) == 2 * 4 + 1
    only = write_demo(tmp_path / "one", days=2, sites=("demo_mine",))
    assert list(only.sites) == ["demo_mine"]
    assert not list((tmp_path / "one" / "landing").glob("highveld_*"))


def test_the_highveld_rains_in_summer_and_discharges_only_then(year: DemoSimulation):
    highveld = simulate(build_highveld_site(), start=START, days=365, seed=7)

    def summer_share(sim: DemoSimulation) -> float:
        rain = pd.Series(sim.drivers.rain_mm.reshape(365, -1).sum(axis=1), index=sim.dates)
        summer = [d.month in (10, 11, 12, 1, 2, 3) for d in sim.dates]
        return float(rain[summer].sum() / rain.sum())

    # normals: 85 % of a Johannesburg year falls in October-March, 18 % of a Perth year
    assert summer_share(highveld) > 0.65
    assert summer_share(year) < 0.3
    flows = highveld.flows_daily
    months = pd.to_datetime(flows["day"]).dt.month
    discharged = flows[(flows["flow_id"] == "rwd_to_discharge") & (flows["volume_m3"] > 0)]
    assert set(months[discharged.index]) <= {11, 12, 1, 2, 3, 4}
    # without a pit sump the water still balances to the cubic metre every day of the year
    assert highveld.site_daily["closure_m3"].abs().max() < 1e-6
    assert highveld.storage.min() > 0

"""The demo organisation's sites: two mines in two regions and two time zones, and two
workshops without a water model (``demo_soapworks`` and ``demo_coating``, :mod:`demo.materials`).

``demo_mine``, a concentrator in South West Western Australia (Australia/Perth, UTC+8): five
stores (raw water dam, process water dam, return water dam, TSF decant pond, pit sump), a plant
and a dust-suppression task, a borefield that scales with ``n_bores``, and the meters a site like
this really has: SCADA flow, level and energy instruments, a borefield data logger, and manual
readings (rain gauge, evaporation pan, dip boards, the lab's ore moisture).

``demo_highveld``, an underground mine's gold plant on the South African Highveld
(Africa/Johannesburg, UTC+2): the same water circuit without a pit sump (four stores), two bores
and a lean instrument set of 29 meters (no redundant plant feed meter, pump energy registers,
weather station, discharge analysers or dip boards). Its file drops carry a ``highveld_`` prefix
so that both mines share one landing folder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import numpy as np

from demo import carbon as demo_carbon
from demo import energy as demo_energy
from demo.air import air_meters, demo_air_quality
from demo.lab import demo_water_quality
from demo.materials import MATERIALS_SITE_IDS, build_coating_site, build_soapworks_site
from demo.metering import METERING_SITE_IDS
from demo.metering import REGION as METERING_REGION
from demo.metering import REGION_NAME as METERING_REGION_NAME
from siteledger.site.curves import level_to_volume, volume_to_level
from siteledger.site.models import (
    EstimationRule,
    FileLayout,
    Flow,
    Meter,
    Node,
    SiteConfig,
    SiteInfo,
)
from siteledger.site.sustainability import Goal, SustainabilitySettings

ORGANISATION_ID = "example_resources"
ORGANISATION_NAME = "Example Resources Ltd"
# region id -> name
REGIONS = {
    "wa_south_west": "South West, Western Australia",
    "highveld": "Highveld, South Africa",
    METERING_REGION: METERING_REGION_NAME,
}

SITE_ID = "demo_mine"
TIMEZONE = "Australia/Perth"
HIGHVELD_SITE_ID = "demo_highveld"
HIGHVELD_TIMEZONE = "Africa/Johannesburg"
HIGHVELD_BORES = 2
HIGHVELD_FILE_PREFIX = "highveld_"
# the mines: the sites with a water model (the device simulator shows their physics)
MINE_SITE_IDS = (SITE_ID, HIGHVELD_SITE_ID)
# every site the demo generator writes: the mines, the workshops (demo.materials), then the
# prepaid water utility (demo.metering; its site file is written by demo.write, not built here)
SITE_IDS = (*MINE_SITE_IDS, *MATERIALS_SITE_IDS, *METERING_SITE_IDS)

RWD, PWD, RET, TSF, PIT = (
    "raw_water_dam",
    "process_water_dam",
    "return_water_dam",
    "tsf",
    "pit_sump",
)
STORES = (RWD, PWD, RET, TSF, PIT)

SCADA_LAYOUT = "scada_export"
LOGGER_LAYOUT = "borefield_logger"
MANUAL_LAYOUT = "manual_readings"

RAIN_GAUGE = "RG-101"
PAN = "EP-101"
ORE_WEIGHTOMETER = "WT-301"
CONCENTRATE_WEIGHTOMETER = "WT-311"
ORE_MOISTURE_LAB = "AT-302"

BORE_FLOW_RE = re.compile(r"^bore_(\d+)_to_rwd$")
# A 6-digit register with one decimal shows 999999.9, then 000000.0.
BORE_TOTALISER_ROLLOVER = 1_000_000.0
PIPELINE_TOTALISER_ROLLOVER = 10_000_000.0
ENERGY_ROLLOVER = 10_000_000.0
BORE_ENERGY_ROLLOVER = 1_000_000.0
# Whole borefield at full output; split across however many bores the site has.
BOREFIELD_CAPACITY_M3_PER_H = 260.0


@dataclass(frozen=True)
class StoreShape:
    """A store as a truncated pyramid: a rectangular floor and sides at ``slope`` H:V."""

    name: str
    type: str
    floor_length_m: float
    floor_width_m: float
    depth_m: float
    slope_h_per_v: float
    points: int = 9

    def volume(self, level: np.ndarray) -> np.ndarray:
        """Prismoidal volume (m3) below a level (m above the floor)."""
        h = np.asarray(level, dtype="float64")
        s, length, width = self.slope_h_per_v, self.floor_length_m, self.floor_width_m
        return length * width * h + s * h**2 * (length + width) + 4.0 / 3.0 * s**2 * h**3

    def curve(self) -> list[tuple[float, float]]:
        """Stage-storage points, volumes rounded to whole cubic metres."""
        levels = np.linspace(0.0, self.depth_m, self.points)
        volumes = self.volume(levels)
        return [(round(float(h), 3), float(round(v))) for h, v in zip(levels, volumes, strict=True)]

    def surface_area(self) -> float:
        """Water surface (m2) at 60 % of capacity, the typical operating level, to 100 m2.

        The site model holds one area per store; the level-dependent area is not modelled.
        """
        curve = self.curve()
        level = float(volume_to_level(curve, 0.6 * curve[-1][1]))
        length = self.floor_length_m + 2 * self.slope_h_per_v * level
        width = self.floor_width_m + 2 * self.slope_h_per_v * level
        return round(length * width, -2)


STORE_SHAPES: dict[str, StoreShape] = {
    RWD: StoreShape("Raw water dam", "dam", 300, 220, 9.0, 3.0),
    PWD: StoreShape("Process water dam", "dam", 90, 60, 6.0, 2.5),
    RET: StoreShape("Return water dam", "dam", 70, 50, 5.0, 2.5),
    # the decant pond sits on a tailings beach that falls about 1 in 20
    TSF: StoreShape("Tailings storage facility decant pond", "tsf", 500, 400, 3.0, 20.0, 7),
    PIT: StoreShape("Pit sump", "pit", 40, 30, 10.0, 1.5, 11),
}

# What each store's water is like (WAF category) and the SCADA prefix of its instruments.
STORE_QUALITY = {RWD: 2, PWD: 2, RET: 3, TSF: 3, PIT: 2}
STORE_TAG = {RWD: "RWD", PWD: "PWD", RET: "RET", TSF: "TSF", PIT: "PIT"}
STORE_LEVEL_METER = {RWD: "LT-101", PWD: "LT-201", RET: "LT-301", TSF: "LT-401", PIT: "LT-501"}

# 5 km2 of cleared catchment at 0.25 runoff: ~900 000 m3 in an average year, mostly May-September
CATCHMENT_AREA_M2 = 5_000_000.0
CATCHMENT_RUNOFF = 0.25
# demo_mine gauges the catchment's diversion drain into the raw water dam (a flume with an
# ultrasonic level-to-flow transmitter and a totaliser); demo_highveld estimates its runoff
RUNOFF_FLOW = "catchment_runoff_to_rwd"
RUNOFF_FLUME_MAX_M3_PER_H = 4 * 60.0 / 1000 * CATCHMENT_AREA_M2 * CATCHMENT_RUNOFF
PAN_FACTOR = 0.7
SEEPAGE_PCT_PER_MONTH = 1.5
ENTRAINMENT_RETURN_PCT = 40.0
ENTRAINMENT_RETENTION_PCT = 80.0
CONCENTRATE_MOISTURE_PCT = 9.0
DUST_M3_PER_T = 0.025
PIT_INFLOW_M3_PER_DAY = 2400.0

# Most each pipeline can carry (m3/h): the simulation's pump duties and the meters' ranges.
# River, return, pit and discharge pumps are fixed speed (on/off; the TSF return has two pumps
# of 400); the raw water transfer has a variable-speed drive.
PUMP_MAX_M3_PER_H = {
    "river_to_rwd": 250.0,
    "third_party_to_pwd": 40.0,
    "rwd_to_pwd": 1100.0,
    "pwd_to_plant": 1200.0,
    "plant_to_tsf": 1300.0,
    "tsf_to_retwd": 800.0,
    "retwd_to_pwd": 600.0,
    "pit_to_rwd": 200.0,
    "rwd_to_dust": 80.0,
    "rwd_to_discharge": 600.0,
}


def bore_ids(n_bores: int) -> list[str]:
    """Bore names ``bore_01`` ...; three digits from 100 bores up."""
    width = max(2, len(str(n_bores)))
    return [f"bore_{i:0{width}d}" for i in range(1, n_bores + 1)]


def bore_meter_prefix(bore: str) -> str:
    """``bore_07`` -> ``B07``: the prefix of that bore's logger channels."""
    return "B" + bore.split("_", 1)[1]


def meter_layout(meter: Meter) -> str:
    """Which file drop a meter's readings arrive in: manual workbook, SCADA, the borefield
    logger, or the power station's logger and Home Assistant export (:mod:`demo.energy`)."""
    station = demo_energy.meter_layouts().get(meter.id)
    if station is not None:
        return station
    if meter.manual:
        return MANUAL_LAYOUT
    return SCADA_LAYOUT if meter.tag else LOGGER_LAYOUT


def build_demo_site(n_bores: int = 6) -> SiteConfig:
    """The demo mine with ``n_bores`` production bores (4 logger channels each).

    49 meters plus 4 per bore: 73 with 6 bores, 509 with 115. The catchment runoff into the
    raw water dam is gauged (a flume, FT-107 and FQ-108), so most of the site's inputs are
    metered even in the wet winter, when runoff is the largest of them.
    """
    if n_bores < 1:
        raise ValueError(f"n_bores must be at least 1, got {n_bores}")
    bores = bore_ids(n_bores)
    water_meters = [
        *with_modbus_addresses([*_meters(bores), *_runoff_flume_meters()]),
        *demo_carbon.genset_meters(),
    ]
    # the power station (demo.energy): its meters, layouts, energy section and carbon meters
    carbon = demo_carbon.with_power_station(demo_carbon.DEMO_MINE_CARBON, water_meters)
    return SiteConfig(
        site=SiteInfo(
            id=SITE_ID,
            name="Demo Mine (copper-gold concentrator)",
            organisation=ORGANISATION_ID,
            region="wa_south_west",
            timezone=TIMEZONE,
            regulators=["WA DWER", "WA DEMIRS"],
            water_stressed=True,
        ),
        nodes=_nodes(),
        flows=_flows(bores, gauged_runoff=True),
        # the flume's meters after the others: those keep their Modbus registers; the power
        # station's meters last (they arrive as files)
        meters=[
            *water_meters,
            *(Meter.model_validate(m) for m in demo_energy.station_meter_dicts()),
        ],
        estimations=_estimations(gauged_runoff=True),
        file_layouts=[
            *_file_layouts(),
            *(FileLayout.model_validate(lay) for lay in demo_energy.station_layouts()),
        ],
        carbon=carbon,
        water_quality=demo_water_quality(),
        air_quality=demo_air_quality(),
        sustainability=DEMO_MINE_SUSTAINABILITY,
        energy=demo_energy.energy_section(),
    )


# Two goals of the demo mine's environmental team, set three months into the default demo year
DEMO_MINE_SUSTAINABILITY = SustainabilitySettings(
    goals=[
        Goal(
            id="recycling-55",
            metric="recycling_ratio_pct",
            target=55.0,
            start=date(2025, 10, 1),
            due=date(2026, 9, 30),
            owner="Environmental superintendent",
            description="More return water and decant back to the process water dam",
        ),
        Goal(
            id="fresh-water-0.34",
            metric="fresh_water_intensity_m3_per_t",
            target=0.34,
            start=date(2025, 10, 1),
            due=date(2026, 6, 30),
            owner="Plant manager",
            description="Less bore and river water per tonne milled",
        ),
    ]
)


# The Highveld mine's instruments: levels, one meter pair per measured pipeline (the totaliser
# carries the volume when the rate transmitter fails), the plant's weightometers and lab, and
# the manual rain gauge and pan; its bores report a totaliser and a flow rate each.
HIGHVELD_METERS = frozenset(
    {
        *(STORE_LEVEL_METER[s] for s in (RWD, PWD, RET, TSF)),
        "FT-105",
        "FQ-106",
        "FT-110",
        "FQ-111",
        "FT-120",
        "FQ-121",
        "FT-130A",
        "FQ-131",
        "FT-140",
        "FT-150",
        "FQ-151",
        "FT-160",
        "FQ-180",
        "FT-190",
        "FQ-191",
        RAIN_GAUGE,
        "RG-102",
        PAN,
        ORE_WEIGHTOMETER,
        ORE_MOISTURE_LAB,
        CONCENTRATE_WEIGHTOMETER,
    }
)
HIGHVELD_SCADA_MODBUS_PORT = 5030
HIGHVELD_LOGGER_MODBUS_PORT = 5031


def build_highveld_site() -> SiteConfig:
    """The demo organisation's second mine: no pit sump, two bores, 29 meters (see module doc)."""
    bores = bore_ids(HIGHVELD_BORES)
    gone_nodes = {PIT, "pit_groundwater"}
    flows = [f for f in _flows(bores) if not {f.from_node, f.to_node} & gone_nodes]
    flow_ids = {f.id for f in flows}
    meters = [
        m
        for m in _meters(bores)
        if m.id in HIGHVELD_METERS
        or (BORE_FLOW_RE.match(m.flow or "") and m.measurand in ("totaliser", "flow_rate"))
    ]
    for meter in meters:
        meter.redundancy_group = None  # the plant feed has one flow transmitter here
    return SiteConfig(
        site=SiteInfo(
            id=HIGHVELD_SITE_ID,
            name="Demo Highveld Mine (gold plant)",
            organisation=ORGANISATION_ID,
            region="highveld",
            timezone=HIGHVELD_TIMEZONE,
            regulators=["DWS (South Africa)"],
            water_stressed=True,
        ),
        nodes=[n for n in _nodes() if n.id not in gone_nodes],
        flows=flows,
        meters=with_modbus_addresses(
            meters, HIGHVELD_SCADA_MODBUS_PORT, HIGHVELD_LOGGER_MODBUS_PORT
        ),
        estimations=[r for r in _estimations() if r.flow in flow_ids],
        file_layouts=_file_layouts(HIGHVELD_FILE_PREFIX),
        carbon=demo_carbon.HIGHVELD_CARBON,
    )


def build_demo_sites(n_bores: int = 6) -> list[SiteConfig]:
    """Every site of the demo organisation, in :data:`SITE_IDS` order: the two mines and the
    two workshops (sites without a water model, :mod:`demo.materials`)."""
    return [build_demo_site(n_bores), build_highveld_site(), *build_workshop_sites()]


def build_workshop_sites(start: date = date(2025, 7, 1)) -> list[SiteConfig]:
    """The soapworks and the powder-coating shop (recipe and rate dates follow ``start``)."""
    return [build_soapworks_site(start), build_coating_site(start)]


def drop_prefix(site: SiteConfig) -> str:
    """What a demo site's file drop names start with (``""`` or ``highveld_``)."""
    layout = next(lay for lay in site.file_layouts if lay.id == SCADA_LAYOUT)
    return layout.pattern[: layout.pattern.index("scada_export_")]


def _nodes() -> list[Node]:
    nodes = [
        Node(id="borefield", name="Production borefield", kind="source", type="borefield"),
        Node(id="river", name="River offtake", kind="source", type="river"),
        Node(
            id="third_party_supply",
            name="Shire scheme water",
            kind="source",
            type="third_party",
        ),
        Node(id="ore", name="Water in run-of-mine ore", kind="source", type="ore"),
        Node(
            id="pit_groundwater",
            name="Groundwater inflow to the pit",
            kind="source",
            type="groundwater_inflow",
        ),
        Node(id="rain", name="Direct rainfall and catchment runoff", kind="source", type="rain"),
    ]
    for store_id, shape in STORE_SHAPES.items():
        curve = shape.curve()
        nodes.append(
            Node(
                id=store_id,
                name=shape.name,
                kind="store",
                type=shape.type,
                capacity_m3=curve[-1][1],
                surface_area_m2=shape.surface_area(),
                catchment_area_m2=CATCHMENT_AREA_M2 if store_id == RWD else None,
                stage_storage=curve,
            )
        )
    nodes += [
        Node(id="plant", name="Concentrator", kind="task", type="ore_processing"),
        Node(
            id="dust_suppression",
            name="Haul road dust suppression",
            kind="task",
            type="dust_suppression",
        ),
        Node(
            id="discharge",
            name="Controlled discharge to the creek",
            kind="destination",
            type="discharge_point",
        ),
        Node(id="evaporation", name="Evaporation", kind="destination", type="evaporation"),
        Node(id="seepage", name="Seepage to groundwater", kind="destination", type="seepage"),
        Node(
            id="entrainment",
            name="Water entrained in tailings",
            kind="destination",
            type="entrainment",
        ),
        Node(id="product", name="Moisture in concentrate", kind="destination", type="product"),
    ]
    return nodes


def _flow(
    flow_id: str, src: str, dst: str, quality: int, method: str = "measured", **kw: str
) -> Flow:
    return Flow.model_validate(
        {"id": flow_id, "from": src, "to": dst, "quality": quality, "method": method, **kw}
    )


def _flows(bores: list[str], gauged_runoff: bool = False) -> list[Flow]:
    # bores first: the simulation keeps their columns contiguous
    flows = [
        _flow(
            f"{bore}_to_rwd",
            "borefield",
            RWD,
            1,
            waf_input_source="groundwater",
            water_state="raw",
            name=f"{bore} to raw water dam",
        )
        for bore in bores
    ]
    flows += [
        _flow("river_to_rwd", "river", RWD, 2, waf_input_source="surface_water", water_state="raw"),
        _flow(
            RUNOFF_FLOW,
            "rain",
            RWD,
            2,
            "measured" if gauged_runoff else "estimated",
            waf_input_source="surface_water",
            water_state="raw",
            name="Catchment runoff to raw water dam",
        ),
        _flow(
            "third_party_to_pwd",
            "third_party_supply",
            PWD,
            1,
            waf_input_source="third_party_water",
            water_state="raw",
        ),
        _flow(
            "pit_inflow",
            "pit_groundwater",
            PIT,
            2,
            "simulated",
            waf_input_source="groundwater",
            water_state="raw",
        ),
    ]
    flows += [
        _flow(
            f"rain_on_{store}",
            "rain",
            store,
            1,
            "estimated",
            waf_input_source="surface_water",
            water_state="raw",
        )
        for store in STORES
    ]
    flows += [
        _flow(
            "ore_moisture",
            "ore",
            "plant",
            2,
            "estimated",
            waf_input_source="other",
            water_state="raw",
        ),
        _flow("pit_to_rwd", PIT, RWD, 2, water_state="raw", name="Pit dewatering"),
        _flow("rwd_to_pwd", RWD, PWD, 2, water_state="raw", name="Raw water transfer"),
        _flow("retwd_to_pwd", RET, PWD, 3, water_state="worked"),
        # the process water dam holds mostly TSF decant return (~55 % of its inflow on the demo):
        # its feed to the plant is declared worked, so reuse shows in the balance and reports
        _flow(
            "pwd_to_plant",
            PWD,
            "plant",
            2,
            water_state="worked",
            name="Plant process water feed",
        ),
        _flow("plant_to_tsf", "plant", TSF, 3, water_state="worked", name="Tailings slurry water"),
        _flow("tsf_to_retwd", TSF, RET, 3, water_state="worked", name="TSF decant return"),
        _flow(
            "rwd_to_dust",
            RWD,
            "dust_suppression",
            2,
            water_state="raw",
            name="Water cart standpipe",
        ),
        _flow("rwd_to_discharge", RWD, "discharge", 2, waf_output_destination="surface_water"),
    ]
    flows += [
        _flow(
            f"evap_{store}",
            store,
            "evaporation",
            STORE_QUALITY[store],
            "estimated",
            waf_output_destination="evaporation",
        )
        for store in STORES
    ]
    flows += [
        _flow("tsf_seepage", TSF, "seepage", 3, "estimated", waf_output_destination="groundwater"),
        _flow(
            "tsf_entrainment",
            TSF,
            "entrainment",
            3,
            "estimated",
            waf_output_destination="entrainment",
        ),
        _flow(
            "product_moisture",
            "plant",
            "product",
            3,
            "estimated",
            waf_output_destination="entrainment",
        ),
        _flow(
            "dust_evaporation",
            "dust_suppression",
            "evaporation",
            2,
            "estimated",
            waf_output_destination="evaporation",
        ),
    ]
    return flows


def _m(meter_id: str, measurand: str, unit: str, **kw: object) -> Meter:
    return Meter.model_validate({"id": meter_id, "measurand": measurand, "unit": unit, **kw})


def _pipeline_meters(flow_id: str, number: int, tag: str, kwh: bool = True) -> list[Meter]:
    """Flow-rate transmitter, totaliser and pump energy register on one pipeline."""
    top = PUMP_MAX_M3_PER_H[flow_id] * 1.5
    meters = [
        _m(
            f"FT-{number}",
            "flow_rate",
            "m3/h",
            flow=flow_id,
            valid_range=(0.0, top),
            tag=f"{tag}_FT{number}",
        ),
        _m(
            f"FQ-{number + 1}",
            "totaliser",
            "m3",
            flow=flow_id,
            valid_range=(0.0, PIPELINE_TOTALISER_ROLLOVER),
            rollover=PIPELINE_TOTALISER_ROLLOVER,
            tag=f"{tag}_FQ{number + 1}",
        ),
    ]
    if kwh:
        meters.append(
            _m(
                f"JQ-{number + 2}",
                "energy",
                "kWh",
                flow=flow_id,
                valid_range=(0.0, ENERGY_ROLLOVER),
                rollover=ENERGY_ROLLOVER,
                tag=f"{tag}_JQ{number + 2}",
                name=f"{tag} pump energy",
            )
        )
    return meters


def _meters(bores: list[str]) -> list[Meter]:
    meters: list[Meter] = []
    for store in STORES:
        depth = STORE_SHAPES[store].depth_m
        meters.append(
            _m(
                STORE_LEVEL_METER[store],
                "level",
                "m",
                node=store,
                valid_range=(0.0, depth + 0.5),
                tag=f"{STORE_TAG[store]}_{STORE_LEVEL_METER[store].replace('-', '')}",
                name=f"{STORE_SHAPES[store].name} level",
            )
        )
    for store, meter_id in ((RWD, "LI-101"), (PWD, "LI-201")):
        meters.append(
            _m(
                meter_id,
                "level",
                "m",
                interval="1d",
                node=store,
                manual=True,
                valid_range=(0.0, STORE_SHAPES[store].depth_m + 0.5),
                name=f"{STORE_SHAPES[store].name} dip board",
                description="read at 08:00 local to the nearest centimetre",
            )
        )
    meters += [
        _m(
            "FT-105",
            "flow_rate",
            "m3/h",
            flow="third_party_to_pwd",
            valid_range=(0.0, 60.0),
            tag="TPS_FT105",
        ),
        _m(
            "FQ-106",
            "totaliser",
            "m3",
            flow="third_party_to_pwd",
            valid_range=(0.0, PIPELINE_TOTALISER_ROLLOVER),
            rollover=PIPELINE_TOTALISER_ROLLOVER,
            tag="TPS_FQ106",
        ),
    ]
    meters += _pipeline_meters("river_to_rwd", 110, "RIV")
    meters += _pipeline_meters("rwd_to_pwd", 120, "TRF")
    plant_top = PUMP_MAX_M3_PER_H["pwd_to_plant"] * 1.5
    meters += [
        _m(
            "FT-130A",
            "flow_rate",
            "m3/h",
            flow="pwd_to_plant",
            valid_range=(0.0, plant_top),
            redundancy_group="plant_feed",
            tag="PLT_FT130A",
        ),
        _m(
            "FT-130B",
            "flow_rate",
            "m3/h",
            flow="pwd_to_plant",
            valid_range=(0.0, plant_top),
            redundancy_group="plant_feed",
            tag="PLT_FT130B",
        ),
        _m(
            "FQ-131",
            "totaliser",
            "m3",
            flow="pwd_to_plant",
            valid_range=(0.0, PIPELINE_TOTALISER_ROLLOVER),
            rollover=PIPELINE_TOTALISER_ROLLOVER,
            tag="PLT_FQ131",
        ),
        _m(
            "JQ-132",
            "energy",
            "kWh",
            flow="pwd_to_plant",
            valid_range=(0.0, ENERGY_ROLLOVER),
            rollover=ENERGY_ROLLOVER,
            tag="PLT_JQ132",
            name="Process water pump energy",
        ),
        _m(
            "FT-140",
            "flow_rate",
            "m3/h",
            flow="plant_to_tsf",
            valid_range=(0.0, PUMP_MAX_M3_PER_H["plant_to_tsf"] * 1.5),
            tag="TLG_FT140",
            description="slurry line magflow, water fraction from the density gauge",
        ),
    ]
    meters += _pipeline_meters("tsf_to_retwd", 150, "RET")
    meters.append(
        _m(
            "FT-160",
            "flow_rate",
            "m3/h",
            flow="retwd_to_pwd",
            valid_range=(0.0, PUMP_MAX_M3_PER_H["retwd_to_pwd"] * 1.5),
            tag="RET_FT160",
        )
    )
    meters += _pipeline_meters("pit_to_rwd", 170, "PIT")
    meters.append(
        _m(
            "FQ-180",
            "totaliser",
            "m3",
            flow="rwd_to_dust",
            valid_range=(0.0, PIPELINE_TOTALISER_ROLLOVER),
            rollover=PIPELINE_TOTALISER_ROLLOVER,
            tag="DST_FQ180",
        )
    )
    meters += _pipeline_meters("rwd_to_discharge", 190, "DIS", kwh=False)
    meters += [
        _m(
            "JQ-195",
            "energy",
            "kWh",
            flow="rwd_to_discharge",
            valid_range=(0.0, ENERGY_ROLLOVER),
            rollover=ENERGY_ROLLOVER,
            tag="DIS_JQ195",
            name="Discharge pump energy",
        ),
        _m(
            "AT-192",
            "tds",
            "mg/L",
            flow="rwd_to_discharge",
            valid_range=(0.0, 10000.0),
            tag="DIS_AT192",
        ),
        _m("AT-193", "ph", "pH", flow="rwd_to_discharge", valid_range=(0.0, 14.0), tag="DIS_AT193"),
        _m(
            "AT-194",
            "conductivity",
            "uS/cm",
            flow="rwd_to_discharge",
            valid_range=(0.0, 20000.0),
            tag="DIS_AT194",
        ),
        _m(
            RAIN_GAUGE,
            "rainfall",
            "mm",
            valid_range=(0.0, 60.0),
            tag="WX_RG101",
            name="Tipping-bucket rain gauge (0.2 mm)",
        ),
        _m(
            "RG-102",
            "rainfall",
            "mm",
            interval="1d",
            manual=True,
            valid_range=(0.0, 300.0),
            name="Manual rain gauge",
            description="mm during the local day it is stamped with",
        ),
        _m(
            PAN,
            "evaporation_pan",
            "mm",
            interval="1d",
            manual=True,
            valid_range=(0.0, 25.0),
            name="Class A evaporation pan",
            description="mm during the local day it is stamped with",
        ),
        _m("TT-601", "temperature", "degC", valid_range=(-5.0, 50.0), tag="WX_TT601"),
        _m("MT-602", "humidity", "%", valid_range=(0.0, 100.0), tag="WX_MT602"),
        _m("ST-603", "wind_speed", "m/s", valid_range=(0.0, 40.0), tag="WX_ST603"),
        _m("AQ-604", "pm10", "ug/m3", valid_range=(0.0, 1000.0), tag="AQ_PM10_604"),
        *air_meters(),
        _m(
            ORE_WEIGHTOMETER,
            "ore_mass",
            "t",
            node="ore",
            valid_range=(0.0, 600.0),
            tag="PLT_WT301",
            name="Mill feed weightometer",
            description="tonnes per 15 minutes",
        ),
        _m(
            ORE_MOISTURE_LAB,
            "moisture",
            "%",
            interval="1d",
            node="ore",
            manual=True,
            valid_range=(0.0, 20.0),
            name="Mill feed moisture (lab, daily composite)",
        ),
        _m(
            CONCENTRATE_WEIGHTOMETER,
            "ore_mass",
            "t",
            node="product",
            valid_range=(0.0, 30.0),
            tag="PLT_WT311",
            name="Concentrate weightometer",
            description="tonnes per 15 minutes",
        ),
    ]
    bore_top = BOREFIELD_CAPACITY_M3_PER_H / len(bores) * 2.5
    for bore in bores:
        prefix = bore_meter_prefix(bore)
        flow_id = f"{bore}_to_rwd"
        meters += [
            _m(
                f"{prefix}-FQ",
                "totaliser",
                "m3",
                flow=flow_id,
                valid_range=(0.0, BORE_TOTALISER_ROLLOVER),
                rollover=BORE_TOTALISER_ROLLOVER,
            ),
            _m(f"{prefix}-FT", "flow_rate", "m3/h", flow=flow_id, valid_range=(0.0, bore_top)),
            _m(
                f"{prefix}-JQ",
                "energy",
                "kWh",
                flow=flow_id,
                valid_range=(0.0, BORE_ENERGY_ROLLOVER),
                rollover=BORE_ENERGY_ROLLOVER,
            ),
            # bore water level would need a store node; pump power is what the logger has
            _m(f"{prefix}-JI", "power", "kW", flow=flow_id, valid_range=(0.0, bore_top)),
        ]
    return meters


# Where the 15-minute meters answer over Modbus TCP (the device simulator serves them): the SCADA
# PLC's areas as unit ids on one port, the borefield logger one unit per bore on another. The
# data types are the mix a real site has, so that a demo poll exercises every decoder.
SCADA_MODBUS_PORT = 5020
LOGGER_MODBUS_PORT = 5021
# The borefield logger keeps a day of 15-minute records per channel, read after its radio link
# has been down; they start at register 100, after the live values.
LOGGER_HISTORY_START = 100
LOGGER_HISTORY_DEPTH = 96
SCADA_UNITS = ("RWD", "PWD", "RET", "TSF", "PIT", "TPS", "RIV", "TRF", "PLT", "TLG", "DST", "DIS")
SCADA_UNITS += ("WX", "AQ")
# measurand -> data type, byte order, word order, scale, function
DEMO_REGISTERS: dict[str, tuple[str, str, str, float, str]] = {
    "level": ("float32", "big", "big", 1.0, "holding"),
    "flow_rate": ("float32", "big", "little", 1.0, "holding"),
    "totaliser": ("uint32", "big", "big", 0.1, "holding"),
    "energy": ("uint32", "big", "little", 0.1, "holding"),
    "power": ("int32", "big", "big", 0.01, "holding"),
    "ore_mass": ("float64", "little", "little", 1.0, "holding"),
    "tds": ("float64", "big", "big", 1.0, "input"),
    "ph": ("int16", "big", "big", 0.01, "input"),
    "conductivity": ("float32", "little", "big", 1.0, "input"),
    "rainfall": ("uint16", "big", "big", 0.01, "input"),
    "temperature": ("int16", "big", "big", 0.01, "input"),
    "humidity": ("uint16", "big", "big", 0.01, "input"),
    "wind_speed": ("uint16", "big", "big", 0.01, "input"),
    "pm10": ("float32", "little", "little", 1.0, "input"),
    "pm25": ("float32", "little", "little", 1.0, "input"),
    "wind_direction": ("uint16", "big", "big", 0.1, "input"),
}


def with_modbus_addresses(
    meters: list[Meter], scada_port: int = SCADA_MODBUS_PORT, logger_port: int = LOGGER_MODBUS_PORT
) -> list[Meter]:
    """The meters with a Modbus address for every 15-minute instrument (manual ones have none)."""
    from siteledger.site.models import REGISTER_COUNT, ModbusAddress

    next_free: dict[tuple[int, int, str], int] = {}
    next_history: dict[tuple[int, int, str], int] = {}
    for meter in meters:
        if meter.manual:
            continue
        if meter.tag:
            port, unit_id = scada_port, SCADA_UNITS.index(meter.tag.split("_", 1)[0]) + 1
        else:
            port, unit_id = logger_port, int(meter.id.split("-", 1)[0][1:])
        data_type, byte_order, word_order, scale, function = DEMO_REGISTERS[meter.measurand]
        key = (port, unit_id, function)
        address = next_free.get(key, 0)
        next_free[key] = address + REGISTER_COUNT[data_type]
        history: dict[str, int] = {}
        if port == logger_port:
            first = next_history.get(key, LOGGER_HISTORY_START)
            next_history[key] = first + 3 + LOGGER_HISTORY_DEPTH * REGISTER_COUNT[data_type]
            history = {"history_register": first, "history_depth": LOGGER_HISTORY_DEPTH}
        meter.modbus = ModbusAddress.model_validate(
            {
                "host": "127.0.0.1",
                "port": port,
                "unit_id": unit_id,
                "register": address,
                "function": function,
                "data_type": data_type,
                "byte_order": byte_order,
                "word_order": word_order,
                "scale": scale,
                **history,
            }
        )
    return meters


def _runoff_flume_meters() -> list[Meter]:
    """The flume on the catchment's diversion drain into the raw water dam: a rate transmitter
    (its range is the rain gauge's, 60 mm in 15 minutes, off the whole catchment) and a
    totaliser."""
    return [
        _m(
            "FT-107",
            "flow_rate",
            "m3/h",
            flow=RUNOFF_FLOW,
            valid_range=(0.0, RUNOFF_FLUME_MAX_M3_PER_H),
            tag="RWD_FT107",
            name="Catchment drain flume flow",
        ),
        _m(
            "FQ-108",
            "totaliser",
            "m3",
            flow=RUNOFF_FLOW,
            valid_range=(0.0, PIPELINE_TOTALISER_ROLLOVER),
            rollover=PIPELINE_TOTALISER_ROLLOVER,
            tag="RWD_FQ108",
            name="Catchment drain flume totaliser",
        ),
    ]


def _estimations(gauged_runoff: bool = False) -> list[EstimationRule]:
    rules = [
        EstimationRule(
            flow=f"rain_on_{store}",
            method="rainfall_runoff",
            params={"rain_meter": RAIN_GAUGE, "node": store, "runoff_coefficient": 1.0},
        )
        for store in STORES
    ]
    rules += (
        []
        if gauged_runoff
        else [
            EstimationRule(
                flow=RUNOFF_FLOW,
                method="rainfall_runoff",
                params={
                    "rain_meter": RAIN_GAUGE,
                    "area_m2": CATCHMENT_AREA_M2,
                    "runoff_coefficient": CATCHMENT_RUNOFF,
                },
                description="runoff from the dam's cleared catchment",
            )
        ]
    )
    rules += [
        EstimationRule(
            flow=f"evap_{store}",
            method="pan_evaporation",
            params={"pan_meter": PAN, "node": store, "pan_factor": PAN_FACTOR},
        )
        for store in STORES
    ]
    rules += [
        EstimationRule(
            flow="tsf_seepage",
            method="seepage",
            params={"node": TSF, "rate_pct_per_month": SEEPAGE_PCT_PER_MONTH},
        ),
        EstimationRule(
            flow="tsf_entrainment",
            method="entrainment",
            params={
                "source_flow": "plant_to_tsf",
                "return_pct": ENTRAINMENT_RETURN_PCT,
                "retention_pct": ENTRAINMENT_RETENTION_PCT,
            },
        ),
        EstimationRule(
            flow="ore_moisture",
            method="ore_moisture",
            params={
                "ore_meter": ORE_WEIGHTOMETER,
                "moisture_meter": ORE_MOISTURE_LAB,
                "moisture_basis": "wet_mass",
                "water_density_t_per_m3": 1.0,
            },
        ),
        EstimationRule(
            flow="product_moisture",
            method="ore_moisture",
            params={
                "ore_meter": CONCENTRATE_WEIGHTOMETER,
                "moisture_pct": CONCENTRATE_MOISTURE_PCT,
                "moisture_basis": "wet_mass",
                "water_density_t_per_m3": 1.0,
            },
            description="concentrate tonnes x filter cake moisture",
        ),
        EstimationRule(
            flow="dust_evaporation",
            method="dust_suppression",
            params={"ore_meter": ORE_WEIGHTOMETER, "m3_per_t": DUST_M3_PER_T},
        ),
        EstimationRule(
            flow="pit_inflow",
            method="fixed_rate",
            classification="simulated",
            params={"m3_per_day": PIT_INFLOW_M3_PER_DAY},
            description="steady inflow from the 2024 hydrogeological model",
        ),
    ]
    return rules


def _file_layouts(prefix: str = "") -> list[FileLayout]:
    return [
        FileLayout(
            id=SCADA_LAYOUT,
            format="csv_wide",
            pattern=f"{prefix}scada_export_*.csv",
            timestamp_column="Timestamp",
            timestamp_format="%d/%m/%Y %H:%M",
            header_meter_key="tag",
            unit_in_header=r"^(?P<name>.+?) \[(?P<unit>[^\]]+)\]$",
        ),
        FileLayout(
            id=LOGGER_LAYOUT,
            format="csv_long",
            pattern=f"{prefix}logger_borefield_*.csv",
            timezone="UTC",
            timestamp_column="time_utc",
            timestamp_format="%Y-%m-%dT%H:%M:%SZ",
            meter_column="meter",
            value_column="value",
            unit_column="unit",
        ),
        FileLayout(
            id=MANUAL_LAYOUT,
            format="excel_long",
            pattern=f"{prefix}manual_readings_*.xlsx",
            sheet="Readings",
            header_row=3,
            timestamp_column="Date / Time",
            meter_column="Meter",
            value_column="Reading",
            unit_column="Unit",
        ),
    ]


def store_curve(site: SiteConfig, store_id: str) -> list[tuple[float, float]]:
    """A store's stage-storage curve as declared in the site."""
    curve = site.node(store_id).stage_storage
    if curve is None:
        raise ValueError(f"{store_id!r} has no stage-storage curve")
    return curve


def gauged_volume(curve: list[tuple[float, float]], volume: np.ndarray) -> np.ndarray:
    """The volume a level sensor reports: the level rounded to 0.1 mm, back through the curve."""
    return level_to_volume(curve, np.round(volume_to_level(curve, volume), 4))

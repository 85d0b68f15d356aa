"""What a site file says of the ids the materials marts carry: names, units and the currency.

The marts hold ids (``olive_oil``, ``c_shop``); a report shows the names the site's
``materials:`` section gives them (``Olive oil``, ``Corner Shop``), each material's and
product's unit, and the site's currency. Names are prose: they never make a new version of a
report (``reports.data.report_identity`` leaves them out).
"""

from __future__ import annotations

from typing import Any

from reports.materials.data import MaterialsData

# section of the site file's materials: -> (kind in MaterialsData.names, its id attribute)
_LISTS = (
    ("materials", "material", "id"),
    ("products", "product", "id"),
    ("customers", "customer", "id"),
    ("suppliers", "supplier", "id"),
    ("job_types", "job_type", "id"),
)


def apply_site_file(data: MaterialsData, site_file: Any) -> None:
    """Fill ``data.names`` (and the units of materials and products) and ``data.currency`` from
    a loaded site file; a site file without a materials section changes nothing."""
    section = getattr(site_file, "materials", None)
    if section is None:
        return
    data.currency = getattr(section, "currency", None) or data.currency
    for attribute, kind, key in _LISTS:
        for item in getattr(section, attribute, None) or []:
            item_id = getattr(item, key, None)
            if item_id is None:
                continue
            name = getattr(item, "name", None)
            if name:
                data.names.setdefault(kind, {})[item_id] = str(name)
            unit = getattr(item, "unit", None)
            if unit and kind in ("material", "product"):
                data.names.setdefault(f"{kind}_unit", {})[item_id] = str(unit)

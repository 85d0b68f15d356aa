"""Units: a closed list; unknown units rejected, conversions exact."""

import pytest

from siteledger.units import (
    UnknownUnitError,
    conversion_factor,
    resolve_unit,
    unit_fits_measurand,
)


def test_case_matters_between_megalitre_and_millilitre():
    assert resolve_unit("ML").factor == 1000.0
    assert resolve_unit("mL").factor == pytest.approx(1e-6)


@pytest.mark.parametrize(
    ("src", "dst", "factor"),
    [("L/s", "m3/h", 3.6), ("ML/d", "m3/h", 1000 / 24), ("ML", "m3", 1000), ("m³", "L", 1000)],
)
def test_conversions(src, dst, factor):
    assert conversion_factor(src, dst) == pytest.approx(factor)


@pytest.mark.parametrize("text", ["gal/furlong", "", "M3/H", "litres per fortnight"])
def test_unknown_units_are_rejected(text):
    with pytest.raises(UnknownUnitError):
        resolve_unit(text)


def test_conversion_across_dimensions_is_refused():
    with pytest.raises(UnknownUnitError, match="cannot convert"):
        conversion_factor("mm", "m3")


def test_unit_fits_measurand():
    assert unit_fits_measurand("L/s", "flow_rate")
    assert not unit_fits_measurand("mm", "flow_rate")
    assert not unit_fits_measurand("m3", "no_such_measurand")

"""The demo mine: a generated site, a year of its water physics, and the files its meters drop.

``build_demo_site`` gives the site model, ``simulate`` the 15-minute truth and the readings
derived from it, ``write_demo`` the site file, file drops, ground truth and (optionally) a fault
manifest under ``SITELEDGER_HOME``. The reading and day conventions the truth follows are in
:mod:`demo.simulate`; the file layouts in :mod:`demo.write`.
"""

from demo.simulate import DemoSimulation, simulate
from demo.site import build_demo_site
from demo.write import DemoOutput, write_demo

__all__ = ["DemoOutput", "DemoSimulation", "build_demo_site", "simulate", "write_demo"]

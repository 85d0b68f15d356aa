"""Sustainability's Python assets (the dbt marts of the group come with the dbt project)."""

from dagster import Definitions

from orchestration.sustainability.air import ASSETS

defs = Definitions(assets=ASSETS)

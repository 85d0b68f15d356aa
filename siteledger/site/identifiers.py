"""The identifier type every id in a site file has (nodes, flows, meters, goals, ...)."""

from typing import Annotated

from pydantic import Field

Identifier = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$",
        description="letters, digits, '_', '.', '-'; starts with a letter or digit",
    ),
]

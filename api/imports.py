"""Readings that arrive over HTTP (the import endpoint, a webhook) go the way of a file drop.

The bytes are written into the landing folder under a name the server makes up (the client's
file name never reaches the file system) and imported at once by the file importer
(:func:`ingestion.files.import_file`) with the layout asked for: the same sniffing, parsing,
row quarantine, archive and import job as a file dropped by hand.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from api.models import ImportOutcome
from ingestion.files import import_file
from ingestion.files.limits import ImportLimits
from ingestion.files.names import sanitise_name
from siteledger.settings import Settings
from siteledger.site import SiteConfig, SiteConfigError, load_site
from siteledger.site.models import FileLayout
from siteledger.state import StateStore
from siteledger.state.store import new_batch_id

# readings layouts an upload may name: the text and workbook formats (a Home Assistant
# database is a file an operator copies, not something posted)
UPLOAD_FORMATS = {"csv_wide": "csv", "csv_long": "csv", "excel_long": "xlsx"}


class ImportRefused(ValueError):
    """The upload cannot be taken as asked (unknown site or layout); the message says why."""


def find_site(settings: Settings, site_id: str) -> SiteConfig | None:
    """The site of the home's site files with this id; None when there is none."""
    for path in sorted(settings.sites_dir.glob("*.yaml")):
        try:
            site = load_site(path)
        except SiteConfigError:
            continue
        if site.site.id == site_id:
            return site
    return None


def upload_layout(site: SiteConfig, layout_id: str | None) -> FileLayout:
    """The readings layout an upload is parsed with: the one named, or the site's only one."""
    layouts = [lay for lay in site.file_layouts if lay.format in UPLOAD_FORMATS]
    known = ", ".join(lay.id for lay in layouts) or "none"
    if layout_id is None:
        if len(layouts) != 1:
            raise ImportRefused(
                f"site {site.site.id} has {len(layouts)} CSV/Excel readings layouts ({known}): "
                "name one with ?layout=ID"
            )
        return layouts[0]
    for layout in layouts:
        if layout.id == layout_id:
            return layout
    raise ImportRefused(
        f"site {site.site.id} has no CSV/Excel readings layout {layout_id!r} (layouts: {known})"
    )


def landing_name(site_id: str, layout: FileLayout, origin: str) -> str:
    """``api_<origin>_<site>_<layout>_<batch-like id>.<ext>``: sortable, unique, harmless."""
    stamp = new_batch_id()
    name = f"api_{origin}_{site_id}_{layout.id}_{stamp}{secrets.token_hex(2)}"
    return sanitise_name(f"{name}.{UPLOAD_FORMATS[layout.format]}")


def accept_readings(
    settings: Settings,
    store: StateStore,
    site: SiteConfig,
    layout: FileLayout,
    data: bytes,
    origin: str,
    limits: ImportLimits | None = None,
) -> ImportOutcome:
    """Write ``data`` into landing/ and import it as ``layout``; the importer's verdict."""
    settings.ensure_dirs()
    name = landing_name(site.site.id, layout, origin)
    landed = settings.landing / name
    # written beside its final name and renamed: an import run listing landing/ meanwhile sees
    # a dot-file that matches no layout, never half a file
    partial = settings.landing / f".{name}.part"
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, landed)
    result = import_file(settings, site, store, Path(landed), layout, limits=limits)
    return ImportOutcome(
        landing_name=name,
        batch_id=result.batch_id,
        layout_id=result.layout_id,
        status=result.status,
        total=result.total,
        imported=result.imported,
        skipped=result.skipped,
        failed=result.failed,
        error=result.error,
    )

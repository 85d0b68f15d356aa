"""A WeasyPrint URL fetcher that fetches nothing.

WeasyPrint's default fetcher opens http, https, ftp, file and data URLs (an SSRF and local-file
disclosure path when a template or a value carries a URL). Reports inline everything they need,
so every request is refused and remembered (tests and logs can show what a template asked for).
"""

from __future__ import annotations

from weasyprint.urls import URLFetcher


class DenyAllURLFetcher(URLFetcher):
    def __init__(self) -> None:
        super().__init__(timeout=1, allowed_protocols=[], allow_redirects=False)
        self.refused: list[str] = []

    def fetch(self, url, headers=None):  # type: ignore[no-untyped-def]
        self.refused.append(str(url)[:200])
        raise ValueError(f"report renderer fetches nothing (refused {str(url)[:80]!r})")

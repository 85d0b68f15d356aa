"""Renderers: PDF (HTML + WeasyPrint), Excel, CSV, JSON and XML (checked against the XSD)."""

"""Compliance reporting: definitions, templates, renderers, registry and delivery."""

"""Exports: one job that runs an export of ``exports.yaml`` and a schedule per scheduled
export."""

"""The materials reports: the month's costs, margins and variances, the month's inventory, and
the per-lot documents (certificate of analysis, recall report), from the materials marts."""

"""The materials domain's readers of the warehouse: genealogy traces, and the reports built on
the materials marts (the month's costs and margins, the month's inventory) and on the traces
(the per-lot certificate of analysis and recall report)."""

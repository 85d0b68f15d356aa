"""The materials domain's readers of the warehouse: genealogy traces (and the recall and
certificate figures built on them)."""

"""Getting data in: site/device configuration use, file importers, the raw lake, the demo site."""

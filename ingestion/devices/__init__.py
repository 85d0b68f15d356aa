"""Device ingestion over Modbus TCP: register codec, device simulator, edge collector with a
store-and-forward spool, device health, and the spool's import into the raw lake."""

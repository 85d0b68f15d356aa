"""The ``siteledger`` command line."""

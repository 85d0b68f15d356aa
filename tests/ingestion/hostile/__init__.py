"""Test inputs for file ingestion: a throwaway platform home, and a corpus of hostile files."""

"""Data quality: VEE rules that are not SQL, Great Expectations suites, quality scores."""

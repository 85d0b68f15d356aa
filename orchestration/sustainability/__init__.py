"""Sustainability: carbon, water quality and air quality assets."""

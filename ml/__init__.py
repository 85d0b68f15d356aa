"""Analytics and prediction: forecasts, anomalies, scenarios, model registry."""

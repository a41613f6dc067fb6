"""Admin pages that are not a model's: the event tester and the per-destination dashboards."""

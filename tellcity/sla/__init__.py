"""Service-level agreements: deadlines counted in a city's business hours."""

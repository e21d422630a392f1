"""Cities (each an Open311 jurisdiction) and their zones.

queries.current_city() is the one way a request finds the city it is about; versions.py bumps a
city's config_version whenever its configuration changes (city, zones, categories, departments,
routing rules), which is what every process's caches (tellcity.core.caches) are checked against."""

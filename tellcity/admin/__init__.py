"""Administration of a city's configuration: departments, categories, zones, routing rules,
users and roles, reply templates, API keys; every change is written to the audit log."""

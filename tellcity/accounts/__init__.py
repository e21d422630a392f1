"""People who sign in (residents and staff, with their roles) and API keys for other systems."""

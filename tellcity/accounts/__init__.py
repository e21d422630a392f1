"""People who sign in (residents and staff, with their roles) and API keys for other systems.

services.py creates and changes accounts (the admin pages and the CLI call the same audited
functions, the CLI as the actor "cli"); api_keys.py issues, checks and revokes API keys (for
Open311 clients and the statistics API); commands.py holds the account and key commands;
passwords.py the hashing; views.py sign-in, sign-up and the resident's account pages."""

"""Categories of problems and themes of suggestions; each is an Open311 service."""

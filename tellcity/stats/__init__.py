"""City statistics: one query layer (`queries`) read by the mayor's office pages, their CSV and
JSON exports, and `GET /api/v1/stats`."""

"""City statistics: one query layer (`queries`) read by the mayor's office pages, their CSV and
JSON exports, and `GET /api/v1/stats`, all through `services.statistics`, which keeps the
finished figures a few minutes for every process (`models.StatsSnapshot`)."""

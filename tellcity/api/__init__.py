"""The JSON API under /api/v1: the resident flow for apps (categories, reports, nearby,
support) and the helpers the web form's JavaScript uses (geocoding, a photo's position)."""

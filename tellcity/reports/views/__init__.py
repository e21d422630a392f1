"""The resident's pages: public pages and the map (public), the report form (submit), the
private tracking page and the email links (tracking)."""

"""Importing other cities' 311 exports (CSV) as reports, through a column mapping (a profile)."""

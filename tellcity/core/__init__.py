"""Pieces shared by every feature: database types, errors, time."""

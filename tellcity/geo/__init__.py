"""Geography without PostGIS: shapes with shapely (shapes.py, places.py: is the point in the city,
in which zone), places with a geocoder (geocoding.py: search and reverse, with a timeout), and
the zones' audited writes (services.py)."""

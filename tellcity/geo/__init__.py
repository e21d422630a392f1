"""Geography without PostGIS: shapes with shapely, places with a geocoder."""

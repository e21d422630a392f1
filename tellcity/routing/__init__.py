"""Which department handles which category in which zone: data an administrator edits.

services.route() decides for a report; rules.py holds the rules' audited writes;
configuration.py keeps each city's routing configuration per process (tellcity.core.caches)."""

"""Open311 GeoReport v2: services, service requests and their updates for other systems, in JSON
and XML, with a discovery document; API keys for the clients that post. The Open311 field names
live only in this package."""

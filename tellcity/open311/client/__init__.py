"""TellCity as an Open311 GeoReport v2 client (issue 22): a department (or an outside body)
running its own Open311 system gets the reports routed to it POSTed there by the worker,
through the outbox, exactly once; staff see on the ticket where each one stands remotely."""

"""Reports: problems and suggestions sent by residents, their timeline, photos and supporters.

submission.py files a report (the one use case behind the web form, /api/v1 and Open311);
states.py and lifecycle.py own the states and the one transition(); events.py writes a
report's history; services.py the other actions (transfer, assignment, reply, note,
correction, support, comment, photos, following); queries.py the reads, public_events() the
public timeline; schemas.py the JSON; views/ the resident's pages, the form, tracking, feeds."""

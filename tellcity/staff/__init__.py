"""The staff dashboard: the queue, the ticket page and its actions, bulk actions, moderation,
exports (exports.py: the CSV and who may have contact details in it), reply templates
(reply_templates.py). The views only translate: reads are in queries.py, writes in the
features' services, run through tellcity.core.actions.attempt."""

"""The staff dashboard: the queue, the ticket page and its actions, bulk actions, moderation,
exports, and the administration pages."""

"""Pieces shared by every feature, none of them a feature's own rule:

- db.py: column types that behave alike on SQLite and PostgreSQL, write_new; writer_queue.py:
  SQLite's writers waiting in line (processes, not threads);
- transaction.py: one transaction per request (and unit_of_work() for the CLI and worker);
  actions.py: attempt(), the one way a page runs a service and shows its refusal;
- errors.py: the domain's errors and their answers (HTML pages, /api/v1's JSON shape);
- permissions.py: the actor and what it may do; auth.py, security.py, ratelimit.py, urls.py;
- caches.py: the per-process cache registry and its one invalidation;
- csv.py, slugs.py, text.py, formatting.py, i18n.py: CSV with formula escaping, slugs, masking
  contact details, numbers and dates for people, languages;
- views.py and queries.py: /healthz."""

"""Administration of a city's configuration: the pages (views), their forms, who may change
what (access) and the checks of what is typed or uploaded (validation). The changes themselves
are each feature's services, which write the audit log: tellcity.departments.services,
tellcity.categories.services, tellcity.geo.services (zones), tellcity.routing.rules,
tellcity.accounts.services (users and roles), tellcity.staff.reply_templates and
tellcity.accounts.api_keys."""

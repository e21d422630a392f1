"""A city's configuration, as far as what each process keeps of it is concerned: the city row,
its zones, categories, departments and routing rules. One session hook sees every change of
them that the ORM flushes and calls the one invalidation hook, tellcity.core.caches.invalidate,
which bumps the city's `config_version`."""

from sqlalchemy import event
from sqlalchemy.orm import Session

from tellcity.categories.models import Category
from tellcity.cities.models import City, Zone
from tellcity.core.caches import invalidate
from tellcity.departments.models import Department
from tellcity.routing.models import RoutingRule

#: The models whose rows make up a city's configuration.
CONFIGURATION = (City, Zone, Category, Department, RoutingRule)


@event.listens_for(Session, "before_flush")
def _invalidate_changed_cities(session: Session, flush_context, instances) -> None:
    """Every city whose configuration this flush adds to, changes or deletes from."""
    for obj in (*session.new, *session.dirty, *session.deleted):
        if not isinstance(obj, CONFIGURATION):
            continue
        if obj in session.dirty and not session.is_modified(obj, include_collections=False):
            continue
        city = obj if isinstance(obj, City) else obj.city or session.get(City, obj.city_id)
        invalidate(session, city)

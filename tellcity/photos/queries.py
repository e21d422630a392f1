"""Reading photos."""

import sqlalchemy as sa

from tellcity.extensions import db
from tellcity.reports.models import Photo, Report


def _is_public():
    """The rule of what the public may see of photos: neither the photo nor its report is
    hidden (a moderator's)."""
    return sa.and_(Photo.is_hidden.is_(False), Report.is_hidden.is_(False))


def public_photo(key: str, *, thumbnail: bool = False) -> Photo | None:
    """The photo stored under this key (or whose thumbnail is), if the public may see it."""
    column = Photo.thumbnail_key if thumbnail else Photo.storage_key
    return db.session.scalar(
        sa.select(Photo)
        .join(Report, Report.id == Photo.report_id)
        .where(column == key, _is_public())
    )


def first_public_photo(report_id: int) -> Photo | None:
    """The report's first photo the public may see (the one /media/<key> serves), or None:
    what an Open311 forward sends as its media_url."""
    return db.session.scalar(
        sa.select(Photo)
        .join(Report, Report.id == Photo.report_id)
        .where(Photo.report_id == report_id, _is_public())
        .order_by(Photo.id)
        .limit(1)
    )

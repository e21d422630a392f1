"""Reading photos."""

import sqlalchemy as sa

from tellcity.extensions import db
from tellcity.reports.models import Photo, Report


def public_photo(key: str, *, thumbnail: bool = False) -> Photo | None:
    """The photo stored under this key (or whose thumbnail is), if the public may see it:
    neither the photo nor its report is hidden."""
    column = Photo.thumbnail_key if thumbnail else Photo.storage_key
    return db.session.scalar(
        sa.select(Photo)
        .join(Report, Report.id == Photo.report_id)
        .where(column == key, Photo.is_hidden.is_(False), Report.is_hidden.is_(False))
    )

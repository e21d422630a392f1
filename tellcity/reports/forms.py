"""The HTML report form and the small forms of the tracking page (Flask-WTF: CSRF included)."""

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    FloatField,
    HiddenField,
    MultipleFileField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from tellcity.categories.models import Category
from tellcity.core.forms import PageForm
from tellcity.reports.submission import MAX_PHOTOS


class ReportForm(PageForm):
    """Everything a resident sends, on one page. Without JavaScript the position is an address
    or a latitude and longitude; with it, the map fills lat/lon."""

    # The form reads the fields; what may be filed (the category and its kind, lengths, the
    # position, contact) is checked by the submission, tellcity.reports.submission.
    category = SelectField(
        _l("What is it about?"), validators=[DataRequired()], choices=[], validate_choice=False
    )
    address = StringField(_l("Address"))
    lat = FloatField(_l("Latitude"), validators=[Optional()])
    lon = FloatField(_l("Longitude"), validators=[Optional()])
    description = TextAreaField(_l("Description"))
    photos = MultipleFileField(_l("Photos (up to %(count)s)", count=MAX_PHOTOS))
    #: Photos already received and checked, carried over when the form comes back.
    pending_photos = HiddenField()
    name = StringField(_l("Your name"))
    email = StringField(_l("Your email"))
    phone = StringField(_l("Your phone"))
    #: Set once the resident has seen the similar reports nearby and still files their own.
    not_a_duplicate = BooleanField()

    def set_categories(self, groups: dict[str, list[Category]], locale: str) -> None:
        """Offer the categories grouped under their headings, in the page's language."""
        self.category.choices = {
            heading: [(c.code, c.name(locale)) for c in categories]
            for heading, categories in groups.items()
        }


class CommentForm(PageForm):
    text = TextAreaField(_l("Add a comment"), validators=[DataRequired(), Length(max=4000)])


class PhotoForm(PageForm):
    photo = MultipleFileField(_l("Add a photo"))


class FollowForm(PageForm):
    email = StringField(_l("Email"), validators=[DataRequired(), Length(max=254)])

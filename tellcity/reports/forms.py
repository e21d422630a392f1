"""The HTML report form and the small forms of the tracking page (Flask-WTF: CSRF included)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FloatField,
    HiddenField,
    MultipleFileField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from tellcity.categories.models import Category
from tellcity.reports.services import DESCRIPTION_MAX, MAX_PHOTOS


class ReportForm(FlaskForm):
    """Everything a resident sends, on one page. Without JavaScript the position is an address
    or a latitude and longitude; with it, the map fills lat/lon."""

    category = SelectField(_l("What is it about?"), validators=[DataRequired()], choices=[])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=300)])
    lat = FloatField(_l("Latitude"), validators=[Optional(), NumberRange(-90, 90)])
    lon = FloatField(_l("Longitude"), validators=[Optional(), NumberRange(-180, 180)])
    description = TextAreaField(
        _l("Description"), validators=[Optional(), Length(max=DESCRIPTION_MAX)]
    )
    photos = MultipleFileField(_l("Photos (up to %(count)s)", count=MAX_PHOTOS))
    #: Photos already received and checked, carried over when the form comes back.
    pending_photos = HiddenField()
    name = StringField(_l("Your name"), validators=[Optional(), Length(max=120)])
    email = StringField(_l("Your email"), validators=[Optional(), Length(max=254)])
    phone = StringField(_l("Your phone"), validators=[Optional(), Length(max=40)])
    #: Set once the resident has seen the similar reports nearby and still files their own.
    not_a_duplicate = BooleanField()

    def set_categories(self, groups: dict[str, list[Category]], locale: str) -> None:
        """Offer the categories grouped under their headings, in the page's language."""
        self.category.choices = {
            heading: [(c.code, c.name(locale)) for c in categories]
            for heading, categories in groups.items()
        }


class CommentForm(FlaskForm):
    text = TextAreaField(_l("Add a comment"), validators=[DataRequired(), Length(max=4000)])


class PhotoForm(FlaskForm):
    photo = MultipleFileField(_l("Add a photo"))


class FollowForm(FlaskForm):
    email = StringField(_l("Email"), validators=[DataRequired(), Length(max=254)])

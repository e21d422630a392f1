"""Sign-up and sign-in forms (Flask-WTF: CSRF included)."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp

from tellcity.core.forms import PageForm
from tellcity.reports.submission import EMAIL_PATTERN

MIN_PASSWORD = 10


class SignUpForm(PageForm):
    name = StringField(_l("Your name"), validators=[Optional(), Length(max=120)])
    email = EmailField(
        _l("Email"),
        validators=[
            DataRequired(),
            Regexp(EMAIL_PATTERN, message=_l("Enter a valid email address.")),
            Length(max=254),
        ],
    )
    password = PasswordField(
        _l("Password (at least %(count)s characters)", count=MIN_PASSWORD),
        validators=[DataRequired(), Length(min=MIN_PASSWORD, max=200)],
    )
    confirm = PasswordField(
        _l("Password again"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )


class SignInForm(PageForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    remember = BooleanField(_l("Keep me signed in"))


class CodeForm(PageForm):
    """A code of the two-factor app (6 digits) or a recovery code."""

    code = StringField(
        _l("Code"),
        validators=[DataRequired(), Length(max=40)],
        description=_l("The 6 digits your app shows now, or one of your recovery codes."),
    )

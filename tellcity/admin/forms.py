"""The administration forms (Flask-WTF: CSRF included). They check the shape of what is typed;
the services check the rest, so the same rules hold whatever the front end."""

import json

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    FloatField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from tellcity.accounts.api_keys import SCOPES
from tellcity.accounts.models import Role
from tellcity.categories.models import Category
from tellcity.core.bodies import load_json
from tellcity.core.errors import Malformed
from tellcity.core.forms import PageForm
from tellcity.core.params import MAX_INTEGER, int_param
from tellcity.departments.models import Delivery, Department
from tellcity.reports.states import STATUS_LABELS, Kind, Priority
from tellcity.staff.services import TEMPLATE_PLACEHOLDERS


def whole_number(value) -> int:
    """A select's value as a whole number (an id, a priority): ASCII digits only, where int()
    reads "٣" as 3; ValueError otherwise, which the select says is not a valid choice."""
    number = value if isinstance(value, int) else int_param(value, minimum=0, maximum=MAX_INTEGER)
    if number is None:
        raise ValueError(f"not a whole number: {value!r}")
    return number


def optional_int(value) -> int | None:
    """A select's value as an id, or None for the empty choice."""
    if value in (None, "", "None"):
        return None
    return whole_number(value)


class AdminForm(PageForm):
    def values(self, names) -> dict:
        """The data of the fields `names` that the form has, by name."""
        return {name: self[name].data for name in names if name in self}


class JSONField(TextAreaField):
    """A text area holding JSON: its data is the parsed value, shown back indented."""

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return json.dumps(self.data or [], indent=2, ensure_ascii=False)

    def process_formdata(self, valuelist) -> None:
        if not valuelist:
            return
        text = valuelist[0].strip()
        try:
            self.data = load_json(text) if text else []
        except Malformed as error:  # too deep, or a NUL: no database would store it
            self.data = None
            raise ValueError(error.message) from None
        except json.JSONDecodeError as error:
            self.data = None
            raise ValueError(
                _l(
                    "Not valid JSON: %(error)s (line %(line)s, column %(column)s).",
                    error=error.msg,
                    line=error.lineno,
                    column=error.colno,
                )
            ) from None


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def choices(pairs, empty: str | None = None) -> list[SelectChoice]:
    """Options of a select from (value, label) pairs, after an empty one labelled `empty`."""
    first = [SelectChoice("", empty)] if empty is not None else []
    return first + [SelectChoice(str(value), label) for value, label in pairs]


def department_choices(
    departments: list[Department], empty: str | None = None
) -> list[SelectChoice]:
    return choices(((department.id, department.name) for department in departments), empty)


def category_choices(
    categories: list[Category], locale: str, empty: str | None = None
) -> list[SelectChoice]:
    pairs = ((category.id, f"{category.name(locale)} ({category.code})") for category in categories)
    return choices(pairs, empty)


class DepartmentForm(AdminForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    email = StringField(_l("Email"), validators=[Optional(), Length(max=254)])
    delivery_method = SelectField(
        _l("New reports are also sent"),
        choices=choices(
            [
                (Delivery.DASHBOARD, _l("Nowhere else: dashboard only")),
                (Delivery.EMAIL, _l("By email")),
                (Delivery.WEBHOOK, _l("To a webhook")),
                (Delivery.OPEN311, _l("To its own Open311 system")),
            ]
        ),
    )
    webhook_url = StringField(_l("Webhook URL"), validators=[Optional(), Length(max=500)])
    open311_endpoint = StringField(
        _l("Open311 endpoint"),
        validators=[Optional(), Length(max=500)],
        description=_l("Its base address, where services.json and requests.json are."),
    )
    open311_api_key = PasswordField(
        _l("Open311 API key"),
        validators=[Optional(), Length(max=200)],
        description=_l("Kept, and never shown again. Leave empty to keep the current key."),
    )
    open311_jurisdiction = StringField(
        _l("Open311 jurisdiction id"),
        validators=[Optional(), Length(max=200)],
        description=_l("When the system serves several jurisdictions."),
    )
    new_secret = BooleanField(
        _l("Make a new webhook secret"),
        description=_l("The old one stops working; the new one is shown once."),
    )
    is_external = BooleanField(
        _l("External body"), description=_l("An outside body that reports are referred to.")
    )
    is_triage = BooleanField(
        _l("Triage desk"),
        description=_l("Gets what no rule routes. A city has only one triage desk."),
    )
    escalation_email = StringField(
        _l("Escalation address"),
        validators=[Optional(), Length(max=254)],
        description=_l(
            "Told of overdue tickets when the department has no manager and the city no"
            " administrator. Managers, then administrators, come first."
        ),
    )


class CategorySettingsForm(AdminForm):
    """What the managers of a category's department may change."""

    description_fr = TextAreaField(_l("Description (French)"), validators=[Length(max=2000)])
    description_en = TextAreaField(_l("Description (English)"), validators=[Length(max=2000)])
    sla_hours = IntegerField(
        _l("Target time (business hours)"),
        validators=[Optional(), NumberRange(min=1, max=100_000)],
        description=_l("Leave empty for no target."),
    )
    default_priority = SelectField(
        _l("Default priority"),
        coerce=whole_number,
        choices=choices(
            [
                (Priority.URGENT, _l("1 — urgent")),
                (Priority.HIGH, _l("2 — high")),
                (Priority.NORMAL, _l("3 — normal")),
                (Priority.LOW, _l("4 — low")),
            ]
        ),
        default=Priority.NORMAL,
    )
    attributes = JSONField(
        _l("Extra questions (JSON)"),
        render_kw={"rows": 12, "spellcheck": "false", "class": "code"},
        description=_l(
            'A list of Open311 attributes: [{"code": "size", "datatype": "singlevaluelist", '
            '"required": false, "description": "Approximate size", "order": 1, '
            '"values": [{"key": "small", "name": "Small"}]}]. Datatypes: string, number, '
            "datetime, text, singlevaluelist, multivaluelist."
        ),
    )


class CategoryForm(CategorySettingsForm):
    """Everything about a category, for administrators."""

    kind = SelectField(
        _l("Kind"),
        choices=choices([(Kind.PROBLEM, _l("Problem")), (Kind.SUGGESTION, _l("Suggestion"))]),
    )
    code = StringField(
        _l("Open311 code"),
        validators=[DataRequired(), Length(max=64)],
        description=_l("Unique in the city; letters, digits, - _ or ."),
    )
    name_fr = StringField(_l("Name (French)"), validators=[DataRequired(), Length(max=200)])
    name_en = StringField(_l("Name (English)"), validators=[DataRequired(), Length(max=200)])
    group_fr = StringField(_l("Group (French)"), validators=[Length(max=100)])
    group_en = StringField(_l("Group (English)"), validators=[Length(max=100)])
    keywords = StringField(_l("Keywords"), validators=[Length(max=300)])
    department_id = SelectField(_l("Default department"), coerce=optional_int, choices=[])
    is_active = BooleanField(_l("Active (offered to residents)"), default=True)


#: The fields a manager sees, in order.
SETTINGS_FIELD_ORDER = (
    "description_fr",
    "description_en",
    "sla_hours",
    "default_priority",
    "attributes",
)


class ZoneUploadForm(AdminForm):
    file = FileField(
        _l("GeoJSON file"),
        validators=[FileRequired(_l("Choose a file."))],
        description=_l(
            "A Feature or a FeatureCollection of Polygon or MultiPolygon features, each with a "
            "name property and an optional population."
        ),
    )
    replace = BooleanField(
        _l("Replace all the zones"),
        description=_l(
            "The current zones are deleted with their routing rules and zone feeds; reports "
            "are placed in the new zones."
        ),
    )


class ZoneForm(AdminForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    population = IntegerField(
        _l("Population"), validators=[Optional(), NumberRange(min=0, max=MAX_INTEGER)]
    )


class RuleForm(AdminForm):
    category_id = SelectField(_l("Category"), coerce=whole_number, choices=[])
    zone_id = SelectField(_l("Zone"), coerce=optional_int, choices=[])
    department_id = SelectField(_l("Department"), coerce=whole_number, choices=[])


class RouteTestForm(AdminForm):
    """Where would a report go: asks nothing to be saved, so it travels in a GET."""

    class Meta:
        csrf = False

    category_id = SelectField(_l("Category"), coerce=whole_number, choices=[])
    lat = FloatField(_l("Latitude"), validators=[InputRequired(), NumberRange(-90, 90)])
    lon = FloatField(_l("Longitude"), validators=[InputRequired(), NumberRange(-180, 180)])


ROLE_LABELS = {
    Role.AGENT: _l("Agent"),
    Role.MANAGER: _l("Manager"),
    Role.MAYOR: _l("Mayor's office"),
    Role.ADMIN: _l("Administrator"),
    Role.RESIDENT: _l("Resident"),
}


class UserEditForm(AdminForm):
    name = StringField(_l("Name"), validators=[Length(max=120)])
    role = SelectField(_l("Role"), choices=choices(ROLE_LABELS.items()))
    department_id = SelectField(
        _l("Department"),
        coerce=optional_int,
        choices=[],
        description=_l("Required for agents and managers."),
    )


class UserForm(UserEditForm):
    email = StringField(_l("Email"), validators=[DataRequired(), Length(max=254)])


USER_FIELD_ORDER = ("email", "name", "role", "department_id")


#: What each placeholder of a reply template becomes.
PLACEHOLDER_HELP = {
    "reference": _l("the report's reference, e.g. ISS-2026-000123"),
    "category": _l("its category, in the reporter's language"),
    "address": _l("its address"),
    "due_date": _l("the date it is due"),
    "department": _l("the department in charge"),
    "city": _l("the city"),
}


class ReplyTemplateForm(AdminForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=120)])
    body = TextAreaField(
        _l("Text"),
        validators=[DataRequired(), Length(max=4000)],
        render_kw={"rows": 8},
        description=_l(
            "Placeholders filled in for each report: %(names)s",
            names=", ".join("{" + name + "}" for name in TEMPLATE_PLACEHOLDERS),
        ),
    )
    department_id = SelectField(_l("Department"), coerce=optional_int, choices=[])
    category_id = SelectField(_l("Category"), coerce=optional_int, choices=[])
    status = SelectField(
        _l("Meant for the status"),
        choices=choices(STATUS_LABELS.items(), empty=_l("Any reply")),
    )
    is_active = BooleanField(_l("Active"), default=True)


class ApiKeyForm(AdminForm):
    name = StringField(
        _l("Name"),
        validators=[DataRequired(), Length(max=120)],
        description=_l("Who uses the key, e.g. the app or partner's name."),
    )
    scopes = MultiCheckboxField(
        _l("Scopes"),
        choices=[SelectChoice(scope) for scope in SCOPES],
        default=["open311"],
    )
    rate_limit = StringField(
        _l("Budget of reports"),
        validators=[Optional(), Length(max=100)],
        description=_l(
            'How many reports its program may send, e.g. "300 per minute;20000 per day", '
            "counted for this key alone. Empty: the site's budget for every key."
        ),
    )


class ApiKeyBudgetForm(AdminForm):
    rate_limit = ApiKeyForm.rate_limit

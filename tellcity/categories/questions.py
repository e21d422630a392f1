"""A category's questions — its Open311 attribute definitions, e.g. illegal-dumping asks
`waste_type`, required, one of a list: the check of the definitions an administrator writes
(`check_attributes`), the questions as the form and the APIs ask them (in French, or in English
where a definition gives `description_en` and its values `name_en`), and the one check of the
answers a resident sends.

The web form, /api/v1 and Open311 all hand the answers as they came (a mapping of question
code to one value or a list of values) to `check_answers`; it refuses, with one Invalid naming
every question at fault (`fields`, keyed `attributes.<code>`), what the definitions do not
allow: a required answer missing, a value outside the list, several values for a question
that takes one, a number or date that does not read, text too long, a question the category
does not ask, or more answers than any category asks.
"""

import math
import re
from collections.abc import Mapping
from datetime import datetime

from flask_babel import gettext as _

from tellcity.core.errors import Invalid

DATATYPES = ("string", "number", "datetime", "text", "singlevaluelist", "multivaluelist")
LIST_DATATYPES = ("singlevaluelist", "multivaluelist")
#: More answers than this is not a resident answering a form (no category asks as many).
MAX_ANSWERS = 50
#: Characters of one answer: a line (string) or a paragraph (text).
STRING_MAX = 300
TEXT_MAX = 4000
#: Values of one multi-valued answer (it also cannot have more than the list offers).
MAX_VALUES = 100


# --- The definitions, as an administrator writes them -----------------------------------------

ATTRIBUTE_KEYS = (
    "code",
    "variable",
    "datatype",
    "required",
    "datatype_description",
    "order",
    "description",
    "description_en",
    "values",
)
ATTRIBUTE_CODE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def check_attributes(attributes: object) -> list[dict]:
    """A category's extra questions, checked against the shape of Open311 attribute
    definitions and tidied: `required` defaults to false, `order` to the question's rank,
    an empty `datatype_description` is left out, `values` are kept for list questions only;
    sorted by `order`. (`variable`, false for a note that asks nothing, is kept when given.)

    Raises Invalid (field "attributes") naming the question at fault.
    """
    if attributes is None:
        return []
    if not isinstance(attributes, list):
        raise _bad_attributes(_("Write a list of questions: [{...}, {...}]."))
    checked = [_attribute(item, number) for number, item in enumerate(attributes, start=1)]
    codes = [attribute["code"] for attribute in checked]
    for code in codes:
        if codes.count(code) > 1:
            raise _bad_attributes(_("Two questions have the code %(code)s.", code=code))
    return sorted(checked, key=lambda attribute: attribute["order"])


def _bad_attributes(message: str) -> Invalid:
    return Invalid(message, field="attributes")


def _attribute(item: object, number: int) -> dict:
    """One question, checked and tidied; `number` is its rank in the list, from 1."""
    if not isinstance(item, dict):
        raise _bad_attributes(_("Question %(number)s: write an object {...}.", number=number))
    code = item.get("code")
    where = _("Question %(number)s (%(code)s)", number=number, code=code) if code else None
    where = where or _("Question %(number)s", number=number)
    _check_keys(item, where)
    attribute = {
        "code": _code(code, where),
        "datatype": _datatype(item.get("datatype"), where),
        "required": _boolean(item.get("required", False), where, "required"),
        "order": _check_order(item.get("order", number), where),
        "description": _text(item.get("description"), where, "description", required=True),
    }
    if "variable" in item:
        attribute["variable"] = _boolean(item["variable"], where, "variable")
    english = _text(item.get("description_en", ""), where, "description_en")
    if english:
        attribute["description_en"] = english
    explained = _text(item.get("datatype_description", ""), where, "datatype_description")
    if explained:
        attribute["datatype_description"] = explained
    if attribute["datatype"] in LIST_DATATYPES:
        attribute["values"] = _values(item.get("values"), where)
    elif item.get("values"):
        raise _bad_attributes(
            _(
                "%(where)s: only list questions (singlevaluelist, multivaluelist) have values.",
                where=where,
            )
        )
    return attribute


def _check_keys(item: dict, where: str) -> None:
    unknown = sorted(set(item) - set(ATTRIBUTE_KEYS))
    if unknown:
        raise _bad_attributes(
            _(
                "%(where)s: unknown key %(key)s (known keys: %(allowed)s).",
                where=where,
                key=unknown[0],
                allowed=", ".join(ATTRIBUTE_KEYS),
            )
        )


def _code(code: object, where: str) -> str:
    if not isinstance(code, str) or not ATTRIBUTE_CODE.match(code):
        raise _bad_attributes(
            _("%(where)s: give a code of letters, digits, _ or - (at most 64).", where=where)
        )
    return code


def _datatype(datatype: object, where: str) -> str:
    if datatype not in DATATYPES:
        raise _bad_attributes(
            _(
                "%(where)s: datatype must be one of %(types)s.",
                where=where,
                types=", ".join(DATATYPES),
            )
        )
    return datatype


def _boolean(value: object, where: str, key: str) -> bool:
    if not isinstance(value, bool):
        raise _bad_attributes(_("%(where)s: %(key)s must be true or false.", where=where, key=key))
    return value


def _text(value: object, where: str, key: str, *, required: bool = False) -> str:
    if not isinstance(value, str) or (required and not value.strip()):
        message = (
            _("%(where)s: give a %(key)s (text).", where=where, key=key)
            if required
            else _("%(where)s: %(key)s must be text.", where=where, key=key)
        )
        raise _bad_attributes(message)
    return value.strip()


def _check_order(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _bad_attributes(_("%(where)s: order must be a whole number from 1.", where=where))
    return value


def _values(values: object, where: str) -> list[dict]:
    """The choices of a list question: a non-empty list of {"key": ..., "name": ...}."""
    if not isinstance(values, list) or not values:
        raise _bad_attributes(
            _(
                '%(where)s: a list question needs values: [{"key": "...", "name": "..."}].',
                where=where,
            )
        )
    checked = []
    for value in values:
        key = value.get("key") if isinstance(value, dict) else None
        name = value.get("name") if isinstance(value, dict) else None
        english = value.get("name_en", "") if isinstance(value, dict) else None
        if (
            not isinstance(value, dict)
            or set(value) - {"key", "name", "name_en"}
            or not isinstance(key, str)
            or not key.strip()
            or not isinstance(name, str)
            or not name.strip()
            or not isinstance(english, str)
        ):
            raise _bad_attributes(
                _('%(where)s: each value is {"key": "...", "name": "..."}, both text.', where=where)
            )
        option = {"key": key.strip(), "name": name.strip()}
        if english.strip():
            option["name_en"] = english.strip()
        checked.append(option)
    keys = [value["key"] for value in checked]
    duplicate = next((key for key in keys if keys.count(key) > 1), None)
    if duplicate is not None:
        raise _bad_attributes(
            _("%(where)s: two values have the key %(key)s.", where=where, key=duplicate)
        )
    return checked


# --- The questions, as the form and the APIs ask them -----------------------------------------


def definitions(category) -> list[dict]:
    """The category's questions in their order: as their definitions number them, else as
    they are listed. Definitions without a code are skipped."""
    questions = [
        {**question, "order": _rank(question.get("order"), number)}
        for number, question in enumerate(category.attributes or [], start=1)
        if isinstance(question, Mapping) and question.get("code") not in (None, "")
    ]
    return sorted(questions, key=lambda question: question["order"])


def asked(category) -> list[dict]:
    """The questions that take an answer (a definition with `variable` false is a note)."""
    return [question for question in definitions(category) if question.get("variable", True)]


def datatype(question: Mapping) -> str:
    """The question's datatype; a string when its definition names none the spec knows."""
    value = question.get("datatype")
    return value if value in DATATYPES else "string"


def options(question: Mapping) -> list[Mapping]:
    """The values a list question offers, each {key, name}."""
    values = question.get("values")
    if not isinstance(values, list):
        return []
    return [value for value in values if isinstance(value, Mapping)]


def in_language(mapping: Mapping, key: str, locale: str) -> str:
    """A question's `description` or a value's `name` in `locale`: its `<key>_en` for English
    when the definition gives one, else the text as written (the city's language)."""
    if locale == "en" and mapping.get(f"{key}_en"):
        return str(mapping[f"{key}_en"])
    return str(mapping.get(key) or "")


def _rank(value, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def labelled(category, attributes: Mapping | None, locale: str = "fr") -> list[dict]:
    """The answers kept on a report to its category's questions, in the questions' order:
    {code, question, value, text}, in `locale`, `text` being the value as a person reads it
    (a list's keys as their names). Other keys a report may keep (an import's source status,
    an Open311 client's media_url) are not answers and are left out."""
    attributes = attributes or {}
    found = []
    for question in definitions(category):
        code = str(question["code"])
        if code not in attributes:
            continue
        value = attributes[code]
        names = {
            str(option.get("key")): in_language(option, "name", locale) or str(option.get("key"))
            for option in options(question)
        }
        values = value if isinstance(value, list) else [value]
        found.append(
            {
                "code": code,
                "question": in_language(question, "description", locale) or code,
                "value": value,
                "text": ", ".join(names.get(str(item), str(item)) for item in values),
            }
        )
    return found


def as_text(attributes: Mapping | None) -> str:
    """What a report keeps beside its description, as one line for a spreadsheet cell:
    "code: value; code: value1, value2", by code (keys starting with _ are internal and left
    out)."""
    return "; ".join(
        f"{code}: {', '.join(map(str, value)) if isinstance(value, list) else value}"
        for code, value in sorted((attributes or {}).items())
        if not str(code).startswith("_")
    )


def field_name(code: str) -> str:
    """How an error names the answer to question `code` (front ends translate it)."""
    return f"attributes.{code}"


#: How a form names the answer to a question: attribute[code], attribute[code][] (Open311's
#: convention, which the web form follows too).
_FORM_NAME = re.compile(r"attribute\[([^\[\]]{1,64})\](?:\[\])?")


def answers_from_form(params) -> dict[str, list[str]]:
    """The answers in form parameters (a MultiDict or a mapping): {code: [values]} from
    attribute[code]=v, attribute[code][]=v1&... or attribute[code]=v1&attribute[code]=v2."""
    getlist = getattr(params, "getlist", None)
    answers: dict[str, list[str]] = {}
    for name in params:
        match = _FORM_NAME.fullmatch(name) if isinstance(name, str) else None
        if match is None:
            continue
        values = getlist(name) if getlist else [params[name]]
        answers.setdefault(match.group(1), []).extend(str(value) for value in values)
    return answers


def check_answers(category, sent: Mapping | None) -> dict:
    """The answers to the category's questions, checked and tidied: {code: value} with a
    string, a number or an ISO date for one value and a list of keys for a multi-valued list.
    Unanswered questions are left out. Raises Invalid (code of the first fault, `fields`
    naming each answer at fault) for anything the definitions do not allow."""
    sent = _as_mapping(sent)
    if len(sent) > MAX_ANSWERS:
        raise Invalid(
            _("at most %(count)s answers", count=MAX_ANSWERS),
            code="too_many_answers",
            field="attributes",
        )
    questions = {str(question["code"]): question for question in asked(category)}
    faults: dict[str, tuple[str, str]] = {}
    for code in sent:
        if code not in questions:
            faults[field_name(code)] = ("unknown_question", _("not a question of this category"))
    answers = {}
    for code, question in questions.items():
        try:
            values = _texts(sent.get(code))
            if values:
                answers[code] = _answer(question, values)
            elif question.get("required"):
                raise _Fault("answer_required", _("an answer is required"))
        except _Fault as fault:
            faults[field_name(code)] = (fault.code, fault.message)
    if faults:
        first_code = next(iter(faults.values()))[0]
        raise Invalid(
            "; ".join(f"{name}: {message}" for name, (_code, message) in faults.items()),
            code=first_code,
            field="attributes",
            fields={name: [message] for name, (_code, message) in faults.items()},
        )
    return answers


class _Fault(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def _as_mapping(sent) -> Mapping:
    if sent is None:
        return {}
    if not isinstance(sent, Mapping):
        raise Invalid(
            _("answers are an object of question codes and values"),
            code="invalid_answer",
            field="attributes",
        )
    return sent


def _texts(value) -> list[str]:
    """An answer as sent, one value or a list of them (text or numbers), as non-empty texts."""
    items = value if isinstance(value, list | tuple) else [value]
    if len(items) > MAX_VALUES:
        raise _Fault("too_many_values", _("at most %(count)s values", count=MAX_VALUES))
    texts = []
    for item in items:
        if item is None:
            continue
        if isinstance(item, bool) or not isinstance(item, str | int | float):
            raise _Fault("invalid_answer", _("give text or a number"))
        text = item.strip() if isinstance(item, str) else str(item)
        if text:
            texts.append(text)
    return texts


def _answer(question: Mapping, values: list[str]):
    kind = datatype(question)
    if kind == "multivaluelist":
        return [_key(question, value) for value in dict.fromkeys(values)]
    if len(values) > 1:
        raise _Fault("invalid_answer", _("one value only"))
    value = values[0]
    if kind == "singlevaluelist":
        return _key(question, value)
    if kind == "number":
        return _number(value)
    if kind == "datetime":
        return _datetime(value)
    limit = TEXT_MAX if kind == "text" else STRING_MAX
    text = value if kind == "text" else " ".join(value.split())
    if len(text) > limit:
        raise _Fault("answer_too_long", _("at most %(count)s characters", count=limit))
    return text


def _key(question: Mapping, value: str) -> str:
    keys = [str(option.get("key")) for option in options(question)]
    if value not in keys:
        raise _Fault("answer_not_offered", _("one of: %(keys)s", keys=", ".join(keys)))
    return value


def _number(value: str) -> int | float:
    try:
        number = float(value) if len(value) <= 64 else math.nan
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise _Fault("invalid_answer", _("a number"))
    return int(number) if number.is_integer() and abs(number) < 2**53 else number


def _datetime(value: str) -> str:
    try:
        return datetime.fromisoformat(value).isoformat()
    except ValueError:
        raise _Fault(
            "invalid_answer", _("a date, e.g. 2026-01-31 or 2026-01-31T08:30:00+01:00")
        ) from None

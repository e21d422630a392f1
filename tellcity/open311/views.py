"""Open311 GeoReport v2 under /open311/v2/ (JSON and XML), advertised by
/open311/discovery.{json,xml}: thin views over the same services and queries as the web form.
Every answer under /open311/, errors and unknown routes included, has the spec's shape."""

from zoneinfo import ZoneInfo

from flask import Blueprint, Response, current_app, request, url_for
from flask_babel import get_locale
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from tellcity.accounts import api_keys, budgets
from tellcity.cities.models import City
from tellcity.cities.queries import current_city
from tellcity.core.conditional import unless_unchanged
from tellcity.core.errors import NotFound, TellCityError
from tellcity.core.kept_answers import keep
from tellcity.core.permissions import Actor
from tellcity.core.text import contact_region
from tellcity.extensions import csrf, limiter
from tellcity.open311 import queries, services
from tellcity.open311.render import (
    CONTENT_TYPES,
    FORMATS,
    errors_response,
    item_text,
    items_body,
    request_items,
    respond,
    services_cache,
)
from tellcity.open311.render import body as render_body
from tellcity.open311.schemas import (
    CreatedRequestSchema,
    ExtensionsSchema,
    NewRequestSchema,
    RequestsQuerySchema,
    ServiceDefinitionSchema,
    ServiceSchema,
    TokenSchema,
    UpdateSchema,
    UpdatesQuerySchema,
    discovery_document,
    service_requests,
    w3c,
)
from tellcity.photos.services import process_upload
from tellcity.reports.submission import REPLAYED_HEADERS, check_photo_count, submit_report
from tellcity.reports.versions import public_version

bp = Blueprint("open311", __name__, url_prefix="/open311")
csrf.exempt(bp)  # no cookies are trusted here: posting takes an API key

FMT = "<any(json, xml):fmt>"
#: Our fields, as the Open311 parameter a client sent them in.
FIELD_NAMES = {
    "position": "lat/long",
    "category": "service_code",
    "photos": "media",
    "name": "first_name/last_name",
    "address": "address_string",
}


#: The reads' parameter schemas, made once (a schema's construction copies its fields: it cost
#: more than loading the parameters).
_REQUESTS_QUERY = RequestsQuerySchema()
_EXTENSIONS = ExtensionsSchema()


#: Open311's reads, which have no rate limit (only posting a request has one).
_UNLIMITED = frozenset({"open311.list_services", "open311.list_requests", "open311.show_request"})


@limiter.request_filter
def _unlimited_read() -> bool:
    """Flask-Limiter need not look for a limit of Open311's reads: it resolves the limits of
    a request's view on every request, a tenth of the cost of a small answer."""
    return request.endpoint in _UNLIMITED


class Open311Error(Exception):
    """An error answered in the spec's shape, with its HTTP status."""

    def __init__(self, status: int, *descriptions: str):
        super().__init__(*descriptions)
        self.status, self.descriptions = status, list(descriptions)


# --- discovery ------------------------------------------------------------------------------


@bp.get(f"/discovery.{FMT}")
def discovery(fmt: str):
    """The service discovery document: where the GeoReport v2 endpoint is, in which formats."""
    config = current_app.config
    changed = queries.changeset()
    document = discovery_document(
        base_url=url_for("open311.root", _external=True).rstrip("/"),
        changeset=w3c(changed, ZoneInfo("UTC")) if changed else "",
        contact=config.get("OPEN311_CONTACT") or f"TellCity at {request.host_url}",
        key_service=config.get("OPEN311_KEY_SERVICE")
        or "API keys are issued by the city's administrators (tellcity create-api-key).",
    )
    return respond(fmt, "discovery", document)


@bp.get("/v2/")
def root():
    """The endpoint's root: its discovery document, as the spec suggests."""
    return discovery("json")


# --- services ---------------------------------------------------------------------------------


@bp.get(f"/v2/services.{FMT}")
def list_services(fmt: str):
    """The city's categories as services, in the client's language. The rendered list is
    cached per city, language and format, keyed on a digest of the category rows: never
    stale, and answered 304 to a client that sends back its ETag."""
    city, locale = _city(services=True), _locale()
    digest, rows = queries.service_rows(city)
    rendered = services_cache.get(
        (city.id, locale, fmt),
        digest,
        lambda: render_body(fmt, "services", ServiceSchema(many=True, locale=locale).dump(rows)),
    )
    response = Response(rendered, content_type=CONTENT_TYPES[fmt])
    response.set_etag(f"{digest[:32]}-{locale}-{fmt}")
    response.headers["Cache-Control"] = "no-cache"
    response.vary.update(("Accept-Language", "Cookie"))
    return response.make_conditional(request)


@bp.get(f"/v2/services/<service_code>.{FMT}")
def service_definition(service_code: str, fmt: str):
    category = queries.service(_city(services=True), service_code)
    if category is None:
        raise Open311Error(404, f"service_code {service_code[:64]} not found")
    return respond(
        fmt, "service_definition", ServiceDefinitionSchema(locale=_locale()).dump(category)
    )


# --- requests ---------------------------------------------------------------------------------


@bp.post(f"/v2/requests.{FMT}")
@limiter.limit(budgets.submissions, key_func=budgets.submitter)
def create_request(fmt: str):
    """A new service request, through the same submission as the web form: form-encoded, or
    multipart with photos in `media`. Needs an API key for the city. An Idempotency-Key header
    (one namespace per API key) makes a retry answer the first request again, with
    `Idempotent-Replayed: true`, never a second one."""
    city = _city()
    api_key = _api_key(city)
    data = NewRequestSchema().load(request.form)
    uploads = [upload for upload in request.files.getlist("media") if upload.filename]
    check_photo_count(len(uploads))  # before any is decoded
    photos = [process_upload(content) for upload in uploads if (content := upload.read())]
    key = request.headers.get("Idempotency-Key", "").strip()[:100]
    submission = services.new_submission(
        data,
        photos,
        locale=_locale(),
        idempotency_key=f"open311:{api_key.id}:{key}" if key else None,
    )
    report, created = submit_report(city, submission, Actor.api(api_key.name))
    response = respond(fmt, "service_requests", CreatedRequestSchema(many=True).dump([report]))
    if not created:
        response.headers.update(REPLAYED_HEADERS)
    return response


@bp.get(f"/v2/requests.{FMT}")
def list_requests(fmt: str):
    """Public requests of the city: the last 90 days by default, at most 1000 a page.
    Answered 304 to a client that sends back the ETag of an answer still true."""
    city, version = _city_and_version()
    params = _REQUESTS_QUERY.load(request.args)
    wanted, extensions = params["filter"], params["extensions"]
    question = (
        wanted.start,
        wanted.end,
        wanted.references,
        wanted.codes,
        sorted(wanted.statuses),
        wanted.page,
        wanted.page_size,
        wanted.box,
        extensions,
    )
    return unless_unchanged(
        _validator(city, version, fmt, "requests", question),
        lambda: _requests_response(fmt, city, queries.find_requests(city, wanted), extensions),
    )


@bp.get(f"/v2/requests/<service_request_id>.{FMT}")
def show_request(service_request_id: str, fmt: str):
    """One public request, as a list of one; 304 to a client that holds it as it is."""
    city, version = _city_and_version()
    extensions = _EXTENSIONS.load(request.args)["extensions"]

    def answer():
        report = queries.public_report(city, service_request_id)
        if report is None:
            raise Open311Error(404, f"service_request_id {service_request_id[:64]} not found")
        return _requests_response(fmt, city, [report], extensions)

    return unless_unchanged(
        _validator(city, version, fmt, "request", (service_request_id, extensions)), answer
    )


def _validator(city: City, version: int | None, fmt: str, *question) -> tuple:
    """What an answer about the city's requests depends on, besides the question: the
    reports (their public version, read here unless `version` was read with the city), the
    configuration (service names, departments), the language and the format."""
    if version is None:
        version = public_version(city.id)
    return ("open311", city.id, version, city.config_version, _locale(), fmt, *question)


def _requests_response(fmt: str, city: City, rows: list, extensions: bool):
    timezone, locale, region = ZoneInfo(city.timezone), _locale(), contact_region(city)
    if extensions:  # with each request's history: not kept
        documents = service_requests(
            rows,
            timezone=timezone,
            locale=locale,
            extended=queries.extended(rows),
            region=region,
        )
        return respond(fmt, "service_requests", documents)

    def render(missing: list) -> list[str]:
        documents = service_requests(missing, timezone=timezone, locale=locale, region=region)
        return [item_text(fmt, "service_requests", document) for document in documents]

    # What a request's document is made of besides its row (its photo's address is absolute)
    context = (city.timezone, locale, region, request.host_url)
    items = request_items[fmt].items(context, rows, render)
    body = items_body(fmt, "service_requests", items)
    return Response(body, content_type=CONTENT_TYPES[fmt])


@bp.get(f"/v2/tokens/<token>.{FMT}")
def show_token(token: str, fmt: str):
    """Requests are created at once, so a token is the service_request_id itself."""
    report = queries.public_report(_city(), token)
    if report is None:
        raise Open311Error(404, f"token {token[:64]} not found")
    return respond(fmt, "service_requests", TokenSchema(many=True).dump([report]))


@bp.get(f"/v2/servicerequestupdates.{FMT}")
def list_updates(fmt: str):
    """mySociety's extension: the public updates of the city's requests, oldest first."""
    city = _city()
    params = UpdatesQuerySchema().load(request.args)
    updates = queries.public_updates(city, **params)
    schema = UpdateSchema(many=True, timezone=ZoneInfo(city.timezone), region=contact_region(city))
    return respond(fmt, "service_request_updates", schema.dump(updates))


@bp.route("/", defaults={"path": ""}, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
@bp.route("/<path:path>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def unknown(path: str):
    """Anything else under /open311/: a 405 where the path exists for other methods, a 404
    otherwise, in the spec's error shape."""
    allowed = _allowed_methods()
    if allowed:
        raise MethodNotAllowed(valid_methods=sorted(allowed))
    raise Open311Error(404, f"no such resource: {request.path[:200]}")


def _allowed_methods() -> set[str]:
    """The methods another route of the app answers at this path."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    allowed = set()
    for method in ("GET", "POST"):
        try:
            endpoint, _args = adapter.match(method=method)
        except HTTPException:
            continue
        if endpoint != "open311.unknown":
            allowed.add(method)
    return allowed


# --- parameters -------------------------------------------------------------------------------


def _param(name: str) -> str:
    """A parameter from the query string or, for a POST, the form body; "" when empty."""
    value = request.args.get(name, "").strip()
    if not value and request.method == "POST":
        value = request.form.get(name, "").strip()
    return value


def _city(*, services: bool = False) -> City:
    """The city jurisdiction_id names; may be left out while this serves a single city.
    Raises Open311Error: 404 for an unknown one, 400 when it is needed and missing."""
    return _city_and_version(services=services)[0]


def _city_and_version(*, services: bool = False) -> tuple[City, int | None]:
    """_city(), and the version of its public reports when it was read with it (the city
    served alone, or named), else None. A successful answer about the city may be kept whole
    (tellcity.core.kept_answers) while its versions stay the same: those of its
    configuration and public reports, or with `services` its configuration's alone; and,
    when it is the city served alone, while it stays the only one."""
    slug = _param("jurisdiction_id")
    if slug:
        try:
            city = current_city(slug)
        except NotFound:
            raise Open311Error(404, f"jurisdiction_id {slug[:64]} not found") from None
        read = queries.named_city_versions(slug)
        if not read or read[0][:2] != (city.id, city.config_version):  # it changed meanwhile
            return city, None
        if services:
            keep("open311.named.services", queries.configurations(read), slug)
        else:
            keep("open311.named.requests", read, slug)
        return city, read[0][2]
    served, read = queries.served_cities()
    if len(served) == 1:
        if services:
            keep("open311.services", queries.configurations(read))
        else:
            keep("open311.requests", read)
        return served[0]
    if not served:
        raise Open311Error(404, "no jurisdiction is served here yet")
    raise Open311Error(400, "jurisdiction_id is required: this endpoint serves several")


def _api_key(city: City):
    """The live API key sent (in `api_key`, or a header), allowed for the city; raises
    Open311Error 403 otherwise."""
    if not api_keys.presented_key(form_parameter=True):
        raise Open311Error(403, "api_key is required to post a service request")
    api_key = budgets.request_api_key()
    if api_key is None or not api_keys.may_use(api_key, city):
        raise Open311Error(403, "invalid api_key: unknown, revoked, or not for this jurisdiction")
    return api_key


def _locale() -> str:
    return str(get_locale() or "fr")


def _format() -> str:
    """The format the client asked for: the extension of the path; JSON when it has none."""
    fmt = (request.view_args or {}).get("fmt")
    if fmt in FORMATS:
        return fmt
    return "xml" if request.path.endswith(".xml") else "json"


# --- errors -----------------------------------------------------------------------------------


@bp.errorhandler(Open311Error)
def _open311_error(error: Open311Error):
    return errors_response(_format(), error.status, error.descriptions)


@bp.errorhandler(ValidationError)
def _invalid(error: ValidationError):
    return errors_response(_format(), 400, list(_messages(error.normalized_messages())))


def _messages(messages, field: str = ""):
    """Each message of marshmallow's nested error dict as "field: message"."""
    if isinstance(messages, dict):
        for name, nested in messages.items():
            yield from _messages(nested, "" if name == "_schema" else str(name))
    elif isinstance(messages, list | tuple):
        for message in messages:
            yield from _messages(message, field)
    else:
        yield f"{field}: {messages}" if field else str(messages)


@bp.errorhandler(TellCityError)
def _refused(error: TellCityError):
    """The domain's refusals: 403 and 404 as they are, server failures as they are, every
    other refusal (invalid, conflict) a 400 as the spec has it."""
    status = error.status if error.status in (403, 404) or error.status >= 500 else 400
    if error.code == "unknown_category":
        status = 404  # as for GET services/{service_code}
    descriptions = [
        f"{_parameter(field)}: {message}"
        for field, messages in error.fields.items()
        for message in messages
    ]
    return errors_response(_format(), status, descriptions or [error.message], error.code)


def _parameter(field: str) -> str:
    """The Open311 parameter that carried one of our fields (attributes.x: attribute[x])."""
    if field.startswith("attributes."):
        return f"attribute[{field.removeprefix('attributes.')}]"
    return FIELD_NAMES.get(field, field)


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException):
    response = errors_response(_format(), error.code or 400, [error.description or error.name])
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response

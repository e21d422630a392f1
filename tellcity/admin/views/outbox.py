"""The outbox: the messages waiting to be sent and those the worker gave up on, to whom and
why; an administrator retries or drops one. Recipients are personal data: administrators only,
and like every page under /staff never cached (tellcity.core.private_pages)."""

from flask import abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from tellcity.accounts.models import Role
from tellcity.admin.views.common import act
from tellcity.core.auth import current_actor, staff_required
from tellcity.core.db import utcnow
from tellcity.notify import queries, services
from tellcity.notify.models import OutboxMessage


@staff_required(Role.ADMIN)
def outbox_list():
    shown = request.args.get("show", "")
    shown = shown if shown in queries.OUTBOX_LISTS else "dead"
    rows, next_cursor = queries.outbox_page(
        current_user.city_id, shown, after=request.args.get("after")
    )
    return render_template("admin/outbox.html", rows=rows, shown=shown, next_cursor=next_cursor)


@staff_required(Role.ADMIN)
def outbox_retry(message_id: int):
    message = _message_or_404(message_id)
    return act(
        lambda: services.retry_message(message, actor=current_actor()),
        _("Message %(id)s is queued again: it is sent at once.", id=message.id),
        url_for(".outbox_list", show="pending"),
    )


@staff_required(Role.ADMIN)
def outbox_drop(message_id: int):
    message = _message_or_404(message_id)
    shown = request.form.get("show")
    return act(
        lambda: services.drop_message(message, actor=current_actor()),
        _("Message %(id)s is dropped: it will never be sent.", id=message.id),
        url_for(".outbox_list", show=shown if shown in queries.OUTBOX_LISTS else "dead"),
    )


def _message_or_404(message_id: int) -> OutboxMessage:
    """The message, if it is about a report of the administrator's city (any, for an
    administrator of every city)."""
    message = queries.outbox_message(message_id, current_user.city_id)
    if message is None:
        abort(404)
    return message


def outbox_warning() -> bool:
    """Whether the signed-in administrator should be warned that messages of their city are
    failing (tellcity.notify.queries.failing_messages); never for anyone else, who could not
    open the outbox. A template global: the staff queue and the administration pages ask."""
    if not current_user.is_authenticated or current_user.role != Role.ADMIN:
        return False
    return queries.failing_messages(current_user.city_id, utcnow(), cap=1) > 0

"""The workflow's pages: the inbox, bulk approval, delegations, reassignment and the case
page's action forms (the blueprint "workflow").

The engine decides who may do what; these views parse the form, call it, commit, and show
a refusal (403), a stale page (409) or bad input (422) on the case page, never a 500."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from formflow.auth import services as users
from formflow.auth.current import acting_user
from formflow.auth.decorators import permission_required
from formflow.auth.permissions import require
from formflow.cases import services as cases
from formflow.cases.views import form_page, show_page
from formflow.errors import DomainError, Invalid, NotFound
from formflow.extensions import db
from formflow.i18n import select_locale
from formflow.processes import titles
from formflow.rules.operators import business_today
from formflow.safe_redirect import safe_next
from formflow.workflows import engine, inbox
from formflow.workflows.races import lost_race_is_conflict

bp = Blueprint("workflow", __name__)


@bp.route("/inbox", endpoint="inbox")
@permission_required("cases.act")
def inbox_page():
    user, size = acting_user(), current_app.config["PAGE_SIZE"]
    waiting = inbox.waiting_for(user)
    rows = inbox.shown(waiting, _inbox_filter(), request.args.get("sort"))
    page = max(1, request.args.get("page", 1, type=int) or 1)
    shown = rows[(page - 1) * size : page * size]
    args = {key: request.args[key] for key in INBOX_ARGS if request.args.get(key)}
    return render_template(
        "workflows/inbox.html",
        rows=shown,
        total=len(waiting),
        matching=len(rows),
        choices=inbox.filter_choices(waiting, select_locale()),
        args=request.args,
        quick={row.case.id: inbox.quick_approval(row.case, user) for row in shown},
        page=page,
        next_url=url_for("workflow.inbox", **args, page=page + 1) if page * size < len(rows) else None,
        previous_url=url_for("workflow.inbox", **args, page=page - 1) if page > 1 else None,
        locale=select_locale(),
    )


#: the inbox's query arguments a page link keeps
INBOX_ARGS = ("process", "state", "customer", "overdue", "sort")


def _inbox_filter() -> inbox.InboxFilter:
    return inbox.InboxFilter(
        process=request.args.get("process", "").strip() or None,
        state=request.args.get("state", "").strip() or None,
        customer=request.args.get("customer", "").strip() or None,
        overdue_only=request.args.get("overdue") == "1",
    )


@bp.route("/inbox/bulk-approve", methods=["POST"])
@permission_required("cases.act")
def bulk_approve():
    back = safe_next(request.form.get("next"), url_for("workflow.inbox"))
    chosen = request.form.getlist("case", type=int)
    if not chosen:
        flash(_("Choose the cases to approve."), "warning")
        return redirect(back)
    outcomes = inbox.bulk_approve(chosen, acting_user())
    for outcome in outcomes:
        text = _("Case %(id)s: %(message)s", id=outcome.case_id, message=outcome.message)
        flash(text, "success" if outcome.ok else "error")
    return redirect(back)


@bp.route("/cases/<int:case_id>/actions/<action>", methods=["POST"])
@permission_required("cases.act")
def act(case_id: int, action: str):
    case = cases.get(case_id)
    require(acting_user(), "cases.read", case)
    comment = request.form.get("comment", "")
    lock_version = request.form.get("lock_version", type=int)
    try:
        with lost_race_is_conflict():
            result = engine.perform(case, action, acting_user(), comment=comment, lock_version=lock_version)
            db.session.commit()
    except DomainError as error:  # refused (403), stale (409), bad input or a failed effect (422)
        db.session.rollback()
        if isinstance(error, Invalid) and any(e["pointer"].startswith("/data/") for e in error.errors):
            return _form_with(case_id, error)  # the form is incomplete: show it with its messages
        return _case_page_with(case_id, error, action=action, comment=comment)
    action_title = titles.action_title(case.version, action)
    state_title = titles.state_title(case.version, case.state)
    done = _("“%(action)s” done; the case is now at “%(state)s”.", action=action_title, state=state_title)
    flash(done if result.transitioned else _("Your approval is recorded."), "success")
    return redirect(url_for("cases.show", case_id=case_id))


@bp.route("/cases/<int:case_id>/reassign", methods=["POST"])
@permission_required("cases.reassign")
def reassign(case_id: int):
    case = cases.get(case_id)
    require(acting_user(), "cases.read", case)
    raw = request.form.get("to", "").strip()
    try:
        to_user = _chosen_user(raw)
        with lost_race_is_conflict():
            inbox.reassign(
                case, to_user, acting_user(), lock_version=request.form.get("lock_version", type=int)
            )
            db.session.commit()
    except DomainError as error:
        db.session.rollback()
        return _case_page_with(case_id, error, action="reassign")
    flash(
        _("Reassigned to %(user)s.", user=to_user.label) if to_user else _("Reassignment removed."), "success"
    )
    return redirect(url_for("cases.show", case_id=case_id))


@bp.route("/delegations", methods=["GET", "POST"])
@permission_required("delegations.manage")
def delegations():
    user = acting_user()
    if request.method == "GET":
        return _delegations_page(user)
    form = request.form
    try:
        to_user = users.find_user(form.get("to", "").strip())
        inbox.delegate(user, to_user, _day(form.get("starts_on")), _day(form.get("ends_on")), user)
        db.session.commit()
    except Invalid as invalid:
        db.session.rollback()
        return _delegations_page(user, invalid.errors, form, 422)
    flash(_("Delegation saved."), "success")
    return redirect(url_for("workflow.delegations"))


@bp.route("/delegations/<int:delegation_id>/revoke", methods=["POST"])
@permission_required("delegations.manage")
def delegation_revoke(delegation_id: int):
    inbox.revoke(inbox.get_delegation(delegation_id), acting_user())
    db.session.commit()
    flash(_("Delegation ended."), "success")
    return redirect(url_for("workflow.delegations"))


# --- helpers -------------------------------------------------------------------------------


def _case_page_with(case_id: int, error: DomainError, *, action: str, comment: str = ""):
    """The case page again (fresh from the database), with the refusal beside the form."""
    db.session.expire_all()
    case = cases.get(case_id)
    return show_page(case, status=error.status, action_error=error, failed_action=action, comment=comment)


def _form_with(case_id: int, error: Invalid):
    """The case's form with the submission's problems next to their fields (the case page
    with them when the user may not edit the form)."""
    db.session.expire_all()
    case = cases.get(case_id)
    if not engine.may_edit(case, acting_user()):
        return _case_page_with(case_id, error, action="")
    return form_page(case.version, case.customer, case, case.data, error.errors, error.status)


def _chosen_user(raw: str):
    """The user picked by id in a form ("" for nobody); 422 for anything else."""
    if not raw:
        return None
    try:
        if raw.isdigit() and int(raw) < 2**63:
            return users.get_user(int(raw))
    except NotFound:
        pass
    raise Invalid([{"pointer": "/to", "message": _("Choose a user from the list.")}])


def _day(raw: str | None) -> date | None:
    try:
        return date.fromisoformat((raw or "").strip())
    except ValueError:
        return None


def _delegations_page(user, errors=None, form=None, status=200):
    given, received = inbox.delegations_of(user)
    page = render_template(
        "workflows/delegations.html",
        given=given,
        received=received,
        people={u.id: u for u in users.list_users()},
        errors=errors or [],
        form=form or {},
        today=business_today(),
    )
    return page, status

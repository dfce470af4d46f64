"""Transfer-of-care pages: the referral, the hub queue, the tracker, capacity; and their live partials."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from discharge import selectors as discharge_selectors
from discharge.record_views import log_shown
from discharge.selectors import delay_reasons_for
from discharge.services import StaleEdit
from homefirst.polling import POLL_SECONDS, etag_of, polled
from homefirst.selectors import wards_visible_to
from pathways import forms, selectors, services
from pathways.access import referral_actors, transfer_pages
from pathways.models import Referral
from pathways.transitions import IN_HOSPITAL_STATES, Action, Actor

REFERRAL = "pathways/referral.html"
QUEUE = "pathways/hub_queue.html"
TRACKER = "pathways/tracker.html"
TRACKER_STEPS = selectors.TRACKER_STEPS


def _page(request: HttpRequest, template: str, context: dict, status: int = 200) -> HttpResponse:
    links = transfer_pages(request.user)
    return render(request, template, {**context, "links": links}, status=status)


def _referral(request: HttpRequest, referral_id: int) -> Referral:
    referral = selectors.referral_for(user=request.user, referral_id=referral_id)
    if referral is None:
        raise Http404("No such referral for you.")
    return referral


def _action(value: str, allowed=tuple(forms.STEP_FORMS)) -> Action:
    try:
        action = Action(value)
    except ValueError:
        raise Http404("No such step.") from None
    if action not in allowed:
        raise Http404("No such step.")
    return action


# --- Referring --------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def refer(request: HttpRequest, admission_id: int) -> HttpResponse:
    """The ward's referral to the care transfer hub: one form."""
    admission = selectors.referrable_admission(user=request.user, admission_id=admission_id)
    if admission is None:
        raise Http404("No such inpatient on your wards.")
    planned = admission.planned_pathway_id
    initial = {"pathway": planned} if planned in dict(forms.PATHWAY_CHOICES) else {}
    form = forms.ReferralForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST":
        if form.is_valid():
            try:
                referral = services.referral_create(
                    admission=admission, by=request.user, **form.cleaned_data
                )
            except ValidationError as error:
                form.add_service_error(error)
            else:
                messages.success(request, "Referred to the care transfer hub.")
                return redirect("pathways:referral", referral.pk)
        status = 422
    else:
        status = 200
        log_shown(request, [admission.patient_id])
    return render(
        request, "pathways/refer.html", {"admission": admission, "form": form}, status=status
    )


# --- The referral page ------------------------------------------------------------------------


def _referral_context(request: HttpRequest, referral: Referral, **failed) -> dict:
    """The page: the referral, the steps this user may take (each with its form) and the delay."""
    actions = selectors.actions_available(request.user, referral)
    options = selectors.services_for_offer(referral) if Action.OFFER in actions else []
    step_forms = []
    for action in actions:
        form = failed.get("forms", {}).get(action) or forms.step_form(
            action, referral, options=options
        )
        step_forms.append((action, form))
    # A refused step that is not offered from here (the page was out of date) has no form to
    # show its errors beside: say them at the top instead.
    unavailable_errors = [
        error
        for action, form in failed.get("forms", {}).items()
        if action not in actions and not failed.get("conflict")
        for error in form.non_field_errors() or [f"You cannot '{action.label.lower()}' now."]
    ]
    actors = referral_actors(request.user, referral)
    admission = referral.admission
    open_delay = (
        selectors.open_delay_of(admission) if referral.state in IN_HOSPITAL_STATES else None
    )
    # A refused delay reason is shown with its error even when the form would not be offered now.
    delay_form = failed.get("delay_form")
    if delay_form is None and (
        actors & {Actor.WARD, Actor.HUB}
        and referral.state in IN_HOSPITAL_STATES
        and admission.discharge_ready_date
    ):
        proposed = referral.proposed_delay_reason_id or (open_delay.reason_id if open_delay else "")
        delay_form = forms.DelayReasonForm(
            initial={"expected_version": admission.version, "reason": proposed},
            reasons=delay_reasons_for(referral.pathway_id),
        )
    return {
        "referral": referral,
        "admission": admission,
        "patient": admission.patient,
        "step_forms": step_forms,
        "unavailable_errors": unavailable_errors,
        "open_delay": open_delay,
        "suggestion": selectors.delay_reason_suggestion(referral, open_delay),
        "delay_form": delay_form,
        "conflict": failed.get("conflict"),
        "failed_action": failed.get("action"),
        **_status_poll(request, referral),
    }


def _status_poll(request: HttpRequest, referral: Referral) -> dict:
    return {
        "etag": etag_of(request.user.pk, referral.pk, referral.version, referral.updated_at),
        "poll_seconds": POLL_SECONDS,
    }


@require_GET
def referral(request: HttpRequest, referral_id: int) -> HttpResponse:
    """A referral: where it stands, what was sent, its history and the next steps."""
    referral = _referral(request, referral_id)
    log_shown(request, [referral.admission.patient_id])
    return render(request, REFERRAL, _referral_context(request, referral))


@require_GET
def referral_status(request: HttpRequest, referral_id: int) -> HttpResponse:
    """The referral page's status panel, polled: 304 while nothing changed."""
    referral = _referral(request, referral_id)
    context = {"referral": referral, **_status_poll(request, referral)}
    return polled(
        request,
        etag=context["etag"],
        render=lambda: render(request, f"{REFERRAL}#status", context),
    )


def _after_step(request: HttpRequest, referral_id: int) -> HttpResponse:
    """Back to the referral, or to the tracker when the user may no longer see it (a decline)."""
    if selectors.referral_for(user=request.user, referral_id=referral_id) is None:
        return redirect("pathways:tracker")
    return redirect("pathways:referral", referral_id)


@require_POST
def referral_step(request: HttpRequest, referral_id: int, action: str) -> HttpResponse:
    """Take one step from the referral page; errors beside the field (422), a stale step 409."""
    referral = _referral(request, referral_id)
    action = _action(action)
    options = selectors.services_for_offer(referral) if action == Action.OFFER else []
    form = forms.step_form(action, referral, data=request.POST, options=options)
    if not form.is_valid():
        return _step_failed(request, referral, action, form, status=422)
    try:
        services.referral_transition(
            referral=referral, by=request.user, action=action, **form.cleaned_data
        )
    except services.StaleReferral as stale:
        return _step_conflict(request, stale.current, action)
    except ValidationError as error:
        form.add_service_error(error)
        return _step_failed(request, referral, action, form, status=422)
    messages.success(request, f"Saved: {action.label.lower()}.")
    return _after_step(request, referral_id)


def _step_failed(request, referral, action, form, *, status: int) -> HttpResponse:
    context = _referral_context(request, referral, forms={action: form}, action=action)
    return render(request, REFERRAL, context, status=status)


def _step_conflict(request: HttpRequest, current: Referral, action: Action) -> HttpResponse:
    """Someone moved the referral on first: show where it stands now; nothing of ours was saved."""
    referral = _referral(request, current.pk)
    data = request.POST.copy()
    data[f"{action.value}-expected_version"] = str(referral.version)
    form = forms.step_form(action, referral, data=data)
    form.is_valid()
    conflict = {
        "by": referral.updated_by.display_name if referral.updated_by else "someone else",
        "at": referral.updated_at,
        "state": referral.get_state_display(),
    }
    context = _referral_context(
        request, referral, forms={action: form}, action=action, conflict=conflict
    )
    return render(request, REFERRAL, context, status=409)


@require_POST
def referral_delay(request: HttpRequest, referral_id: int) -> HttpResponse:
    """Confirm or change the delay reason from the referral page or a hub queue row."""
    referral = _referral(request, referral_id)
    form = forms.DelayReasonForm(request.POST, reasons=delay_reasons_for(referral.pathway_id))
    status = 422
    if form.is_valid():
        try:
            services.referral_delay_reason_confirm(
                referral=referral, by=request.user, **form.cleaned_data
            )
        except StaleEdit:
            status = 409
            form.add_error(
                None,
                "Someone changed this patient's record first: check the reason and save again.",
            )
        except ValidationError as error:
            form.add_service_error(error)
        else:
            if request.htmx:
                return _queue_row(request, referral_id, saved=True)
            messages.success(request, "Saved: delay reason.")
            return redirect("pathways:referral", referral_id)
    if request.htmx:
        return _queue_row(
            request, referral_id, error=form.non_field_errors() or form.errors, status=status
        )
    context = _referral_context(request, referral, delay_form=form)
    return render(request, REFERRAL, context, status=status)


@require_POST
def at_home_record(request: HttpRequest, referral_id: int) -> HttpResponse:
    """Record the 91-day check: is the person still at home?"""
    referral = _referral(request, referral_id)
    form = forms.AtHomeForm(request.POST)
    if form.is_valid():
        try:
            services.referral_at_home_91_days_record(
                referral=referral,
                by=request.user,
                at_home=form.cleaned_data["at_home"],
                expected_version=form.cleaned_data["expected_version"],
            )
        except services.StaleReferral:
            messages.error(request, "Someone recorded this check first; it is shown below.")
            return redirect("pathways:referral", referral_id)
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(
                request, f"Saved: 91-day check for {referral.admission.patient.full_name}."
            )
            return redirect("pathways:at_home_checks")
    due = selectors.due_at_home_checks(user=request.user)
    return _page(
        request,
        "pathways/at_home_checks.html",
        {"referrals": due or [], "failed": referral.pk, "form": form},
        status=422,
    )


# --- The patient page and the ward board ------------------------------------------------------


@require_GET
def admission_referrals(request: HttpRequest, admission_id: int) -> HttpResponse:
    """The patient page's transfer-of-care section for one admission, polled: 304 while unchanged."""
    admission = get_object_or_404(
        discharge_selectors.admissions_visible_to(request.user).select_related("site", "patient"),
        pk=admission_id,
    )
    version = selectors.referrals_for_admission_version(request.user, admission)
    etag = etag_of(request.user.pk, admission.pk, admission.status, *version)

    def section() -> HttpResponse:
        referrals = selectors.referrals_for_admission(request.user, admission)
        context = {
            "admission": admission,
            "referrals": referrals,
            "can_refer": selectors.can_refer(request.user, admission, referrals),
            "etag": etag,
            "poll_seconds": POLL_SECONDS,
        }
        return render(request, "pathways/includes/admission_referrals.html", context)

    return polled(request, etag=etag, render=section)


@require_GET
def ward_referral_statuses(request: HttpRequest, ward_id: int) -> HttpResponse:
    """Every board row's transfer-of-care status, swapped in out of band; 304 while unchanged."""
    ward = get_object_or_404(wards_visible_to(request.user), pk=ward_id)
    version = selectors.ward_referrals_version(user=request.user, ward=ward)
    etag = etag_of(request.user.pk, ward.pk, *version)

    def statuses() -> HttpResponse:
        rows = selectors.ward_status_rows(user=request.user, ward=ward)
        log_shown(request, (row.admission.patient_id for row in rows))
        context = {"ward": ward, "rows": rows, "transfer_etag": etag}
        return render(request, "pathways/ward_statuses.html", context)

    return polled(request, etag=etag, render=statuses)


class _Saved:
    """What the board row says it saved."""

    title = "Delay reason"


SUGGESTION_CHANGED = (
    "Not confirmed: the suggestion or the delay reason changed since your board showed it. "
    "Check it below and confirm again."
)


@require_POST
def board_delay_confirm(request: HttpRequest, admission_id: int) -> HttpResponse:
    """Confirm the suggested delay reason from a board row, and re-render the row."""
    admission = discharge_selectors.board_admission_for_edit(
        user=request.user, admission_id=admission_id
    )
    referral = admission.open_referrals[0] if admission and admission.open_referrals else None
    if referral is None or referral.proposed_delay_reason_id is None:
        raise Http404("No referral suggests a delay reason for this patient.")
    status, extra = 200, {"saved_edit": _Saved}
    try:
        services.board_suggestion_confirm(
            admission=admission,
            by=request.user,
            reason_shown=request.POST.get("reason", ""),
            delay_shown=request.POST.get("delay", ""),
        )
    except services.SuggestionChanged:
        status, extra = 409, {"confirm_problem": SUGGESTION_CHANGED}
    except ValidationError as error:
        status, extra = 422, {"confirm_problem": " ".join(error.messages)}
    fresh = discharge_selectors.board_admission_for_edit(
        user=request.user, admission_id=admission_id
    )
    row = discharge_selectors.board_row_for(fresh, timezone.localdate())
    response = render(request, "discharge/board.html#patient", {"row": row, **extra}, status=status)
    if status == 200:
        response["HX-Trigger"] = "boardChanged"
    return response


# --- The hub queue ----------------------------------------------------------------------------


def _queue_rows_url(request: HttpRequest) -> str:
    query = request.GET.urlencode()
    return reverse("pathways:hub_queue_rows") + (f"?{query}" if query else "")


@require_GET
def hub_queue(request: HttpRequest) -> HttpResponse:
    """Every open referral the user's hub works on, longest wait at its stage first."""
    queue = selectors.hub_queue(user=request.user, params=request.GET)
    if queue is None:
        raise Http404("The hub queue is for the care transfer hub.")
    etag = etag_of(
        request.user.pk,
        request.GET.urlencode(),
        *selectors.hub_queue_version(user=request.user, params=request.GET),
    )
    context = {
        "queue": queue,
        "rows_url": _queue_rows_url(request),
        "etag": etag,
        "poll_seconds": POLL_SECONDS,
    }
    _log_queue(request, queue)
    return _page(request, QUEUE, context)


@require_GET
def hub_queue_rows(request: HttpRequest) -> HttpResponse:
    """The queue's rows, polled with the page's filters: 304 while nothing changed."""
    version = selectors.hub_queue_version(user=request.user, params=request.GET)
    if not version:
        raise Http404("The hub queue is for the care transfer hub.")
    etag = etag_of(request.user.pk, request.GET.urlencode(), *version)

    def rows() -> HttpResponse:
        queue = selectors.hub_queue(user=request.user, params=request.GET)
        context = {
            "queue": queue,
            "rows_url": _queue_rows_url(request),
            "etag": etag,
            "poll_seconds": POLL_SECONDS,
        }
        _log_queue(request, queue)
        return render(request, f"{QUEUE}#rows", context)

    return polled(request, etag=etag, render=rows)


def _log_queue(request: HttpRequest, queue: selectors.HubQueue) -> None:
    log_shown(request, (row.referral.admission.patient_id for row in queue.rows))


def _queue_row(
    request: HttpRequest, referral_id: int, *, status: int = 200, **extra
) -> HttpResponse:
    """One queue row, after a delay reason was confirmed from it."""
    row = selectors.hub_queue_row(user=request.user, referral_id=referral_id)
    if row is None:
        return HttpResponse(status=204)
    return render(request, f"{QUEUE}#row", {"row": row, **extra}, status=status)


# --- The tracker ------------------------------------------------------------------------------


@require_GET
def tracker(request: HttpRequest) -> HttpResponse:
    """A provider's day on a phone: offers to answer, today's people and one-tap updates."""
    show_all = request.GET.get("show") == "all"
    day = selectors.tracker(user=request.user, show_all=show_all)
    if day is None:
        raise Http404("The tracker is for provider staff.")
    shown = [*day.offers, *(card.referral for card in day.people)]
    log_shown(request, (referral.admission.patient_id for referral in shown))
    return _page(request, TRACKER, {"tracker": day})


@require_POST
def tracker_step(request: HttpRequest, referral_id: int, action: str) -> HttpResponse:
    """One tap on the tracker: first visit, care started, needs changed or readmitted."""
    referral = _referral(request, referral_id)
    action = _action(action, allowed=TRACKER_STEPS)
    form = forms.step_form(action, referral, data=request.POST)
    status, extra = 200, {"saved": action}
    if not form.is_valid():
        status, extra = 422, {"error": "; ".join(m for ms in form.errors.values() for m in ms)}
    else:
        try:
            services.referral_transition(
                referral=referral, by=request.user, action=action, **form.cleaned_data
            )
        except services.StaleReferral:
            status, extra = (
                409,
                {"error": "Someone updated this person first: check and tap again."},
            )
        except ValidationError as error:
            status, extra = 422, {"error": " ".join(error.messages)}
    if not request.htmx:
        if status == 200:
            messages.success(request, f"Saved: {action.label.lower()}.")
        else:
            messages.error(request, extra["error"])
        return redirect("pathways:tracker")
    card = selectors.tracker_card(request.user, _referral(request, referral_id))
    return render(request, f"{TRACKER}#card", {"card": card, **extra}, status=status)


# --- Capacity and checks ----------------------------------------------------------------------


@require_GET
def capacity(request: HttpRequest) -> HttpResponse:
    """Capacity against demand: each service's next seven days."""
    if not selectors.services_visible_to(request.user).exists():
        raise Http404("Capacity is for the hub and the providers.")
    overview = selectors.capacity_against_demand(user=request.user)
    managed = set(selectors.services_managed_by(request.user).values_list("pk", flat=True))
    return _page(request, "pathways/capacity.html", {"overview": overview, "managed": managed})


@require_http_methods(["GET", "POST"])
def service_capacity(request: HttpRequest, service_id: int) -> HttpResponse:
    """A provider declares what one of its services can take each day."""
    service = get_object_or_404(selectors.services_managed_by(request.user), pk=service_id)
    today = timezone.localdate()
    form = forms.CapacityForm(
        request.POST if request.method == "POST" else None, initial={"day": today}
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.capacity_set(service=service, by=request.user, **form.cleaned_data)
            except ValidationError as error:
                form.add_service_error(error)
            else:
                day = form.cleaned_data["day"]
                messages.success(request, f"Saved: {service.name} on {day:%a %d %b}.")
                return redirect("pathways:service_capacity", service.pk)
        status = 422
    context = {
        "service": service,
        "form": form,
        "days": selectors.capacity_days(service, today=today),
    }
    return _page(request, "pathways/service_capacity.html", context, status=status)


@require_GET
def at_home_checks(request: HttpRequest) -> HttpResponse:
    """Who is due a 91-day 'still at home?' check."""
    due = selectors.due_at_home_checks(user=request.user)
    if due is None:
        raise Http404("The 91-day checks are for the hub and the providers.")
    log_shown(request, (referral.admission.patient_id for referral in due))
    return _page(request, "pathways/at_home_checks.html", {"referrals": due})

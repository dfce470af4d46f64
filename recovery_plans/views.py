"""The recovery plan page and the htmx partials that co-edit it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from discharge.record_views import log_shown
from discharge.selectors import patients_visible_to
from homefirst.models import User
from recovery_plans import forms, selectors, services
from recovery_plans.models import Action, Contact, Goal, PlanReview, RecoveryPlan
from recovery_plans.sections import ALL_SECTION_KEYS, SECTIONS, SECTIONS_BY_KEY

PLAN = "recovery_plans/plan.html"


@dataclass(frozen=True)
class ItemKind:
    """A list in the plan whose items are added and co-edited one by one."""

    key: str
    model: type
    noun: str
    add_form: type
    edit_form: type
    add: Callable
    update: Callable
    fields: tuple[str, ...]


ITEM_KINDS: dict[str, ItemKind] = {
    "goals": ItemKind(
        "goals",
        Goal,
        "goal",
        forms.GoalForm,
        forms.GoalEditForm,
        services.goal_add,
        lambda item, **kw: services.goal_update(goal=item, **kw),
        services.GOAL_FIELDS,
    ),
    "actions": ItemKind(
        "actions",
        Action,
        "action",
        forms.ActionForm,
        forms.ActionEditForm,
        services.action_add,
        lambda item, **kw: services.action_update(action=item, **kw),
        services.ACTION_FIELDS,
    ),
    "contacts": ItemKind(
        "contacts",
        Contact,
        "contact",
        forms.ContactForm,
        forms.ContactEditForm,
        services.contact_add,
        lambda item, **kw: services.contact_update(contact=item, **kw),
        services.CONTACT_FIELDS,
    ),
    "reviews": ItemKind(
        "reviews",
        PlanReview,
        "review date",
        forms.ReviewForm,
        forms.ReviewEditForm,
        services.review_add,
        lambda item, **kw: services.review_update(review=item, **kw),
        services.REVIEW_FIELDS,
    ),
}


def _view(request: HttpRequest, plan_id: int) -> selectors.PlanView:
    view = selectors.plan_for_page(user=request.user, plan_id=plan_id)
    if view is None:
        raise Http404("No such plan.")
    return view


def _abilities(request: HttpRequest, plan: RecoveryPlan) -> dict:
    """What this person may do on the plan, worked out once for the template."""
    family = selectors.is_family_on(plan, request.user)
    active = plan.status == RecoveryPlan.Status.ACTIVE
    staff = active and not family and selectors.is_staff_member(request.user)
    editable = {s.key for s in SECTIONS if staff or (active and family and s.family_may_edit)}
    return {"is_family": family, "can_edit": staff, "can_note": active, "editable_keys": editable}


def _form_kwargs(kind: ItemKind, plan: RecoveryPlan) -> dict:
    return (
        {"organisations": selectors.involved_organisations(plan)} if kind.key == "actions" else {}
    )


def _render_section(
    request: HttpRequest, plan_id: int, key: str, *, status: int = 200, trigger: str = "", **extra
) -> HttpResponse:
    view = _view(request, plan_id)
    context = {
        "view": view,
        "block": view.block(key),
        **_abilities(request, view.plan),
        **extra,
    }
    response = render(request, f"{PLAN}#section", context, status=status)
    if trigger:
        response["HX-Trigger"] = trigger
    return response


def _log_record_view(request: HttpRequest, plan: RecoveryPlan) -> None:
    """Opening the plan is a view of the patient's record: log who, when and from where."""
    log_shown(request, [plan.patient_id])


def _refuse_family_unless(request: HttpRequest, plan: RecoveryPlan, *, family_may: bool) -> None:
    """Refuse (403) a relative the form for a part of the plan they may not change, as its save
    would be refused: they read the whole plan but change only some sections."""
    if not family_may and selectors.is_family_on(plan, request.user):
        raise PermissionDenied("You can read this plan but not change this part of it.")


def _guarded(handler: Callable[[], HttpResponse]) -> HttpResponse:
    try:
        return handler()
    except PermissionError:
        return HttpResponseForbidden("You can read this plan but not change this part of it.")


# --- The page -------------------------------------------------------------------------------


@require_POST
def plan_start(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Start the person's plan (from the patient page or the ward board), or open the one they have."""
    patient = get_object_or_404(patients_visible_to(request.user), pk=patient_id)
    existing = selectors.active_plan_for_patient(user=request.user, patient_id=patient.pk)
    if existing is None:
        try:
            existing = services.plan_start(patient=patient, by=request.user)
        except PermissionError:
            return HttpResponseForbidden("Only staff can start a plan.")
    return redirect("recovery_plans:plan", plan_id=existing.pk)


@require_GET
def plan_detail(request: HttpRequest, plan_id: int) -> HttpResponse:
    """The whole plan, with every section and list, open for co-editing."""
    view = _view(request, plan_id)
    _log_record_view(request, view.plan)
    context = {
        "view": view,
        **_abilities(request, view.plan),
        **_poll_context(request, view.plan),
    }
    return render(request, PLAN, context)


@require_GET
def plan_print(request: HttpRequest, plan_id: int) -> HttpResponse:
    """The plan to take home: plain language, large type, contacts first."""
    view = _view(request, plan_id)
    _log_record_view(request, view.plan)
    return render(request, "recovery_plans/plan_print.html", {"view": view, "sections": SECTIONS})


@require_GET
def plan_history(request: HttpRequest, plan_id: int) -> HttpResponse:
    """Every change to the plan: who, from where, when, before and after."""
    view = _view(request, plan_id)
    _log_record_view(request, view.plan)
    return render(
        request,
        "recovery_plans/plan_history.html",
        {"view": view, "timeline": selectors.plan_timeline(view.plan)},
    )


@require_http_methods(["GET", "POST"])
def plan_close(request: HttpRequest, plan_id: int) -> HttpResponse:
    view = _view(request, plan_id)
    _refuse_family_unless(request, view.plan, family_may=False)
    if request.method == "GET":
        _log_record_view(request, view.plan)
    form = forms.CloseForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.plan_close(plan=view.plan, by=request.user, **form.cleaned_data)
            return redirect("recovery_plans:plan", plan_id=plan_id)
        except PermissionError:
            return HttpResponseForbidden("Only staff can close a plan.")
        except ValidationError as error:
            form.add_service_error(error)
    status = 422 if request.method == "POST" else 200
    return render(
        request, "recovery_plans/plan_close.html", {"view": view, "form": form}, status=status
    )


# --- Sections -------------------------------------------------------------------------------


def _section_key(key: str) -> str:
    if key not in ALL_SECTION_KEYS:
        raise Http404("No such section.")
    return key


@require_GET
def section(request: HttpRequest, plan_id: int, key: str) -> HttpResponse:
    """One section as displayed (after a change elsewhere, or Cancel)."""
    return _render_section(request, plan_id, _section_key(key))


@require_http_methods(["GET", "POST"])
def section_edit(request: HttpRequest, plan_id: int, key: str) -> HttpResponse:
    """Edit a text section; a save merges with others' edits or answers 409 with both values."""
    spec = SECTIONS_BY_KEY.get(key) or _section_key("")
    view = _view(request, plan_id)
    _refuse_family_unless(request, view.plan, family_may=spec.family_may_edit)
    form_class = forms.section_form_class(spec)
    current = view.sections[key]
    if request.method == "GET":
        form = form_class(initial={"expected_version": current.version, **current.content})
        return _render_section(request, plan_id, key, form=form, editing=True)
    form = form_class(request.POST)
    if not form.is_valid():
        return _render_section(request, plan_id, key, form=form, editing=True, status=422)
    content = {k: v for k, v in form.cleaned_data.items() if k != "expected_version"}

    def save() -> HttpResponse:
        try:
            services.section_update(
                plan=view.plan,
                key=key,
                by=request.user,
                content=content,
                expected_version=form.cleaned_data["expected_version"],
            )
        except services.PlanConflict as conflict:
            return _conflict(request, plan_id, key, form_class, conflict, labels=dict(spec.fields))
        except ValidationError as error:
            form.add_service_error(error)
            return _render_section(request, plan_id, key, form=form, editing=True, status=422)
        services.lease_release(plan=view.plan, section=key, user=request.user)
        return _render_section(request, plan_id, key, saved=True, trigger="planSaved")

    return _guarded(save)


def _conflict(
    request,
    plan_id,
    key,
    form_class,
    conflict: services.PlanConflict,
    *,
    labels: dict,
    item=None,
    **form_kwargs,
) -> HttpResponse:
    """409: nothing saved; show theirs beside mine, the form ready to resubmit.

    The form holds the editor's values where the edits clash, and the others' saved changes
    everywhere else, so saving it again keeps both.
    """
    data = request.POST.copy()
    for name, value in conflict.proposed.items():
        _form_value(data, name, value)
    data["expected_version"] = str(conflict.current.version)
    form = form_class(data, **form_kwargs)
    form.is_valid()
    clashes = [
        {
            "field": name,
            "label": labels.get(name, name),
            "theirs": conflict.theirs.get(name),
            "mine": conflict.mine.get(name),
        }
        for name in conflict.conflicts
    ]
    return _render_section(
        request,
        plan_id,
        key,
        form=form,
        editing=True,
        item=item,
        status=409,
        conflict={"by": conflict.by, "at": conflict.at, "clashes": clashes},
    )


def _form_value(data, name: str, value) -> None:
    """Put a saved value into posted form data as a browser would send it."""
    if value is False:
        data.pop(name, None)  # an unticked box is not sent at all
    elif value is None:
        data[name] = ""
    elif value is True:
        data[name] = "on"
    elif isinstance(value, Model):
        data[name] = str(value.pk)
    elif isinstance(value, dt.date):
        data[name] = value.isoformat()
    else:
        data[name] = str(value)


# --- Lists: goals, actions, contacts, review dates --------------------------------------------


def _kind(kind: str) -> ItemKind:
    if kind not in ITEM_KINDS:
        raise Http404("No such list.")
    return ITEM_KINDS[kind]


@require_http_methods(["GET", "POST"])
def item_add(request: HttpRequest, plan_id: int, kind: str) -> HttpResponse:
    item_kind = _kind(kind)
    view = _view(request, plan_id)
    _refuse_family_unless(request, view.plan, family_may=False)
    form = item_kind.add_form(
        request.POST if request.method == "POST" else None, **_form_kwargs(item_kind, view.plan)
    )
    if request.method == "GET":
        return _render_section(request, plan_id, kind, form=form, adding=True)
    if not form.is_valid():
        return _render_section(request, plan_id, kind, form=form, adding=True, status=422)

    def save() -> HttpResponse:
        try:
            item_kind.add(plan=view.plan, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_service_error(error)
            return _render_section(request, plan_id, kind, form=form, adding=True, status=422)
        return _render_section(request, plan_id, kind, saved=True, trigger="planSaved")

    return _guarded(save)


@require_http_methods(["GET", "POST"])
def item_edit(request: HttpRequest, plan_id: int, kind: str, item_id: int) -> HttpResponse:
    item_kind = _kind(kind)
    view = _view(request, plan_id)
    item = get_object_or_404(item_kind.model.objects.filter(plan=view.plan), pk=item_id)
    _refuse_family_unless(request, view.plan, family_may=False)
    form_kwargs = _form_kwargs(item_kind, view.plan)
    if request.method == "GET":
        initial = {name: getattr(item, name) for name in item_kind.fields}
        if kind == "actions":
            initial["owner_organisation"] = item.owner_organisation_id
        form = item_kind.edit_form(
            initial={"expected_version": item.version, **initial}, **form_kwargs
        )
        return _render_section(request, plan_id, kind, form=form, item=item)
    form = item_kind.edit_form(request.POST, **form_kwargs)
    if not form.is_valid():
        return _render_section(request, plan_id, kind, form=form, item=item, status=422)
    values = {k: v for k, v in form.cleaned_data.items() if k != "expected_version"}

    def save() -> HttpResponse:
        try:
            item_kind.update(
                item,
                by=request.user,
                expected_version=form.cleaned_data["expected_version"],
                **values,
            )
        except services.PlanConflict as conflict:
            labels = {name: field.label for name, field in form.fields.items()}
            return _conflict(
                request,
                plan_id,
                kind,
                item_kind.edit_form,
                conflict,
                labels=labels,
                item=item,
                **form_kwargs,
            )
        except ValidationError as error:
            form.add_service_error(error)
            return _render_section(request, plan_id, kind, form=form, item=item, status=422)
        return _render_section(request, plan_id, kind, saved=True, trigger="planSaved")

    return _guarded(save)


@require_POST
def progress_note_add(request: HttpRequest, plan_id: int, goal_id: int) -> HttpResponse:
    """Note progress on a goal (the family may too)."""
    view = _view(request, plan_id)
    goal = get_object_or_404(Goal.objects.filter(plan=view.plan), pk=goal_id)
    form = forms.ProgressNoteForm(request.POST)
    if form.is_valid():
        try:
            services.goal_progress_note_add(goal=goal, by=request.user, **form.cleaned_data)
            return _render_section(request, plan_id, "goals", saved=True, trigger="planSaved")
        except ValidationError as error:
            form.add_service_error(error)
    return _render_section(request, plan_id, "goals", note_form=form, note_goal=goal.pk, status=422)


@require_POST
def comment_add(request: HttpRequest, plan_id: int, key: str) -> HttpResponse:
    """Comment on a section (the family may too)."""
    key = _section_key(key)
    view = _view(request, plan_id)
    form = forms.CommentForm(request.POST)
    if form.is_valid():
        try:
            services.comment_add(plan=view.plan, by=request.user, section=key, **form.cleaned_data)
            return _render_section(request, plan_id, key, trigger="planSaved")
        except ValidationError as error:
            form.add_service_error(error)
    return _render_section(request, plan_id, key, comment_form=form, status=422)


# --- Live updates and presence ------------------------------------------------------------------


def _etag(plan: RecoveryPlan, presence: list) -> str:
    people = ",".join(sorted(f"{p.name}:{p.section}" for p in presence))
    return f'"plan-{plan.pk}-{plan.revision}-{abs(hash(people)) % 10**8}"'


def _poll_context(request: HttpRequest, plan: RecoveryPlan) -> dict:
    presence = selectors.presence_on(plan=plan, user=request.user)
    return {
        "plan": plan,
        "revision": plan.revision,
        "presence": presence,
        "etag": _etag(plan, presence),
    }


@require_GET
def poll(request: HttpRequest, plan_id: int) -> HttpResponse:
    """Answer 304 while nothing changed; otherwise the fresh presence list, and an event per
    section changed since the page's revision so only those sections re-render."""
    plan = get_object_or_404(selectors.plans_visible_to(request.user), pk=plan_id)
    context = _poll_context(request, plan)
    if request.headers.get("If-None-Match") == context["etag"]:
        response = HttpResponse(status=304)
        response["ETag"] = context["etag"]
        return response
    try:
        since = int(request.GET.get("since", plan.revision))
    except ValueError:
        since = plan.revision
    changed = selectors.sections_changed_since(plan=plan, revision=since)
    response = render(request, f"{PLAN}#poller", context)
    response["ETag"] = context["etag"]
    if changed:
        response["HX-Trigger"] = ", ".join(f"plan-{key}" for key in changed)
    return response


@require_POST
def presence(request: HttpRequest, plan_id: int, key: str) -> HttpResponse:
    """Renew (or with ``leaving``, release) the user's lease on a section they have open."""
    key = _section_key(key)
    plan = get_object_or_404(selectors.plans_visible_to(request.user), pk=plan_id)
    spec = SECTIONS_BY_KEY.get(key)
    # A relative is never "editing" a part they may not change.
    _refuse_family_unless(request, plan, family_may=bool(spec and spec.family_may_edit))
    if request.POST.get("leaving"):
        # Cancel: let go of the section and show it as it now is.
        services.lease_release(plan=plan, section=key, user=request.user)
        return _render_section(request, plan_id, key)
    services.lease_renew(plan=plan, section=key, user=request.user)
    return HttpResponse(status=204)


# --- People ---------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def people(request: HttpRequest, plan_id: int) -> HttpResponse:
    """Who is on the plan; add a colleague or invite a family member or unpaid carer."""
    view = _view(request, plan_id)
    if request.method == "GET":
        _log_record_view(request, view.plan)
    abilities = _abilities(request, view.plan)
    invite_form = forms.InviteForm(request.POST if "invite" in request.POST else None)
    staff_form = forms.AddStaffForm(request.POST if "add_staff" in request.POST else None)
    context = {"view": view, "invite_form": invite_form, "staff_form": staff_form, **abilities}
    if request.method == "POST" and not abilities["can_edit"]:
        return HttpResponseForbidden("Only staff can add people to a plan.")
    if request.method == "POST" and "invite" in request.POST and invite_form.is_valid():
        accept_url = request.build_absolute_uri(
            reverse("recovery_plans:invitation", args=["TOKEN"])
        )
        try:
            invited = services.family_invite(
                plan=view.plan,
                by=request.user,
                accept_url=accept_url.replace("TOKEN", "{token}"),
                **invite_form.cleaned_data,
            )
            context["invitation_link"] = accept_url.replace("TOKEN", invited.token)
            context["invited"] = invited.invitation
            context["invite_form"] = forms.InviteForm()
        except ValidationError as error:
            invite_form.add_service_error(error)
    elif request.method == "POST" and "add_staff" in request.POST and staff_form.is_valid():
        colleague = User.objects.filter(username=staff_form.cleaned_data["username"]).first()
        if colleague is None:
            staff_form.add_error("username", "There is no one with that username.")
        else:
            try:
                services.participant_add(plan=view.plan, by=request.user, user=colleague)
                return redirect("recovery_plans:people", plan_id=plan_id)
            except ValidationError as error:
                staff_form.add_error("username", error.messages)
    has_errors = invite_form.errors or staff_form.errors
    status = 422 if request.method == "POST" and has_errors else 200
    return render(request, "recovery_plans/people.html", context, status=status)


@login_not_required
@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """A family member follows their link, sets up an account and lands on the plan."""
    try:
        invitation = services.family_invitation_find(token)
    except ValidationError as error:
        return render(
            request,
            "recovery_plans/invitation_invalid.html",
            {"message": error.messages[0]},
            status=410,
        )
    form = forms.AcceptInvitationForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.family_invitation_accept(
                token=token,
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password"],
            )
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect("recovery_plans:plan", plan_id=invitation.plan_id)
        except ValidationError as error:
            form.add_service_error(error)
    status = 422 if request.method == "POST" else 200
    return render(
        request,
        "recovery_plans/invitation_accept.html",
        {"invitation": invitation, "form": form},
        status=status,
    )

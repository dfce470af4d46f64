"""Ward board pages and the htmx partials that edit one row in place."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import groupby

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from discharge import forms, record_views, selectors, services
from discharge.models import Admission
from discharge.selectors import BoardFilter, BoardSort
from homefirst.selectors import wards_visible_to
from recovery_plans import selectors as plan_selectors

BOARD = "discharge/board.html"


def _choice(value: str | None, enum_type, default):
    try:
        return enum_type(value)
    except ValueError:
        return default


def _board_params(request: HttpRequest) -> dict:
    """Filters and sort order from the query string; unknown values fall back to the defaults."""
    pathway = request.GET.get("pathway", "")
    return {
        "show": _choice(request.GET.get("show"), BoardFilter, BoardFilter.ALL),
        "pathway": pathway if pathway in {"0", "1", "2", "3"} else None,
        "sort": _choice(request.GET.get("sort"), BoardSort, BoardSort.BED),
    }


@require_GET
def site_overview(request: HttpRequest) -> HttpResponse:
    """Every ward the user may open, grouped by site, with its board counts."""
    overview = selectors.site_overview(user=request.user)
    sites = [(site, list(wards)) for site, wards in groupby(overview, key=lambda o: o.ward.site)]
    return render(request, "discharge/site_overview.html", {"sites": sites})


def _ward(request: HttpRequest, ward_id: int):
    return get_object_or_404(wards_visible_to(request.user).select_related("site"), pk=ward_id)


def _board_context(request: HttpRequest, ward_id: int) -> dict:
    """The ward, its filtered rows and its counts: what the board and its printout share."""
    ward = _ward(request, ward_id)
    params = _board_params(request)
    return {
        "ward": ward,
        "params": params,
        "rows": selectors.ward_board(user=request.user, ward=ward, **params),
        "summary": selectors.board_summary(user=request.user, ward=ward),
    }


@require_GET
def board(request: HttpRequest, ward_id: int) -> HttpResponse:
    """The ward board: one row per current inpatient."""
    context = _board_context(request, ward_id)
    _log_rows(request, context["rows"])
    return render(request, BOARD, {**context, "filters": BoardFilter, "sorts": BoardSort})


@require_GET
def board_print(request: HttpRequest, ward_id: int) -> HttpResponse:
    """The board for the board round, on paper."""
    context = _board_context(request, ward_id)
    _log_rows(request, context["rows"])
    return render(
        request, "discharge/board_print.html", {**context, "printed_at": timezone.localtime()}
    )


def _log_rows(request: HttpRequest, rows: list[selectors.BoardRow]) -> None:
    """Every patient named on the board was shown to this user: log them in one insert."""
    record_views.log_shown(request, (row.admission.patient_id for row in rows))


@require_GET
def board_summary_partial(request: HttpRequest, ward_id: int) -> HttpResponse:
    """The board's counts, refreshed after every row save (HX-Trigger: boardChanged)."""
    ward = _ward(request, ward_id)
    summary = selectors.board_summary(user=request.user, ward=ward)
    return render(request, f"{BOARD}#summary", {"ward": ward, "summary": summary})


# --- Row edits ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowEdit:
    """One kind of inline edit: its form, how to fill it, and the service that saves it."""

    name: str
    title: str
    form: Callable[..., forms.VersionedForm]
    initial: Callable[[Admission], dict]
    save: Callable[..., object]
    current_value: Callable[[selectors.BoardRow], str]


def _ctr_form(*args, **kwargs) -> forms.CtrReviewForm:
    return forms.CtrReviewForm(*args, criteria=selectors.active_criteria(), **kwargs)


def _delay_form(admission: Admission) -> Callable[..., forms.DelayForm]:
    reasons = selectors.delay_reasons_for(admission.planned_pathway_id)
    return lambda *args, **kwargs: forms.DelayForm(*args, reasons=reasons, **kwargs)


def _ctr_value(row: selectors.BoardRow) -> str:
    review = row.admission.latest_review
    if review is None:
        return "not reviewed"
    status = {
        "meets": "meets the criteria",
        "nctr": "no longer meets the criteria",
        "exception": "clinical exception",
    }[row.ctr_status.value]
    return f"{status} (reviewed {timezone.localtime(review.reviewed_at):%d %b %H:%M})"


EDITS: dict[str, RowEdit] = {
    "ctr": RowEdit(
        name="ctr",
        title="Criteria to reside review",
        form=_ctr_form,
        initial=lambda a: {},
        save=services.ctr_review_record,
        current_value=_ctr_value,
    ),
    "edd": RowEdit(
        name="edd",
        title="Expected date of discharge",
        form=forms.EddForm,
        initial=lambda a: {"expected_discharge_date": a.expected_discharge_date},
        save=services.edd_set,
        current_value=lambda r: (
            f"{r.admission.expected_discharge_date:%d %b %Y}"
            if r.admission.expected_discharge_date
            else "not set"
        ),
    ),
    "pathway": RowEdit(
        name="pathway",
        title="Planned pathway",
        form=forms.PathwayForm,
        initial=lambda a: {"pathway": a.planned_pathway_id},
        save=services.planned_pathway_set,
        current_value=lambda r: str(r.admission.planned_pathway or "not set"),
    ),
    "delay": RowEdit(
        name="delay",
        title="Delay reason",
        form=forms.DelayForm,  # replaced per admission by _delay_form
        initial=lambda a: {},
        save=services.delay_reason_set,
        current_value=lambda r: r.open_delay.reason.reason if r.open_delay else "none recorded",
    ),
    "discharge": RowEdit(
        name="discharge",
        title="Record the discharge",
        form=forms.DischargeForm,
        initial=lambda a: {
            "discharged_at": timezone.localtime().replace(second=0, microsecond=0),
            "actual_pathway": a.planned_pathway_id,
        },
        save=services.admission_discharge,
        current_value=lambda r: r.admission.get_status_display(),
    ),
}


def _editable(request: HttpRequest, admission_id: int, *, for_save: bool = False) -> Admission:
    find = selectors.admission_for_save if for_save else selectors.board_admission_for_edit
    admission = find(user=request.user, admission_id=admission_id)
    if admission is None:
        raise Http404("No such patient on your wards.")
    return admission


def _render_row(
    request: HttpRequest, admission: Admission, *, status: int = 200, **extra
) -> HttpResponse:
    row = selectors.board_row_for(admission, timezone.localdate())
    return render(request, f"{BOARD}#patient", {"row": row, **extra}, status=status)


@require_GET
def row(request: HttpRequest, admission_id: int) -> HttpResponse:
    """One board row, as displayed (used by Cancel)."""
    admission = _editable(request, admission_id)
    record_views.log_shown(request, [admission.patient_id])
    return _render_row(request, admission)


def _row_edit(request: HttpRequest, admission_id: int, edit: RowEdit) -> HttpResponse:
    """GET shows the inline form in the row; POST saves through the service and re-renders the row."""
    # A save needs only the admission's identity (its service locks and re-reads the row): the
    # board row's joins and prefetches are loaded once, for the row rendered after it.
    admission = _editable(request, admission_id, for_save=request.method == "POST")
    make_form = _delay_form(admission) if edit.name == "delay" else edit.form
    if request.method == "GET":
        record_views.log_shown(request, [admission.patient_id])
        form = make_form(initial={"expected_version": admission.version, **edit.initial(admission)})
        return _render_row(request, admission, edit=edit, form=form)

    form = make_form(request.POST)
    if not form.is_valid():
        return _render_row(
            request, _editable(request, admission_id), edit=edit, form=form, status=422
        )
    try:
        edit.save(admission=admission, by=request.user, **form.cleaned_data)
    except services.StaleEdit:
        return _conflict(request, admission_id, edit, make_form)
    except ValidationError as error:
        form.add_service_error(error)
        return _render_row(
            request, _editable(request, admission_id), edit=edit, form=form, status=422
        )

    saved = selectors.board_admission_for_edit(user=request.user, admission_id=admission_id)
    response = _render_row(request, saved, saved_edit=edit)
    response["HX-Trigger"] = "boardChanged"
    return response


def _conflict(request: HttpRequest, admission_id: int, edit: RowEdit, make_form) -> HttpResponse:
    """Someone saved first: show their value beside ours; ours is kept in the form, unsaved."""
    current = _editable(request, admission_id)
    data = request.POST.copy()
    data["expected_version"] = str(current.version)
    form = make_form(data)
    form.is_valid()
    row = selectors.board_row_for(current, timezone.localdate())
    conflict = {
        "by": current.updated_by.display_name if current.updated_by else "someone else",
        "at": current.updated_at,
        "value": edit.current_value(row),
    }
    return render(
        request,
        f"{BOARD}#patient",
        {"row": row, "edit": edit, "form": form, "conflict": conflict},
        status=409,
    )


def _edit_view(name: str):
    edit = EDITS[name]

    @require_http_methods(["GET", "POST"])
    def view(request: HttpRequest, admission_id: int) -> HttpResponse:
        return _row_edit(request, admission_id, edit)

    view.__name__ = view.__qualname__ = f"row_{name}"
    view.__doc__ = f"Inline edit of a board row: {edit.title.lower()}."
    return view


row_ctr = _edit_view("ctr")
row_edd = _edit_view("edd")
row_pathway = _edit_view("pathway")
row_delay = _edit_view("delay")
row_discharge = _edit_view("discharge")


# --- The patient page -----------------------------------------------------------------------


@require_GET
def patient_detail(request: HttpRequest, patient_id: int) -> HttpResponse:
    """A patient's record: details, each visible admission's timeline and the audit history."""
    patient = get_object_or_404(
        selectors.patients_visible_to(request.user).select_related("local_authority"), pk=patient_id
    )
    admissions = list(
        selectors.admissions_visible_to(request.user)
        .filter(patient=patient)
        .select_related("site", "current_ward", "planned_pathway", "actual_pathway")
        .order_by("-admitted_at")
    )
    record_views.log_shown(request, [patient.pk])
    context = {
        "patient": patient,
        "age": patient.age_on(timezone.localdate()),
        **_recovery_plan_context(request, patient),
        "admissions": [(a, selectors.admission_timeline(a)) for a in admissions],
        "audit": selectors.audit_history(patient, admissions),
    }
    return render(request, "discharge/patient_detail.html", context)


def _recovery_plan_context(request: HttpRequest, patient) -> dict:
    """The patient's active recovery plan, if the user may open it, and its overdue actions."""
    plan = plan_selectors.active_plan_for_patient(user=request.user, patient_id=patient.pk)
    if plan is None:
        return {"plan": None}
    flags = plan_selectors.plan_flags_for_patients([patient.pk], timezone.localdate())
    return {"plan": plan, "plan_overdue": flags.get(patient.pk, (None, 0))[1]}

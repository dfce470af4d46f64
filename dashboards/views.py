"""Dashboard pages, the freshness partial and the exports: parse the URL, call, render."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import wraps
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from dashboards import exports, page, selectors
from dashboards.figures import PATHWAYS
from dashboards.forms import RangeForm
from dashboards.metrics import METRICS
from dashboards.selectors import DashboardAccess, Filters, Freshness
from homefirst.polling import etag_of, polled

TEMPLATE = "dashboards/index.html"
FORMATS = {"csv", "xlsx"}


@dataclass(frozen=True)
class View:
    """The user's access and the view the URL asks for."""

    access: DashboardAccess
    filters: Filters
    form: RangeForm
    options: page.Choices

    def params(self, **changes) -> dict[str, str]:
        """The URL parameters of this view, with some changed (a drill-down, a new range)."""
        f = self.filters
        place = f"ward-{f.ward.pk}" if f.ward else f"site-{f.site.pk}" if f.site else ""
        params = {
            "start": f.start.isoformat(),
            "end": f.end.isoformat(),
            "place": place,
            "council": f.council.pk if f.council else "",
            "pathway": f.pathway or "",
        }
        params.update(changes)
        return {k: str(v) for k, v in params.items() if v not in ("", None)}

    def url(self, name: str = "dashboards:index", *args, **changes) -> str:
        query = urlencode(self.params(**changes))
        return f"{reverse(name, args=args)}?{query}" if query else reverse(name, args=args)


def _pick(items, raw: str | None):
    """The item whose id the URL names, or None; 404 when it is not one the user may open."""
    if raw in (None, ""):
        return None
    for item in items:
        if str(item.pk) == raw:
            return item
    raise Http404("No such place in your dashboards.")


def _place(options: page.Choices, raw: str | None):
    """The site or ward named by ``place`` (``site-3``, ``ward-12``): (site, ward)."""
    if raw in (None, ""):
        return None, None
    kind, _, pk = raw.partition("-")
    if not pk:
        raise Http404("No such place in your dashboards.")
    if kind == "site":
        return _pick(options.sites, pk), None
    if kind == "ward":
        ward = _pick(options.wards, pk)
        return ward.site, ward
    raise Http404("No such place in your dashboards.")


def _view(request: HttpRequest) -> View:
    """Who is asking and what for; 404 for a user with no dashboards or a place not theirs."""
    access = selectors.dashboard_access(request.user)
    if access is None:
        raise Http404("No dashboards for this account.")
    options = page.choices(access)
    site, ward = _place(options, request.GET.get("place"))
    council = _pick(options.councils, request.GET.get("council"))
    pathway = request.GET.get("pathway") or None
    if pathway is not None and pathway not in PATHWAYS:
        raise Http404("No such pathway.")
    form = RangeForm(request.GET)
    start, end = form.range()
    filters = Filters(start=start, end=end, site=site, ward=ward, council=council, pathway=pathway)
    return View(access=access, filters=filters, form=form, options=options)


def _title(view: View) -> str:
    """What the view covers, in words: the drill-down, or the user's whole reach."""
    f, parts = view.filters, []
    if f.ward:
        parts.append(f"{f.ward.name}, {f.ward.site.name}")
    elif f.site:
        parts.append(f.site.name)
    if f.council:
        parts.append(f"residents of {f.council.name}")
    if f.pathway:
        parts.append(f"pathway {f.pathway}")
    if parts:
        return " · ".join(parts)
    if view.access.everything:
        return "Whole system"
    reach = sorted(
        {s.organisation.name for s in view.options.sites if s.pk in view.access.site_ids}
    )
    reach += [
        f"residents of {c.name}" for c in view.options.councils if c.pk in view.access.council_ids
    ]
    return " and ".join(reach)


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """The flow dashboard: the system, or a site, ward, council or pathway drilled into."""
    view = _view(request)
    data = page.dashboard(view.access, view.filters, view.options, view.url)
    f = view.filters
    context = {
        "view": view,
        "data": data,
        "freshness": data.freshness,
        "etag": _status_etag(request, view, data.freshness),
        "form": view.form,
        "title": _title(view),
        "metrics": METRICS,
        "today": timezone.localdate(),
        "status_url": view.url("dashboards:status"),
        "presets": [
            (label, view.url(start=(f.end - dt.timedelta(days=n - 1)).isoformat()))
            for label, n in (("Last 30 days", 30), ("Last 90 days", 90), ("Last year", 365))
        ],
        "system_url": view.url(place="", council="", pathway=""),
        "site_url": view.url(place=f"site-{f.site.pk}") if f.site else "",
        "exports": {
            "csv": view.url("dashboards:export", "csv"),
            "xlsx": view.url("dashboards:export", "xlsx"),
            "sitrep_csv": view.url("dashboards:sitrep", "csv"),
            "sitrep_xlsx": view.url("dashboards:sitrep", "xlsx"),
            "drd_csv": view.url("dashboards:drd_timeliness", "csv"),
            "drd_xlsx": view.url("dashboards:drd_timeliness", "xlsx"),
        },
    }
    return render(request, TEMPLATE, context, status=200 if view.form.is_valid() else 422)


def _status_etag(request: HttpRequest, view: View, freshness: Freshness) -> str:
    return etag_of(request.user.pk, view.params(), freshness.computed_at, freshness.pending)


@require_GET
def status(request: HttpRequest) -> HttpResponse:
    """When the figures were computed and whether changes wait (polled by the page; 304 if so)."""
    view = _view(request)
    freshness = selectors.freshness(view.access, view.filters)
    etag = _status_etag(request, view, freshness)
    context = {
        "freshness": freshness,
        "status_url": view.url("dashboards:status"),
        "view": view,
        "etag": etag,
    }
    return polled(request, etag=etag, render=lambda: render(request, f"{TEMPLATE}#status", context))


def _download(content: bytes, fmt: str, name: str) -> HttpResponse:
    response = HttpResponse(content, content_type=exports.CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


class BadRange(Exception):
    """The export's date range is not valid; nothing to download."""


def _export_view(request: HttpRequest, fmt: str) -> View:
    if fmt not in FORMATS:
        raise Http404("No such format.")
    view = _view(request)
    if not view.form.is_valid():
        raise BadRange(" ".join(m for ms in view.form.errors.values() for m in ms))
    return view


def _bad_range(view_function):
    """Answer 400 with the reason when an export's dates are wrong (a page shows the form)."""

    @wraps(view_function)
    def view(request: HttpRequest, fmt: str) -> HttpResponse:
        try:
            return view_function(request, fmt)
        except BadRange as error:
            return HttpResponseBadRequest(str(error), content_type="text/plain; charset=utf-8")

    return view


def _stem(kind: str, view: View) -> str:
    f = view.filters
    where = f"ward-{f.ward.pk}" if f.ward else f"site-{f.site.pk}" if f.site else "system"
    if f.council:
        where += f"-council-{f.council.pk}"
    if f.pathway:
        where += f"-pathway-{f.pathway}"
    return f"homefirst-{kind}-{where}-{f.start:%Y%m%d}-{f.end:%Y%m%d}"


@require_GET
@_bad_range
def export(request: HttpRequest, fmt: str) -> HttpResponse:
    """The view's figures, one row per day (and, in Excel, its other tables on more sheets)."""
    view = _export_view(request, fmt)
    content = exports.view_export(view.access, view.filters, fmt=fmt, title=_title(view))
    return _download(content, fmt, _stem("flow", view))


@require_GET
@_bad_range
def sitrep(request: HttpRequest, fmt: str) -> HttpResponse:
    """The last day's return in NHS England's sitrep long format, one block per trust."""
    view = _export_view(request, fmt)
    content = exports.sitrep_export(view.access, view.filters, fmt=fmt)
    return _download(content, fmt, f"homefirst-sitrep-{view.filters.end:%Y%m%d}")


@require_GET
@_bad_range
def drd_timeliness(request: HttpRequest, fmt: str) -> HttpResponse:
    """Discharge ready date timeliness per calendar month of the range."""
    view = _export_view(request, fmt)
    content = exports.drd_monthly_export(view.access, view.filters, fmt=fmt)
    return _download(content, fmt, _stem("drd-timeliness", view))

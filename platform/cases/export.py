"""The case list as a file: CSV (UTF-8 with a byte order mark, so Excel on Chinese Windows
reads it) or XLSX, exactly the cases the list shows for the same filters and viewer (registered
in formflow.tabular as "cases"; the app factory imports this).

Columns: id, process, customer code and name, state title, created at (in the app's time
zone, with its offset in CSV; a date and time in XLSX), created by, then the top-level fields
of the forms involved, titled in the user's language and valued as the case page shows them
(money with two places; a number in XLSX). Streamed: cases are read in batches, however many.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from flask_babel import gettext as _

from formflow import forms, tabular
from formflow.cases import services
from formflow.cases.listing import LIST_ARGS, filters_from, matching_count
from formflow.i18n import select_locale
from formflow.tabular import Column


@dataclass
class FieldColumn:
    name: str
    pointer: str
    title: str
    money: bool


def field_columns(filters: services.CaseFilter) -> list[FieldColumn]:
    """The top-level fields of the forms the matching cases are on, in form order (one
    column per field name; titles that differ between processes are joined)."""
    found: dict[str, FieldColumn] = {}
    for version in services.versions_matching(filters):
        for column in forms.columns(*services.form_of(version)):
            known = found.get(column.pointer)
            if known is None:
                found[column.pointer] = FieldColumn(column.name, column.pointer, column.title, column.money)
            elif column.title not in known.title.split(" / "):
                known.title += " / " + column.title
                known.money = known.money and column.money
    return list(found.values())


@dataclass
class CaseExport:
    """The filters and the form fields they bring (worked out once per export)."""

    filters: services.CaseFilter
    fields: list[FieldColumn]


def case_export(args, viewer) -> CaseExport:
    filters = filters_from(args, viewer)
    return CaseExport(filters, field_columns(filters))


def columns(chosen: CaseExport) -> list[Column]:
    fixed = [
        Column(_("Case"), "int"),
        Column(_("Process"), width=20),
        Column(_("Customer code"), width=14),
        Column(_("Customer name"), width=24),
        Column(_("State"), width=14),
        Column(_("Created"), "datetime", width=20),
        Column(_("Created by"), width=14),
    ]
    return fixed + [
        Column(field.title, "money" if field.money else "text", width=16) for field in chosen.fields
    ]


def rows(chosen: CaseExport) -> Iterator[list]:
    """One list per case: texts, and money amounts as Decimal (None: no value)."""
    locale = select_locale()
    for case in services.matching(chosen.filters):
        schema, ui_schema = services.form_of(case.version)
        filenames = {a.token: a.filename for a in case.attachments}
        shown = forms.top_level_values(forms.display(schema, ui_schema, case.data or {}), filenames)
        data = case.data if isinstance(case.data, dict) else {}
        fixed = [
            case.id,
            case.process.name(locale),
            case.customer.code,
            case.customer.name,
            services.state_title(case),
            tabular.local(case.created_at),
            case.created_by.label if case.created_by else "",
        ]
        values = []
        for column in chosen.fields:
            raw = data.get(column.name)
            exact = column.money and isinstance(raw, int | Decimal) and not isinstance(raw, bool)
            values.append(Decimal(raw) if exact and forms.money_text(raw) else shown.get(column.pointer, ""))
        yield fixed + values


def count(chosen: CaseExport) -> int:
    return matching_count(chosen.filters)


tabular.register(
    "cases",
    filters=case_export,
    columns=columns,
    rows=rows,
    count=count,
    filter_names=LIST_ARGS,
    title=lambda: _("Cases"),
    permission="cases.read",
)

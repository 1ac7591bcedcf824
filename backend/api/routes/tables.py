"""Spreadsheet tables in and out (issue 15): a portfolio as an XLSX workbook (one sheet per
table) or a ZIP of CSV files (one file per table), a template to fill in, and imports that
name every bad cell (sheet, row, column) and write all or nothing (optimizer/workbook.py).

Uploads are the raw request body, `Content-Type` the XLSX media type or `application/zip`
(`application/octet-stream` is told apart by content); the request size limit applies as to
every body, and what the upload unpacks to is limited too (a ZIP bomb gets 413).
"""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query, Request, Response
from sqlmodel import Session

from backend import crud
from backend.api.deps import CallerDep, IfMatch, PlannerDep, PortfolioId, SessionDep, SettingsDep
from backend.api.route import JsonRoute
from backend.config import Settings
from backend.errors import Invalid, PayloadTooLarge, UnsupportedMediaType
from backend.models import PortfolioPublic
from optimizer.document import PortfolioDocument, Problem
from optimizer.workbook import (
    WorkbookError,
    WorkbookTooLarge,
    diff_data,
    diff_documents,
    read_document,
    template_tables,
    to_csv_zip,
    to_xlsx,
    write_tables,
)

router = APIRouter(route_class=JsonRoute, tags=["tables"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ZIP = "application/zip"
ACCEPTED = frozenset({XLSX, ZIP, "application/x-zip-compressed", "application/octet-stream"})
UNPACKED_PER_BYTE = 40
"""What an upload may unpack to, per byte of the request size limit (XLSX and CSV compress
about 5-15 times; a ZIP bomb a million times)."""

UPLOAD = {
    "requestBody": {
        "required": True,
        "description": "An XLSX workbook or a ZIP of CSV files (GET /tables/template.xlsx).",
        "content": {
            XLSX: {"schema": {"type": "string", "format": "binary"}},
            ZIP: {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


def _binary(media_type: str, description: str) -> dict[int | str, dict[str, Any]]:
    return {
        200: {
            "content": {media_type: {"schema": {"type": "string", "format": "binary"}}},
            "description": description,
        }
    }


def _attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"'}


def _read_upload(
    request: Request, content: bytes, settings: Settings, expected_id: str | None = None
) -> PortfolioDocument:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in ACCEPTED:
        raise UnsupportedMediaType(
            f"send the workbook as {XLSX} or the CSV files as {ZIP}, not "
            f"'{kind or 'no Content-Type'}'"
        )
    if not content:
        raise Invalid("the request body is empty: send an XLSX workbook or a ZIP of CSV files")
    max_unpacked = settings.max_request_bytes * UNPACKED_PER_BYTE
    try:
        return read_document(
            content,
            limits=settings.limits(),
            max_unpacked=max_unpacked,
            expected_id=expected_id,
        )
    except WorkbookError as error:
        problems = [Problem(str(p.location), p.message) for p in error.problems]
        if isinstance(error, WorkbookTooLarge):
            raise PayloadTooLarge(str(error), problems=problems, location="workbook") from None
        raise Invalid(
            f"the tables have {len(problems)} problem(s); nothing was changed",
            problems=problems,
            location="workbook",
        ) from None


@router.get(
    "/portfolios/{portfolio_id}/tables.xlsx",
    response_class=Response,
    responses=_binary(XLSX, "One sheet per table, and a README sheet on the columns."),
)
def read_tables_xlsx(
    *, session: SessionDep, _caller: CallerDep, portfolio_id: PortfolioId
) -> Response:
    """The portfolio's tables as an Excel workbook (import it again to get the same portfolio)."""
    return _tables_file(session, portfolio_id, "xlsx")


@router.get(
    "/portfolios/{portfolio_id}/tables.zip",
    response_class=Response,
    responses=_binary(ZIP, "One CSV file per table (UTF-8 with a byte order mark, commas)."),
)
def read_tables_zip(
    *, session: SessionDep, _caller: CallerDep, portfolio_id: PortfolioId
) -> Response:
    """The portfolio's tables as a ZIP of CSV files, one per table."""
    return _tables_file(session, portfolio_id, "zip")


def _tables_file(session: Session, portfolio_id: str, kind: Literal["xlsx", "zip"]) -> Response:
    portfolio = crud.get_portfolio(session=session, portfolio_id=portfolio_id, consistent=True)
    document = crud.export_document(session=session, portfolio=portfolio)
    return Response(
        write_tables(document, kind),
        media_type=XLSX if kind == "xlsx" else ZIP,
        headers={**_attachment(f"{portfolio.id}_tables.{kind}"), "ETag": crud.etag(portfolio)},
    )


@router.get(
    "/tables/template.xlsx",
    response_class=Response,
    responses=_binary(XLSX, "Every table with its header row and a README sheet."),
)
def read_template_xlsx(*, _caller: CallerDep) -> Response:
    """An empty workbook to fill in (it imports as an empty portfolio as it is)."""
    return Response(
        to_xlsx(template_tables()),
        media_type=XLSX,
        headers=_attachment("journeyfolio_template.xlsx"),
    )


@router.get(
    "/tables/template.zip",
    response_class=Response,
    responses=_binary(ZIP, "Every table as a CSV file with its header row."),
)
def read_template_zip(*, _caller: CallerDep) -> Response:
    """Empty CSV files to fill in, one per table, as a ZIP."""
    return Response(
        to_csv_zip(template_tables()),
        media_type=ZIP,
        headers=_attachment("journeyfolio_template.zip"),
    )


Upload = Annotated[bytes, Body(media_type=XLSX)]


@router.post(
    "/portfolios/tables",
    status_code=201,
    response_model=PortfolioPublic,
    openapi_extra=UPLOAD,
)
def create_portfolio_from_tables(
    *,
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    caller: PlannerDep,
    content: Upload,
) -> Any:
    """Import a portfolio from spreadsheet tables (422 names every bad cell)."""
    document = _read_upload(request, content, settings)
    portfolio = crud.import_portfolio(session=session, document=document, caller=caller)
    body = crud.portfolio_public(session=session, portfolio=portfolio)
    session.commit()
    response.headers["Location"] = f"{request.url.path.removesuffix('/tables')}/{portfolio.id}"
    response.headers["ETag"] = crud.etag(portfolio)
    return body


@router.put("/portfolios/{portfolio_id}/tables", openapi_extra=UPLOAD)
def replace_portfolio_from_tables(
    *,
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    caller: PlannerDep,
    portfolio_id: PortfolioId,
    content: Upload,
    dry_run: Annotated[
        bool,
        Query(description="Only say what would change (added, changed, removed); write nothing."),
    ] = False,
    if_match: IfMatch = None,
) -> Any:
    """Replace the portfolio by spreadsheet tables, all or nothing; `dry_run=true` lists what
    would change per table (no If-Match needed for that; its ETag is the one to apply with)."""
    portfolio = crud.get_portfolio(
        session=session, portfolio_id=portfolio_id, lock=not dry_run, consistent=dry_run
    )
    if not dry_run:
        crud.check_if_match(if_match=if_match, current=crud.etag(portfolio))
    document = _read_upload(request, content, settings, expected_id=portfolio.id)
    stored = crud.export_document(session=session, portfolio=portfolio)
    changes = diff_data(diff_documents(stored, document))
    if dry_run:
        response.headers["ETag"] = crud.etag(portfolio)
        return {"dry_run": True, **changes}
    if changes["changes"]:
        crud.replace_portfolio(
            session=session, portfolio=portfolio, document=document, caller=caller
        )
        session.commit()
    response.headers["ETag"] = crud.etag(portfolio)
    body = crud.portfolio_public(session=session, portfolio=portfolio)
    return {"dry_run": False, **changes, "portfolio": PortfolioPublic.model_validate(body)}

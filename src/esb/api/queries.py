"""Named read-only queries over HTTP: ``GET /v1/queries`` lists what the caller may run,
``GET /v1/queries/{name}?param=...`` runs one (JSON, or CSV for ``Accept: text/csv``).

A system's key runs the queries granted to it (403 for another one); the admin key runs
every query. Parameters come from the URL and are refused with 422 naming each one
before anything reaches the database.
"""

from __future__ import annotations

from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Request
from starlette.responses import Response

from esb.api.auth import Caller, CallerDep
from esb.api.deps import ConfigDep, QueriesDep, SettingsDep
from esb.api.responses import JsonResponse, wants_csv
from esb.api.xref import attachment
from esb.config.models import NAME_PATTERN
from esb.config.queries import QueryConfig
from esb.errors import FieldProblem, Forbidden, NotFound, ValidationFailed
from esb.limits import MAX_NAME
from esb.queries.answers import to_csv, to_json
from esb.queries.values import read_parameters

router = APIRouter(prefix="/v1/queries", tags=["queries"])
QueryName = Annotated[str, Path(pattern=NAME_PATTERN, max_length=MAX_NAME)]
CSV = "text/csv"


def _may_run(caller: Caller, query: QueryConfig) -> bool:
    return caller.admin or caller.system in query.systems


def _described(name: str, query: QueryConfig) -> dict[str, Any]:
    return {
        "name": name,
        "description": query.description,
        "path": f"/v1/queries/{name}",
        "parameters": [
            {
                "name": pname,
                "type": p.type,
                "required": p.is_required,
                "default": p.default,
                "description": p.description,
            }
            for pname, p in query.parameters.items()
        ],
        "systems": list(query.systems),
        "row_limit": query.row_limit,
        "timeout_s": query.timeout,
    }


@router.get("", summary="The named queries the caller may run, with their parameters")
async def list_queries(config: ConfigDep, caller: CallerDep) -> JsonResponse:
    return JsonResponse(
        {
            "queries": [
                _described(name, query)
                for name, query in sorted(config.queries.items())
                if _may_run(caller, query)
            ]
        }
    )


@router.get(
    "/{name}",
    summary="Run a named query: rows as JSON, or CSV (UTF-8 with BOM) for Accept: text/csv",
    description="Query parameters are the query's own (see GET /v1/queries): each is "
    "checked against its type and bound as a value, never pasted into the SQL.",
    responses={200: {"content": {CSV: {"schema": {"type": "string"}}}}},
)
async def run_query(
    name: QueryName,
    request: Request,
    config: ConfigDep,
    caller: CallerDep,
    runner: QueriesDep,
    settings: SettingsDep,
) -> Response:
    query = config.queries.get(name)
    if query is None:
        raise NotFound(f"no query named {name!r}")
    if not _may_run(caller, query):
        raise Forbidden(f"system {caller.name!r} is not granted query {name!r}")
    zone = ZoneInfo(query.time_zone or settings.time_zone)
    values, problems = read_parameters(
        dict(query.parameters), request.query_params.multi_items(), zone
    )
    if problems:
        raise ValidationFailed([FieldProblem(field, message) for field, message in problems])
    result = await runner.run(name, query, values)
    headers = {"X-Row-Count": str(len(result.rows)), "X-Truncated": str(result.truncated).lower()}
    if wants_csv(request):
        headers["Content-Disposition"] = attachment(f"{name}.csv")
        return Response(to_csv(result, zone), media_type="text/csv; charset=utf-8", headers=headers)
    return Response(
        to_json(name, result, query.row_limit, zone),
        media_type="application/json",
        headers=headers,
    )

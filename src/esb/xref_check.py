"""The master-data sync check: each system's own list of a domain's codes against the
cross-reference ("MDM sync check").

For every system with a list in ``masterdata.yaml`` the check reads the whole list
(page by page) and reports the codes the cross-reference has that the system lacks
(``only_in_xref``: a customer deleted in the ERP, a MES id mistyped) and the other way
round (``only_in_system``: a customer the sync never brought in). A system whose list
cannot be read is reported with its error; the others are still compared. The last
result of each domain is kept, for the API and the scheduled runs.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import orjson
import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from esb.config.masterdata import CodeList, DomainCheck
from esb.config.types import auth_headers
from esb.errors import EsbError
from esb.sdk import shorten
from esb.store import xref as store
from esb.store.source_state import SourceStateStore

__all__ = ["CHECK_SCOPE", "ListFailed", "check_domain", "last_check", "read_codes"]

log = structlog.get_logger(__name__)
#: The state scope (``interface`` column) the last result of each domain is kept under.
CHECK_SCOPE = "_xref_check"
#: Codes listed per difference (the counts are always whole).
LISTED = 100


class ListFailed(EsbError):
    """A system's code list could not be read (named in the check's result)."""


def _at(document: Any, path: str | None) -> Any:
    if path is None:
        return document
    found = document
    for part in path.split("."):
        if not isinstance(found, dict):
            return None
        found = found.get(part)
    return found


def _where(url: str) -> str:
    """``url`` without its query: what a result or a log line shows."""
    return url.split("?", 1)[0]


async def _page(client: httpx.AsyncClient, spec: CodeList, params: dict[str, str]) -> Any:
    label = f"{_where(spec.url)} page {params.get(spec.page_param or '', '1')}"
    headers = {k: v.get_secret_value() for k, v in spec.headers.items()}
    try:
        async with asyncio.timeout(spec.timeout.total):
            response = await client.get(
                spec.url, params=params, headers={**headers, **auth_headers(spec.auth)}
            )
    except TimeoutError:
        raise ListFailed(f"{label}: no answer within {spec.timeout.total:g}s") from None
    except httpx.HTTPError as exc:
        raise ListFailed(f"{label}: {type(exc).__name__}: {shorten(str(exc))}") from None
    if not response.is_success:
        raise ListFailed(f"{label}: HTTP {response.status_code}: {shorten(response.text)}")
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        raise ListFailed(f"{label}: the answer is not JSON: {shorten(response.text)}") from None


async def read_codes(spec: CodeList) -> set[str]:
    """Every code of a system's list, following its pages."""
    codes: set[str] = set()
    timeout = httpx.Timeout(spec.timeout.total, connect=spec.timeout.connect)
    async with httpx.AsyncClient(timeout=timeout) as client:
        page: str | None = "1" if spec.page_param else None
        for _ in range(spec.max_pages):
            params = {spec.page_param: page} if spec.page_param and page else {}
            answer = await _page(client, spec, params)
            items = _at(answer, spec.items)
            if not isinstance(items, list):
                raise ListFailed(f"{_where(spec.url)}: `{spec.items}` is not a list of items")
            for item in items:
                code = _at(item, spec.code)
                if isinstance(code, str | int) and not isinstance(code, bool) and str(code):
                    codes.add(str(code))
            following = _at(answer, spec.next_page) if spec.page_param else None
            if following is None or following == "":
                return codes
            page = str(following)
    raise ListFailed(f"{_where(spec.url)}: still a next page after {spec.max_pages} pages")


def _difference(codes: set[str]) -> dict[str, Any]:
    return {"count": len(codes), "codes": sorted(codes)[:LISTED]}


async def _xref_codes(engine: AsyncEngine, domain: str) -> dict[str, set[str]]:
    """Per system, every code the cross-reference has for it in ``domain``."""
    found: dict[str, set[str]] = {}
    async for page in store.pages(engine, domain):
        for entity in page:
            for system, code in entity.items():
                found.setdefault(system, set()).add(code)
    return found


async def check_domain(
    engine: AsyncEngine, domain: str, check: DomainCheck, zone: str
) -> dict[str, Any]:
    """Compare every configured system's list with the cross-reference; keep the result."""
    started = datetime.now(ZoneInfo(zone))
    known = await _xref_codes(engine, domain)
    systems: dict[str, Any] = {}
    for system, spec in check.systems.items():
        have = known.get(system, set())
        try:
            listed = await read_codes(spec)
        except ListFailed as exc:
            systems[system] = {"error": str(exc), "in_xref": len(have)}
            continue
        systems[system] = {
            "error": None,
            "listed": len(listed),
            "in_xref": len(have),
            "only_in_xref": _difference(have - listed),
            "only_in_system": _difference(listed - have),
        }
    result = {
        "domain": domain,
        "checked_at": started.isoformat(),
        "in_sync": all(
            s["error"] is None
            and not s["only_in_xref"]["count"]
            and not s["only_in_system"]["count"]
            for s in systems.values()
        ),
        "systems": systems,
    }
    await SourceStateStore(engine, CHECK_SCOPE, domain).put("last", result)
    if not result["in_sync"]:
        log.warning("master data out of sync", domain=domain, **_summary(systems))
    return result


def _summary(systems: dict[str, Any]) -> dict[str, str]:
    return {
        system: s["error"]
        or f"{s['only_in_xref']['count']} only in xref, {s['only_in_system']['count']} only here"
        for system, s in systems.items()
    }


async def last_check(engine: AsyncEngine, domain: str) -> dict[str, Any] | None:
    found = await SourceStateStore(engine, CHECK_SCOPE, domain).get("last")
    return found if isinstance(found, dict) else None


class CheckFailed(EsbError):
    """A scheduled check found differences or an unreadable list (the run's error)."""


async def scheduled_check(
    engine: AsyncEngine, domain: str, check: DomainCheck | None, zone: str
) -> int:
    """One scheduled run: the differences found are its rows; a difference is its error,
    so the health report shows an out-of-sync domain."""
    if check is None:  # removed from masterdata.yaml since the gateway started
        return 0
    result = await check_domain(engine, domain, check, zone)
    if not result["in_sync"]:
        summary = "; ".join(f"{k}: {v}" for k, v in _summary(result["systems"]).items())
        raise CheckFailed(f"{domain} out of sync: {summary}")
    return 0

"""Office tools over HTTP: spreadsheet import (preview, apply, undo) and export (contract section 5)."""

from __future__ import annotations

import threading

import anyio
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from sync.office import exporter, importer, dedupe
from sync.access import User
from sync.errors import InvalidInput, TooLarge, TooSlow, invalid
from sync.office.previews import Kept, Previews, request_key
from sync.office.spreadsheet import read_table

from .. import memory
from .body import parse_json_text, read_json

# Progress of running imports by the id the client chose, for the progress bar (`progress` field).
_progress: dict[str, dict[str, int]] = {}
_progress_lock = threading.Lock()


async def _form(request: Request) -> Any:
    limit: int = request.app.state.config.max_body
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise TooLarge(f"the file is larger than {limit // (1024 * 1024)} MiB; split it")
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise invalid("file", "send the file as multipart/form-data with a field named file")
    try:
        # A large file on a slow line, but not forever: five times the JSON body deadline.
        with anyio.fail_after(request.app.state.config.body_deadline_s * 5):
            return await request.form(max_files=1, max_fields=10, max_part_size=limit)
    except TimeoutError:
        raise TooSlow("the upload did not arrive in time") from None
    except Exception as error:  # python-multipart's parse errors: malformed uploads are 400, never 500
        raise invalid("file", f"the upload could not be read: {str(error)[:100]}") from None


def _flag(value: Any, name: str) -> bool:
    if value in (None, "", "false", "0", "no"):
        return False
    if value in ("true", "1", "yes", "on"):
        return True
    raise invalid(name, "must be true or false")


async def _import_request(request: Request) -> dict[str, Any]:
    """The import form: file, match (phone,email,name+company), mode (create|update|upsert), dry_run,
    mapping (JSON {header: field}), values (JSON {field: {value in the file: value}}), owner (the
    user new cards go to), progress (an id to poll at /imports/progress/{id})."""
    form = await _form(request)
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise invalid("file", "required: the spreadsheet (.csv or .xlsx)")
    raw = await upload.read()
    match = [m.strip() for m in str(form.get("match") or "phone,email").split(",") if m.strip()]
    mode = str(form.get("mode") or "upsert")
    dry_run = _flag(form.get("dry_run"), "dry_run")
    mapping = None
    if form.get("mapping"):
        mapping = parse_json_text(str(form["mapping"]), "mapping", "mapping")
        if not isinstance(mapping, dict) or not all(isinstance(v, (str, type(None))) for v in mapping.values()):
            raise invalid("mapping", "must be a JSON object of column → field name (or null to skip)")
    values = parse_json_text(str(form["values"]), "values", "values") if form.get("values") else None
    owner = str(form.get("owner") or "").strip() or None
    return {
        "raw": raw,
        "filename": upload.filename or "upload.csv",
        "match": match,
        "mode": mode,
        "dry_run": dry_run,
        "mapping": mapping,
        "values": values,
        "owner": owner,
        "progress": str(form.get("progress") or "")[:64],
    }


async def import_file(request: Request) -> JSONResponse:
    """Check (dry_run) or run an import; see `_import_request` for the form."""
    user: User = request.state.user
    got = await _import_request(request)
    raw, mapping, match, mode, dry_run = got["raw"], got["mapping"], got["match"], got["mode"], got["dry_run"]
    progress_id = got["progress"]
    engine = request.app.state.engine
    filename = got["filename"]

    previews: Previews = request.app.state.previews
    choices = {"mapping": mapping, "match": match, "mode": mode, "values": got["values"], "owner": got["owner"]}
    key = request_key(user, raw, filename, choices)

    def work() -> dict[str, Any]:
        kept = None if dry_run else previews.take(key, engine)
        if kept is not None:  # the preview of this very file and these choices, and it still holds
            return run(kept.plan, kept.problems, kept.headers)
        table = read_table(filename, raw)
        try:
            plan = importer.plan_import(
                engine,
                user,
                table,
                mapping=mapping,
                match=match,
                mode=mode,
                values=got["values"],
                owner=got["owner"],
                release_rows=True,  # the answer needs the headers and the rows with problems only
                with_basis=dry_run,  # a preview's plan is kept for its import
            )
        except InvalidInput as error:
            if not dry_run or not error.fields or error.fields[0].path != "mapping":
                raise  # a wrong choice for one column is answered at that column (`mapping.HEADER`)
            # A preview whose columns cannot be mapped yet still shows them, so a person can map them.
            return {
                "import": None,
                "rows": len(table.rows),
                "create": 0,
                "update": 0,
                "skip": len(table.rows),
                "errors": [{"row": 1, "column": "", "value": "", "code": "no_name_column", "message": error.fields[0].message}],
                "warnings": [],
                "headers": table.headers,
                "mapping": importer.suggest_mapping(table.headers),
                "preview": [],
            }
        problems = importer.plan_problems(table, plan)
        headers = table.headers
        del table
        if dry_run:
            previews.keep(key, Kept(plan, problems, headers))
            return {
                "import": None,
                "rows": len(plan.rows),
                **plan.counts(),
                "errors": plan.errors,
                "warnings": plan.warnings,
                **_preview(plan, headers),
            }
        return run(plan, problems, headers)

    def run(plan: importer.Plan, problems: dict[str, Any], headers: list[str]) -> dict[str, Any]:
        def report(done: int, total: int) -> None:
            if progress_id:
                with _progress_lock:
                    _progress[progress_id] = {"done": done, "total": total}

        outcome = importer.run_import(
            engine, user, plan, filename=filename, mode=mode, match=match, progress=report, problems=problems
        )
        return {**outcome, **_preview(plan, headers)}

    try:
        return JSONResponse(await request.app.state.heavy.run(memory.without_collector(work)))
    finally:
        with _progress_lock:
            _progress.pop(progress_id, None)


def _preview(plan: importer.Plan, headers: list[str]) -> dict[str, Any]:
    return {"headers": headers, "mapping": plan.mapping, "preview": [r.public() for r in plan.rows[: importer.PREVIEW_ROWS]]}


async def import_progress(request: Request) -> JSONResponse:
    with _progress_lock:
        found = _progress.get(request.path_params["progress_id"])
    return JSONResponse(found or {"done": 0, "total": 0})


async def list_imports(request: Request) -> JSONResponse:
    found = await run_in_threadpool(importer.list_imports, request.app.state.engine, request.state.user)
    return JSONResponse({"imports": found})


def _file(answer: tuple[bytes, str, str]) -> Response:
    data, media_type, filename = answer
    return Response(data, media_type=media_type, headers={"content-disposition": f'attachment; filename="{filename}"'})


async def import_problems(request: Request) -> Response:
    """The rows of an import that had problems, with a column saying what: ?format=xlsx|csv&lang=en|zh-CN."""
    fmt, lang = request.query_params.get("format", "xlsx"), request.query_params.get("lang", "en")
    engine, user = request.app.state.engine, request.state.user

    def work() -> tuple[bytes, str, str]:
        record = importer.stored_problems(engine, user, request.path_params["import_id"])
        return importer.problems_file(record, format=fmt, lang=lang)

    return _file(await request.app.state.heavy.run(work))


async def check_problems(request: Request) -> Response:
    """The same file as a dry run would check it, as the problems file (the import form, and
    ?format=xlsx|csv&lang=en|zh-CN): nothing is stored, so a check needs no id to come back to."""
    fmt, lang = request.query_params.get("format", "xlsx"), request.query_params.get("lang", "en")
    engine, user = request.app.state.engine, request.state.user
    got = await _import_request(request)

    def work() -> tuple[bytes, str, str]:
        table = read_table(got["filename"], got["raw"])
        plan = importer.plan_import(
            engine,
            user,
            table,
            mapping=got["mapping"],
            match=got["match"],
            mode=got["mode"],
            values=got["values"],
            owner=got["owner"],
        )
        return importer.problems_file(importer.problem_rows(table, plan.errors + plan.warnings), format=fmt, lang=lang)

    return _file(await request.app.state.heavy.run(work))


async def undo_import(request: Request) -> JSONResponse:
    result = await request.app.state.heavy.run(
        memory.without_collector(importer.undo_import),
        request.app.state.engine,
        request.state.user,
        request.path_params["import_id"],
    )
    return JSONResponse(result)


async def export(request: Request) -> Response:
    data, media_type, filename, count = await request.app.state.heavy.run(
        exporter.export, request.app.state.store, request.state.user, dict(request.query_params), base_url=str(request.base_url)
    )
    return Response(
        data,
        media_type=media_type,
        headers={"content-disposition": f'attachment; filename="{filename}"', "x-fieldcards-count": str(count)},
    )


async def duplicates(request: Request) -> JSONResponse:
    groups = await request.app.state.heavy.run(dedupe.duplicate_groups, request.app.state.engine, request.state.user)
    return JSONResponse({"groups": groups})


async def merge(request: Request) -> JSONResponse:
    body = await read_json(request)
    return JSONResponse(await run_in_threadpool(dedupe.merge_cards, request.app.state.engine, request.state.user, body))


async def unmerge(request: Request) -> JSONResponse:
    return JSONResponse(
        await run_in_threadpool(dedupe.unmerge, request.app.state.engine, request.state.user, request.path_params["merge_id"])
    )

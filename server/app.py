"""`create_app(config)`: the Starlette application, its routes in one place, and the one handler
that turns every error into the contract's shape."""

from __future__ import annotations

import contextlib
import logging
import threading
from datetime import date, datetime, timezone
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import anyio.to_thread
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from sync.office.previews import Previews
from sync.outward import privacy, webhooks as webhook_outbox
from sync.office import reclaim, stages
from sync.protocol.engine import Engine
from sync.errors import FieldcardsError, Maintenance, RetryLater
from sync import db
from sync.db import Store

from . import guide, openapi, pwa
from .api import admin, attachments, webhooks, cards, links, teams, conflicts, identity, insights, office, reminders
from .api import settings as settings_api
from .api import pool as pool_api
from .api import followups as followups_api
from .api import surveys as surveys_api
from .api import stages as stages_api
from .api import scorecards as scorecards_api
from .api import sync as sync_api
from .auth.guard import ADMIN, ANYONE, OFFICE, PUBLIC, Handler, guarded
from .auth.limits import Throttles
from .backup.drill import run_drill
from .backup.litestream import Replicator
from .backup.restore import Restorer, clean_leftovers
from .backup.status import BackupMonitor
from .config import Config
from .lanes import HeavyLane

log = logging.getLogger("fieldcards")
THREADS = 8

SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "content-security-policy": "default-src 'self'; script-src 'self'; img-src 'self' blob:; object-src 'none'; frame-ancestors 'none'; base-uri 'self'",
    "x-frame-options": "DENY",
}


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    """Ready when the database takes a write lock and, with backup on, Litestream is running."""
    state = request.app.state
    if state.maintenance:
        return JSONResponse({"status": "maintenance", "reason": state.maintenance}, status_code=503)

    def writable() -> None:
        with state.store.write() as conn:
            db.ping(conn)

    try:
        await run_in_threadpool(writable)
    except Exception as error:  # any failure to lock or write means not ready; say why
        return JSONResponse({"status": "unavailable", "reason": f"database not writable: {error}"}, status_code=503)
    problem = await run_in_threadpool(state.backup.replication_problem)
    if problem:
        return JSONResponse({"status": "unavailable", "reason": problem}, status_code=503)
    return JSONResponse({"status": "ready", "backup": state.replicator is not None})


def error_response(error: FieldcardsError) -> JSONResponse:
    headers = {}
    if isinstance(error, RetryLater):
        headers["retry-after"] = str(error.retry_after)
    return JSONResponse(error.to_json(), status_code=error.status, headers=headers)


async def on_fieldcards_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, FieldcardsError)
    return error_response(error)


async def on_http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    codes = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}
    body = {"error": {"code": codes.get(error.status_code, "invalid_request"), "message": str(error.detail), "fields": []}}
    return JSONResponse(body, status_code=error.status_code, headers=getattr(error, "headers", None))


async def on_client_gone(request: Request, error: Exception) -> Response:
    """The client closed its connection before its request body had arrived (a phone that lost its
    signal, a page closed in the middle of a sync): nothing was read or applied, and nobody waits
    for the answer. Not a bug, so no traceback: a line in the log says it."""
    log.info("the client went away during %s %s, before its request had arrived", request.method, request.url.path)
    return JSONResponse(
        {"error": {"code": "invalid_request", "message": "the request did not arrive whole", "fields": []}}, status_code=400
    )


async def on_bug(request: Request, error: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return JSONResponse(
        {"error": {"code": "internal", "message": "an internal error; it was logged", "fields": []}}, status_code=500
    )


class HeadersAndMaintenance:
    """Adds the security headers to every response; answers 503 `maintenance` during a restore."""

    def __init__(self, app) -> None:  # type: ignore[no-untyped-def]
        self.app = app

    async def __call__(self, scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        reason = scope["app"].state.maintenance
        if reason and scope["path"].startswith("/api/"):
            await error_response(Maintenance(f"the server is being restored: {reason}"))(scope, receive, send)
            return

        secure = scope["app"].state.config.secure_cookies

        async def send_with_headers(message) -> None:  # type: ignore[no-untyped-def]
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                if secure:  # only where the public origin is https: HSTS on plain http would lock people out
                    headers.setdefault("strict-transport-security", "max-age=31536000")
            await send(message)

        await self.app(scope, receive, send_with_headers)


def api_table() -> list[tuple[str, Handler, list[str], str]]:
    """Every API route with what it needs (see auth/guard.py): the one place roles are enforced.
    The OpenAPI document (openapi.py) is built from this table, so a route cannot go undescribed."""
    return [
        # path, handler, methods, who may call
        ("/openapi.json", openapi.serve, ["GET"], PUBLIC),
        ("/me", cards.me, ["GET"], ANYONE),
        ("/schema", cards.schema, ["GET"], ANYONE),
        ("/template", cards.save_template, ["PUT"], ADMIN),
        ("/sync", sync_api.sync, ["POST"], ANYONE),
        ("/cards", cards.list_cards, ["GET"], ANYONE),
        ("/cards/{card_id}", cards.get_card, ["GET"], ANYONE),
        ("/cards/{card_id}/history", cards.card_history, ["GET"], ANYONE),
        ("/cards/{card_id}/erase", cards.erase_card, ["POST"], ADMIN),
        ("/teams", teams.list_teams, ["GET"], ANYONE),
        ("/teams", teams.create_team, ["POST"], ADMIN),
        ("/teams/{team_id}", teams.update_team, ["PUT"], ADMIN),
        ("/pool", pool_api.view, ["GET"], ANYONE),
        ("/pool/settings", pool_api.get_settings, ["GET"], ANYONE),
        ("/pool/settings", pool_api.save_settings, ["PUT"], ADMIN),
        ("/pool/returning", pool_api.returning, ["GET"], ANYONE),
        ("/dedupe/buckets", pool_api.buckets, ["GET"], ANYONE),
        ("/links/reserve", links.reserve, ["GET"], ANYONE),
        ("/links/{link_id}/revoke", links.revoke, ["POST"], ANYONE),
        ("/public/links/{token}", links.public_view, ["GET"], PUBLIC),
        ("/public/links/{token}", links.public_answer, ["POST"], PUBLIC),
        ("/customer-updates", followups_api.customer_updates, ["GET"], ANYONE),
        ("/follow-ups", followups_api.list_items, ["GET"], ANYONE),
        ("/follow-ups/settings", followups_api.get_settings, ["GET"], ANYONE),
        ("/follow-ups/settings", followups_api.save_settings, ["PUT"], ADMIN),
        ("/surveys", surveys_api.list_surveys, ["GET"], ANYONE),
        ("/surveys", surveys_api.create_survey, ["POST"], ADMIN),
        ("/surveys/{survey_id}", surveys_api.update_survey, ["PUT"], ADMIN),
        ("/surveys/{survey_id}/links", surveys_api.survey_links, ["POST"], ANYONE),
        ("/stages/rules", stages_api.get_rules, ["GET"], ANYONE),
        ("/stages/rules", stages_api.save_rules, ["PUT"], OFFICE),
        ("/stages/win-back", stages_api.win_back, ["GET"], ANYONE),
        ("/scorecards", scorecards_api.figures, ["GET"], ANYONE),
        ("/scorecards.csv", scorecards_api.figure_csv, ["GET"], ANYONE),
        ("/scorecards/targets", scorecards_api.save_targets, ["PUT"], ADMIN),
        ("/public/privacy", settings_api.public_privacy, ["GET"], PUBLIC),
        ("/admin/privacy", settings_api.save_privacy, ["PUT"], ADMIN),
        ("/settings", settings_api.device_settings, ["GET"], ANYONE),
        ("/admin/settings", settings_api.save_device_settings, ["PUT"], ADMIN),
        ("/attachments/{attachment_id}", attachments.content, ["GET"], ANYONE),
        ("/attachments/{attachment_id}/upload", attachments.upload_state, ["GET"], ANYONE),
        ("/attachments/{attachment_id}/upload", attachments.upload_chunk, ["PUT"], ANYONE),
        ("/cards/{card_id}/export", cards.export_card, ["GET"], OFFICE),
        ("/conflicts", conflicts.list_conflicts, ["GET"], ANYONE),
        ("/conflicts/{conflict_id}/resolve", conflicts.resolve, ["POST"], ANYONE),
        ("/auth/register/options", identity.register_options, ["POST"], PUBLIC),
        ("/auth/register", identity.register, ["POST"], PUBLIC),
        ("/auth/login/options", identity.login_options, ["POST"], PUBLIC),
        ("/auth/login", identity.login, ["POST"], PUBLIC),
        ("/auth/logout", identity.logout, ["POST"], ANYONE),
        ("/passkeys", identity.list_passkeys, ["GET"], ANYONE),
        ("/passkeys/{passkey_id}/remove", identity.remove_passkey, ["POST"], ANYONE),
        ("/tokens", identity.list_tokens, ["GET"], ANYONE),
        ("/tokens", identity.create_token, ["POST"], ANYONE),
        ("/tokens/{token_id}/revoke", identity.revoke_token, ["POST"], ANYONE),
        ("/people", identity.list_people, ["GET"], ANYONE),
        ("/users", identity.list_users, ["GET"], ADMIN),
        ("/users", identity.create_user, ["POST"], ADMIN),
        ("/users/{name}", identity.update_user, ["PATCH"], ADMIN),
        ("/users/{name}/invite", identity.invite_user, ["POST"], ADMIN),
        ("/devices", admin.devices, ["GET"], ADMIN),
        ("/devices/{device_id}/revoke", admin.revoke_device, ["POST"], ADMIN),
        ("/devices/{device_id}/name", admin.name_device, ["PUT"], ANYONE),
        ("/admin/backup", admin.backup_status, ["GET"], ADMIN),
        ("/admin/restore-points", admin.restore_points, ["GET"], ADMIN),
        ("/admin/restore", admin.restore, ["POST"], ADMIN),
        ("/admin/drill", admin.drill, ["POST"], ADMIN),
        ("/audit", admin.audit_log, ["GET"], ADMIN),
        ("/imports", office.import_file, ["POST"], OFFICE),
        ("/imports", office.list_imports, ["GET"], OFFICE),
        ("/imports/problems", office.check_problems, ["POST"], OFFICE),
        ("/imports/{import_id}/problems", office.import_problems, ["GET"], OFFICE),
        ("/imports/progress/{progress_id}", office.import_progress, ["GET"], OFFICE),
        ("/imports/{import_id}/undo", office.undo_import, ["POST"], OFFICE),
        ("/export", office.export, ["GET"], ANYONE),
        ("/reminders", reminders.reminders, ["GET"], ANYONE),
        ("/calendar/key", reminders.new_calendar_key, ["POST"], ANYONE),
        ("/calendar.ics", reminders.calendar, ["GET"], PUBLIC),
        ("/dashboard", insights.figures, ["GET"], ANYONE),
        ("/dashboard.csv", insights.figure_csv, ["GET"], ANYONE),
        ("/dashboard.svg", insights.figure_svg, ["GET"], ANYONE),
        ("/quality", insights.quality_report, ["GET"], ANYONE),
        ("/duplicates", office.duplicates, ["GET"], OFFICE),
        ("/cards/merge", office.merge, ["POST"], OFFICE),
        ("/webhooks", webhooks.list_endpoints, ["GET"], ADMIN),
        ("/webhooks", webhooks.create_endpoint, ["POST"], ADMIN),
        ("/webhooks/{webhook_id}", webhooks.update_endpoint, ["PATCH"], ADMIN),
        ("/webhooks/{webhook_id}/test", webhooks.test_endpoint, ["POST"], ADMIN),
        ("/webhooks/{webhook_id}/deliveries", webhooks.deliveries, ["GET"], ADMIN),
        ("/webhooks/deliveries/{delivery_id}/redeliver", webhooks.redeliver, ["POST"], ADMIN),
        ("/merges/{merge_id}/undo", office.unmerge, ["POST"], OFFICE),
    ]


def routes(pwa_dir: Path) -> list:
    """Every route: the API table under /api/v1, health checks, the guide and the PWA."""
    api = [Route(path, guarded(need, handler), methods=methods) for path, handler, methods, need in api_table()]
    found = [
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Mount("/api/v1", routes=api),
        Route("/c/{token}", links.page),
        Route("/privacy", settings_api.page),
    ]
    found += guide.routes()
    if pwa_dir.is_dir():
        found += pwa.routes(pwa_dir)
    return found


def create_app(config: Config, *, replicate: bool | None = None) -> Starlette:
    """The app over `config.db_path`; with backup on, it supervises `litestream replicate`."""
    replicator = Replicator(config) if (config.backup if replicate is None else replicate) else None
    if config.data_dir.is_dir():
        clean_leftovers(config.data_dir)  # of a restore killed midway; nothing uses them now
    store = Store(config.db_path, autocheckpoint=replicator is None)
    engine = Engine(store, default_region=config.default_region)
    stopping = threading.Event()

    def every(seconds: float, name: str, what: str, job: Callable[[], object]) -> None:
        """Run `job` every `seconds` until the server stops, in a thread of its own. A run that
        crashes must not stop the next one; the log says why."""

        def loop() -> None:
            while not stopping.wait(seconds):
                try:
                    job()
                except Exception:
                    log.exception("scheduled %s crashed", what)

        threading.Thread(target=loop, name=name, daemon=True).start()

    def today() -> date:
        return datetime.now(timezone.utc).date()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # SQLite has one writer; more threads than this only add reader connections and malloc
        # arenas (memory) without adding throughput on a small machine.
        anyio.to_thread.current_default_thread_limiter().total_tokens = THREADS
        await run_in_threadpool(engine.forget_old_results)
        # A restore killed after its swap left server work to re-apply: finish it before serving.
        await run_in_threadpool(app.state.restorer.finish_pending)
        if replicator is not None:
            replicator.start()
            # The restore drill; its result shows on the admin screen and in /admin/backup.
            every(config.drill_every_hours * 3600, "drill", "restore drill", lambda: run_drill(config, store))
        # Retention: deleted cards older than `retention_days` go, once a day (sync/outward/privacy.py).
        every(
            24 * 3600,
            "retention",
            "retention purge",
            lambda: privacy.purge_deleted(store, days=config.retention_days, now=datetime.now(timezone.utc)),
        )
        # Reclaim rules (sync/office/reclaim.py) and lifecycle stages (sync/office/stages.py): hourly, so that a
        # day's changes happen early in that day wherever the server is.
        every(3600, "reclaim", "reclaim", lambda: reclaim.reclaim(engine, today()))
        every(3600, "stages", "stage rules", lambda: stages.apply(engine, today()))
        webhook_worker = webhook_outbox.Deliverer(store, config.webhook_settings)
        deliverer = threading.Thread(target=webhook_worker.run, args=(stopping,), name="webhooks", daemon=True)
        deliverer.start()
        try:
            yield
        finally:
            stopping.set()
            webhook_worker.wake.set()  # between passes it sleeps on its own event: woken, it sees `stopping`
            deliverer.join(timeout=15)  # an attempt in flight finishes (or times out) before the store closes
            if replicator is not None:
                replicator.stop()
            store.close()

    app = Starlette(
        routes=routes(config.pwa_dir),
        middleware=[Middleware(HeadersAndMaintenance)],
        lifespan=lifespan,
        exception_handlers={
            FieldcardsError: on_fieldcards_error,
            HTTPException: on_http_error,
            ClientDisconnect: on_client_gone,
            Exception: on_bug,
        },
    )
    app.state.config = config
    app.state.store = store
    app.state.engine = engine
    app.state.replicator = replicator
    app.state.maintenance = None
    app.state.backup = BackupMonitor(config, store, replicator)
    app.state.restorer = Restorer(
        config, store, replicator, set_maintenance=lambda reason: setattr(app.state, "maintenance", reason), engine=engine
    )
    app.state.restore_lock = threading.Lock()
    app.state.heavy = HeavyLane()
    app.state.throttles = Throttles()
    app.state.previews = Previews()  # the last import preview's plan, for the import that follows it

    return app

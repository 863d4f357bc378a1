"""The `fieldcards` command: one function per subcommand, each a thin call into the library.

Exit codes: 0 ok, 1 failed, 2 usage. Errors go to stderr on one line; data to stdout.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import os
import signal
import sys
from datetime import date
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from sync import audit, db
from sync.access import User
from sync.errors import FieldcardsError
from sync.db import Store
from sync.people.users import add_user, create_token

from .auth.passkeys import create_invite
from .backup.drill import run_drill
from .backup.litestream import restore_points
from .backup.restore import Restorer
from .backup.snapshot import create_key, write_snapshot
from . import memory
from .config import Config


class UsageError(Exception):
    """Bad command-line words: exit 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # argparse would print usage and exit 2 itself
        raise UsageError(message)


ORIGIN_FILE = "fieldcards.origin"  # the origin `serve` answers on, while it runs
LIMIT_CONNECTIONS = 2000


def cmd_serve(config: Config, args: argparse.Namespace) -> int:
    import uvicorn

    memory.few_arenas()
    # Heavy work (an export) runs in a thread; a sync waits for the GIL at every switch. 1 ms
    # switches instead of 5 keep a rep's sync quick while exports run (bench/stall.py).
    sys.setswitchinterval(0.001)

    from sync.cards.pinyin import with_phrases

    from .app import create_app
    from .deadlines import DeadlineH11Protocol

    DeadlineH11Protocol.header_deadline_s = config.header_deadline_s

    app = create_app(config)
    with_phrases()  # pypinyin's phrases, read now so that the freeze below takes them too
    # What start-up made (about 260,000 objects, most of them pypinyin's dictionaries) lives as
    # long as the process: moved out of the collector's sight, a full collection during a push no
    # longer walks them all (77-83 ms a time; 20 -> 6 us per pushed card, docs/performance.md).
    gc.freeze()
    if not config.db_path.exists() or _user_count(config) == 0:
        command = _how_to_call()
        print(
            "No users yet. In another terminal create the first admin and open the link it prints\n"
            f"(at {config.public_origin}) to register a passkey:\n"
            f"  {command} --data {config.data_dir} user add admin --role admin\n"
            f"  {command} --data {config.data_dir} invite admin\n"
            f"  {command} --data {config.data_dir} token create admin     # for scripts and curl",
            file=sys.stderr,
        )
    backup = "with Litestream replication to " + config.replica if config.backup else "without backup (--no-backup)"
    print(
        f"Fieldcards on {config.public_origin}/ (listening on {config.host}:{config.port}) — data in {config.data_dir}, {backup}",
        file=sys.stderr,
    )
    # uvicorn handles SIGTERM/SIGINT: it stops accepting, finishes requests, runs our shutdown
    # (which stops Litestream), then re-raises the signal to the handler found before it. That
    # handler is ours and does nothing, so a clean stop exits 0.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: None)
    pid_file = config.data_dir / "fieldcards.pid"
    pid_file.write_text(str(os.getpid()))
    # `fieldcards invite`, run in another terminal, makes its link on the origin served here.
    origin_file = config.data_dir / ORIGIN_FILE
    origin_file.write_text(config.public_origin)
    try:
        # Phones on mobile networks pause between requests; keep their connections a while.
        # Slow clients are cut off (server/deadlines.py), and past LIMIT_CONNECTIONS open
        # connections new ones get 503 instead of a file descriptor each.
        uvicorn.run(
            app,
            host=config.host,
            port=config.port,
            log_level="warning",
            access_log=False,
            timeout_keep_alive=30,
            http=DeadlineH11Protocol,
            limit_concurrency=LIMIT_CONNECTIONS,
        )
    finally:
        pid_file.unlink(missing_ok=True)
        origin_file.unlink(missing_ok=True)
    return 0


def _how_to_call() -> str:
    """The command as the person can type it: `.venv/bin/fieldcards` after `make run`, where the
    venv is not on PATH; plain `fieldcards` when it is."""
    launched = Path(sys.argv[0])
    if launched.name == "fieldcards" and str(launched.parent) not in os.environ.get("PATH", "").split(os.pathsep):
        try:
            return str(launched.resolve().relative_to(Path.cwd()))
        except ValueError:
            return str(launched)
    return "fieldcards"


def _server_running(config: Config) -> bool:
    try:
        os.kill(int((config.data_dir / "fieldcards.pid").read_text().strip()), 0)
        return True
    except (OSError, ValueError):
        return False


def cmd_restore_points(config: Config, args: argparse.Namespace) -> int:
    points = restore_points(config)
    if args.json:
        print(json.dumps(points, indent=2))
        return 0
    if not points:
        print("no restore points yet: the replica is empty", file=sys.stderr)
        return 1
    for point in points:
        print(f"{point['timestamp']}  level {point['level']}  txid {point['max_txid']}")
    print(f"{len(points)} points from {points[0]['timestamp']} to {points[-1]['timestamp']}", file=sys.stderr)
    return 0


def _confirmed(previewed: Callable[[], dict]) -> bool:
    """Ask on a terminal; without one, --yes is required (a script must say what it means)."""
    if not sys.stdin.isatty():
        raise UsageError("add --yes to restore without a question (or --dry-run to preview)")
    preview = previewed()
    answer = input(
        f"Restore to {preview['to']}: {preview['then']['cards']} cards (now "
        f"{preview['now']['cards']}), rolling back {preview['rolled_back']['changes']} "
        "changes. Type yes to go on: "
    )
    return answer.strip().lower() == "yes"


def _day(text: str) -> date:
    """A YYYY-MM-DD argument, checked here so that a typo is a usage error, not a traceback."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date as YYYY-MM-DD: {text!r}") from None


def _id_list(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError("a comma-separated list of entry ids, like 12,15") from None


def cmd_restore(config: Config, args: argparse.Namespace) -> int:
    if _server_running(config):
        raise UsageError(
            "the server is running on this data directory: restore from the admin screen "
            "(POST /api/v1/admin/restore), or stop the server first"
        )
    st = Store(config.db_path)
    try:
        restorer = Restorer(config, st, replicator=None)
        if args.dry_run:
            print(json.dumps(restorer.preview(args.to), indent=2, ensure_ascii=False))
            return 0
        if not args.yes and not _confirmed(lambda: restorer.preview(args.to)):
            print("nothing restored", file=sys.stderr)
            return 1
        outcome = restorer.restore(args.to, by="cli", exclude=args.exclude)
    finally:
        st.close()
    print(
        f"restored to {outcome['to']}; new epoch {outcome['epoch']}; the previous database is kept as {outcome['pre_restore']}",
        file=sys.stderr,
    )
    return 0


def cmd_purge(config: Config, args: argparse.Namespace) -> int:
    """Retention now: purge cards deleted more than --days ago (default FIELDCARDS_RETENTION_DAYS)."""
    from datetime import datetime, timezone

    from sync.outward import privacy

    st = Store(config.db_path)
    try:
        found = privacy.purge_deleted(
            st, days=args.days or config.retention_days, now=datetime.now(timezone.utc), dry_run=args.dry_run
        )
    finally:
        st.close()
    if args.json:
        print(json.dumps(found, indent=2))
    else:
        verb = "would purge" if args.dry_run else "purged"
        print(f"{verb} {found['cards']} cards deleted before {found['before']}")
    return 0


def _daily_rule_now(
    config: Config,
    args: argparse.Namespace,
    due: Callable[[Any, date], list[Any]],
    apply: Callable[[Any, date], list[Any]],
    key: str,
    verbs: tuple[str, str],
    what: str,
) -> int:
    """Run a rule the server applies hourly (reclaim, stages) now, judged on `--today`: `due` lists
    what would change (a dry run), `apply` changes it through the engine."""
    from datetime import datetime, timezone

    from sync.protocol.engine import Engine

    today = args.today or datetime.now(timezone.utc).date()
    st = Store(config.db_path)
    try:
        if args.dry_run:
            with st.read() as conn:
                found = due(conn, today)
        else:
            found = apply(Engine(st, default_region=config.default_region), today)
    finally:
        st.close()
    if args.json:
        print(json.dumps({"today": today.isoformat(), key: found, "dry_run": args.dry_run}, indent=2))
    else:
        print(f"{verbs[0] if args.dry_run else verbs[1]} {len(found)} {what} ({today.isoformat()})")
    return 0


def cmd_reclaim(config: Config, args: argparse.Namespace) -> int:
    """Reclaim rules now: idle cards go back to the pool (the server also runs this hourly)."""
    from sync.office import reclaim

    return _daily_rule_now(config, args, reclaim.due, reclaim.reclaim, "cards", ("would return", "returned"), "cards to the pool")


def cmd_stages(config: Config, args: argparse.Namespace) -> int:
    """Lifecycle stage rules now (the server also runs them hourly): cards move to the stage the rules give."""
    from sync.office import stages

    def due(conn: Any, today: date) -> list[dict[str, Any]]:
        return [{"card": c, "from": b, "to": a} for c, b, a in stages.due(conn, today)]

    return _daily_rule_now(config, args, due, stages.apply, "moves", ("would move", "moved"), "cards to another stage")


def cmd_drill(config: Config, args: argparse.Namespace) -> int:
    st = Store(config.db_path)
    try:
        result = run_drill(config, st)
    finally:
        st.close()
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        print(("drill passed: " if result["ok"] else "drill FAILED: ") + result["message"])
    return 0 if result["ok"] else 1


def cmd_backup_keygen(config: Config, args: argparse.Namespace) -> int:
    key = create_key(Path(args.keyfile))
    print(
        f"wrote key {key} to {args.keyfile} (mode 600). Keep a copy apart from the data and the "
        "snapshots: without it no snapshot can be opened.",
        file=sys.stderr,
    )
    return 0


def cmd_backup_snapshot(config: Config, args: argparse.Namespace) -> int:
    if args.keep is not None and args.keep < 1:
        raise UsageError("--keep must be 1 or more")
    result = write_snapshot(config, Path(args.to), Path(args.key), keep=args.keep)
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        print(result["file"])
        counts = result["source"]["counts"]
        print(
            f"snapshot of {counts['cards']} cards and {counts['activities']} activities, {result['bytes']} bytes, "
            f"key {result['key_id']}" + (f"; removed {len(result['pruned'])} older" if result["pruned"] else ""),
            file=sys.stderr,
        )
    return 0


def cmd_backup_restore_snapshot(config: Config, args: argparse.Namespace) -> int:
    if _server_running(config):
        raise UsageError("the server is running on this data directory: stop it before restoring a snapshot")
    snapshot, key = Path(args.file), Path(args.key)
    st = Store(config.db_path)
    try:
        restorer = Restorer(config, st, replicator=None)
        if args.dry_run:
            print(json.dumps(restorer.preview_snapshot(snapshot, key), indent=2, ensure_ascii=False))
            return 0
        if not args.yes and not _confirmed(lambda: restorer.preview_snapshot(snapshot, key)):
            print("nothing restored", file=sys.stderr)
            return 1
        outcome = restorer.restore_snapshot(snapshot, key, by="cli")
    finally:
        st.close()
    print(
        f"restored the snapshot of {outcome['to']}; new epoch {outcome['epoch']}; the previous database is "
        f"kept as {outcome['pre_restore']}",
        file=sys.stderr,
    )
    return 0


def _user_count(config: Config) -> int:
    st = Store(config.db_path)
    try:
        with st.read() as conn:
            return db.user_count(conn)
    finally:
        st.close()


def cmd_user_add(config: Config, args: argparse.Namespace) -> int:
    st = Store(config.db_path)
    try:
        user = add_user(st, args.name, args.role, args.display or "")
    finally:
        st.close()
    print(f"added {user.role} {user.name}", file=sys.stderr)
    return 0


def cmd_token_create(config: Config, args: argparse.Namespace) -> int:
    st = Store(config.db_path)
    try:
        token = create_token(st, args.name, args.label or "")
    finally:
        st.close()
    print(token)
    return 0


def served_origin(config: Config) -> Config:
    """FIELDCARDS_ORIGIN when set; else the origin a running `fieldcards serve` on this data
    directory wrote (its port included); else the configured one."""
    if config.origin:
        return config
    try:
        served = (config.data_dir / ORIGIN_FILE).read_text().strip()
    except OSError:
        return config
    return dataclasses.replace(config, origin=served) if served.startswith(("http://", "https://")) else config


def cmd_invite(config: Config, args: argparse.Namespace) -> int:
    config = served_origin(config)
    st = Store(config.db_path)
    try:
        invite = create_invite(st, config, args.name, "cli")
    finally:
        st.close()
    print(invite["url"])
    print(
        f"one-time link for {args.name}, valid until {invite['expires_at']}; open it in the browser "
        f"that should hold the passkey (set FIELDCARDS_ORIGIN when serving elsewhere than "
        f"{config.public_origin})",
        file=sys.stderr,
    )
    return 0


def _acting_user(st: Store, name: str | None) -> User:
    """Who a command acts as: --as NAME, else the first admin (imports and exports are audited under it)."""
    from sync import db as records

    with st.read() as conn:
        if name is None:
            name = records.first_admin(conn)
            if name is None:
                raise UsageError("no admin yet: fieldcards user add NAME --role admin, or give --as NAME")
        user = records.user_named(conn, name)
    if user is None:
        raise UsageError(f"no active user named {name!r}")
    return user


def cmd_import(config: Config, args: argparse.Namespace) -> int:
    from sync.office import importer
    from sync.protocol.engine import Engine
    from sync.office.spreadsheet import read_table

    path = Path(args.file)
    st = Store(config.db_path)
    try:
        user = _acting_user(st, args.as_user)
        engine = Engine(st, default_region=config.default_region)
        match = [m.strip() for m in args.match.split(",") if m.strip()]
        table = read_table(path.name, path.read_bytes())
        # The rows go once planned (the problems file keeps those with a problem), as in the server.
        plan = importer.plan_import(engine, user, table, mapping=None, match=match, mode=args.mode, release_rows=True)
        for problem in plan.errors + plan.warnings:  # every one: a person fixes them all, not the first 50
            print(f"row {problem['row']}: {problem['message']}", file=sys.stderr)
        counts = plan.counts()
        if args.dry_run:
            print(
                json.dumps(
                    {
                        "import": None,
                        "rows": len(plan.rows),
                        **counts,
                        "errors": plan.errors,
                        "warnings": plan.warnings,
                        "mapping": plan.mapping,
                    },
                    indent=2,
                    ensure_ascii=False,
                )
            )
            return 0
        problems = importer.plan_problems(table, plan)
        del table
        outcome = importer.run_import(engine, user, plan, filename=path.name, mode=args.mode, match=match, problems=problems)
    finally:
        st.close()
    print(json.dumps(outcome, indent=2, ensure_ascii=False))
    print(
        f"import {outcome['import']}: {counts['create']} created, {counts['update']} updated, {counts['skip']} "
        f"skipped; undo with POST /api/v1/imports/{outcome['import']}/undo",
        file=sys.stderr,
    )
    return 0


def cmd_export(config: Config, args: argparse.Namespace) -> int:
    from sync.office import exporter

    path = Path(args.file)
    fmt = "xlsx" if path.suffix.lower() == ".xlsx" else "csv" if path.suffix.lower() == ".csv" else None
    if fmt is None:
        raise UsageError("the file name must end in .csv or .xlsx")
    st = Store(config.db_path)
    try:
        user = _acting_user(st, args.as_user)
        data, _, _, count = exporter.export(st, user, {"format": fmt, "lang": args.lang})
    finally:
        st.close()
    path.write_bytes(data)
    print(f"exported {count} cards to {path}", file=sys.stderr)
    return 0


def cmd_audit_verify(config: Config, args: argparse.Namespace) -> int:
    st = Store(config.db_path)
    try:
        with st.read() as conn:
            ok, summary = audit.verify(conn)
    finally:
        st.close()
    print(("audit log verified: " if ok else "audit log BROKEN: ") + summary, file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1


def _daily_rule(commands: Any, name: str, run: Callable[[Config, argparse.Namespace], int], about: str, dry_run: str) -> None:
    """A rule the server applies hourly by itself, run by hand: judged on `--today`, `--dry-run` lists."""
    command = commands.add_parser(name, help=about, epilog=f"example: fieldcards {name} --dry-run --today 2026-12-31")
    command.add_argument("--today", type=_day, default=None, help="the day to judge by, YYYY-MM-DD (default: today, UTC)")
    command.add_argument("--dry-run", action="store_true", help=dry_run)
    command.add_argument("--json", action="store_true")
    command.set_defaults(run=run)


def _group(commands: Any, name: str, help: str) -> Any:
    """A command whose work is done by subcommands of its own (`fieldcards user add`)."""
    return commands.add_parser(name, help=help).add_subparsers(dest=f"{name}_command", parser_class=_Parser)


def _command(
    commands: Any, name: str, about: str, run: Callable[[Config, argparse.Namespace], int], example: str
) -> argparse.ArgumentParser:
    """A subcommand with its help line, one example (shown by --help; tests/test_docs.py asks for
    one on every command) and the function that runs it."""
    command = commands.add_parser(name, help=about, epilog=f"example: {example}")
    command.set_defaults(run=run)
    return command


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="fieldcards",
        description="Offline-first customer cards.",
        epilog="example: fieldcards --data ./data serve --port 8000",
    )
    parser.add_argument("--data", help="data directory (default $FIELDCARDS_DATA, else ./data)")
    commands = parser.add_subparsers(dest="command", parser_class=_Parser)

    serve = _command(commands, "serve", "serve the API and the app", cmd_serve, "fieldcards serve --host 127.0.0.1 --port 8000")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--no-backup", action="store_true", help="run without Litestream replication")

    user_commands = _group(commands, "user", "manage users")
    user_add = _command(
        user_commands, "add", "add a user", cmd_user_add, 'fieldcards user add wang.wei --role rep --display "王伟"'
    )
    user_add.add_argument("name")
    user_add.add_argument("--role", required=True, choices=["rep", "manager", "office", "admin"])
    user_add.add_argument("--display")

    token_commands = _group(commands, "token", "manage API tokens")
    token_create = _command(
        token_commands,
        "create",
        "print a new API token for a user",
        cmd_token_create,
        "fieldcards token create wang.wei --label laptop",
    )
    token_create.add_argument("name")
    token_create.add_argument("--label")
    invite = _command(
        commands, "invite", "print a one-time link on which a user registers a passkey", cmd_invite, "fieldcards invite wang.wei"
    )
    invite.add_argument("name")

    points = _command(
        commands,
        "restore-points",
        "list the times the replica can restore to",
        cmd_restore_points,
        "fieldcards restore-points --json",
    )
    points.add_argument("--json", action="store_true")

    restore = _command(
        commands,
        "restore",
        "point-in-time restore (server stopped)",
        cmd_restore,
        "fieldcards restore --to 2026-11-24T09:30:00Z --dry-run",
    )
    restore.add_argument("--to", required=True, help="RFC 3339 time, or latest")
    restore.add_argument("--dry-run", action="store_true", help="preview only: what the restore gives and rolls back")
    restore.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    restore.add_argument(
        "--exclude",
        type=_id_list,
        default=[],
        metavar="ID,ID",
        help="server work not to re-apply: ids from the dry run's server_work.entries (e.g. the bad import the restore undoes)",
    )

    purge = _command(
        commands,
        "purge",
        "retention: purge cards deleted more than N days ago, with their history",
        cmd_purge,
        "fieldcards purge --days 180 --dry-run",
    )
    purge.add_argument("--days", type=int, default=None, help="default FIELDCARDS_RETENTION_DAYS (180)")
    purge.add_argument("--dry-run", action="store_true", help="only count what would be purged")
    purge.add_argument("--json", action="store_true")

    _daily_rule(
        commands,
        "reclaim",
        cmd_reclaim,
        "return cards idle past the pool's reclaim days to the pool",
        "only list the cards that would return",
    )
    _daily_rule(
        commands,
        "stages",
        cmd_stages,
        "apply the lifecycle stage rules (lead, new, active, at risk, lost, won back)",
        "only list the cards that would move",
    )

    drill = _command(
        commands, "drill", "restore the latest replica to a scratch file and check it", cmd_drill, "fieldcards drill --json"
    )
    drill.add_argument("--json", action="store_true")
    backup_commands = _group(commands, "backup", "encrypted snapshots, a second backup location")
    keygen = _command(
        backup_commands,
        "keygen",
        "make a new snapshot key file (mode 600)",
        cmd_backup_keygen,
        "fieldcards backup keygen /etc/fieldcards/snapshot.key",
    )
    keygen.add_argument("keyfile")
    snapshot = backup_commands.add_parser(
        "snapshot",
        help="write an encrypted, consistent snapshot (safe while the server runs)",
        epilog="example: fieldcards backup snapshot --to /mnt/offsite --key /etc/fieldcards/snapshot.key --keep 30",
    )
    snapshot.add_argument("--to", required=True, help="directory for the snapshot")
    snapshot.add_argument("--key", required=True, help="key file from fieldcards backup keygen")
    snapshot.add_argument("--keep", type=int, help="keep only the newest N snapshots in the directory")
    snapshot.add_argument("--json", action="store_true")
    snapshot.set_defaults(run=cmd_backup_snapshot)
    restore_snapshot = backup_commands.add_parser(
        "restore-snapshot",
        help="restore an encrypted snapshot (server stopped)",
        epilog="example: fieldcards backup restore-snapshot /mnt/offsite/fieldcards-20261124T093000Z.fcsnap "
        "--key /etc/fieldcards/snapshot.key --dry-run",
    )
    restore_snapshot.add_argument("file")
    restore_snapshot.add_argument("--key", required=True)
    restore_snapshot.add_argument("--dry-run", action="store_true", help="decrypt and check only; show what it holds")
    restore_snapshot.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    restore_snapshot.set_defaults(run=cmd_backup_restore_snapshot)

    import_cmd = _command(
        commands,
        "import",
        "import cards from a CSV or XLSX file",
        cmd_import,
        "fieldcards import customers.xlsx --dry-run --match phone,email",
    )
    import_cmd.add_argument("file")
    import_cmd.add_argument("--dry-run", action="store_true", help="show what would happen; write nothing")
    import_cmd.add_argument("--match", default="phone,email", help="keys that find an existing card: phone,email,name+company")
    import_cmd.add_argument("--mode", default="upsert", choices=["create", "update", "upsert"])
    import_cmd.add_argument(
        "--as", dest="as_user", help="the office or admin user the import is made as (default: the first admin)"
    )
    export_cmd = _command(
        commands, "export", "export the cards to a CSV (UTF-8 with BOM) or XLSX file", cmd_export, "fieldcards export cards.xlsx"
    )
    export_cmd.add_argument("file")
    export_cmd.add_argument("--as", dest="as_user", help="whose view to export (default: the first admin)")
    export_cmd.add_argument("--lang", default="en", choices=["en", "zh-CN"], help="column headers in English or Chinese")

    audit_commands = _group(commands, "audit", "the audit log")
    _command(audit_commands, "verify", "check the audit log's hash chain", cmd_audit_verify, "fieldcards audit verify")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        run: Callable[[Config, argparse.Namespace], int] | None = getattr(args, "run", None)
        if run is None:
            raise UsageError("missing command; see fieldcards --help")
        flags = {}
        if args.command == "serve":
            flags = {"host": args.host, "port": args.port, "backup": not args.no_backup}
        config = Config.load(args.data, **flags)
        return run(config, args)
    except UsageError as error:
        print(f"fieldcards: {error}", file=sys.stderr)
        return 2
    except FieldcardsError as error:
        print(f"fieldcards: {error.message}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as error:
        print(f"fieldcards: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

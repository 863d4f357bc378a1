"""Fuzzing the API from its own OpenAPI document (schemathesis) on the real app in-process, as an
admin, an office user and a rep: no 5xx, every error in the contract's shape, every response as the
document says. Afterwards the database passes `PRAGMA integrity_check` and `fieldcards audit verify`.
Each generated request is encoded by requests, as schemathesis would send it over a socket, and its
bytes go to the app through Starlette's TestClient.

Fixed seed (hypothesis' derandomize) and a bounded example count per operation, each case sent as
every role, so a run sends the same requests every time: about 2,100 of them, in four parts (one
test each, on an app of its own). Run with `-s` (and without `-n`) for the figures (requests sent,
5xx seen, answers by status) that docs/security.md quotes.
"""

from __future__ import annotations

import collections
import contextlib
import csv
import io
import os
import sqlite3
import time
import uuid
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from server.auth.sessions import COOKIE
from sync.protocol.hlc import Clock

from .conftest import App, Caller
from .test_cli import fieldcards

ROLES = (("fuzz-admin", "admin"), ("fuzz-office", "office"), ("fuzz-rep", "rep"))
# per operation (each sent as 3 roles): 91 operations, fewer where the inputs run out; a deeper run
# (not in CI) with FIELDCARDS_FUZZ_EXAMPLES=200
EXAMPLES = int(os.environ.get("FIELDCARDS_FUZZ_EXAMPLES", "8"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def _prepare(case: schemathesis.Case) -> None:
    """Our credentials, not generated ones; the restore only ever as a preview (a real one would
    replace the database under the run)."""
    case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
    case.cookies = {k: v for k, v in (case.cookies or {}).items() if k != COOKIE}
    if case.operation.label == "POST /admin/restore" and isinstance(case.body, dict):
        case.body = {**case.body, "dry_run": True}


def _error_shape_problem(response: httpx.Response) -> str | None:
    """Every 4xx/5xx body: {"error": {"code", "message", "fields": [{"path", "message"}]}}."""
    try:
        body = response.json()
    except ValueError:
        return f"not JSON: {response.text[:80]!r}"
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(body, dict) or set(body) != {"error"} or not isinstance(error, dict):
        return f"not the error shape: {str(body)[:120]}"
    if not (
        isinstance(error.get("code"), str)
        and isinstance(error.get("message"), str)
        and isinstance(error.get("fields"), list)
        and all(isinstance(f, dict) and {"path", "message"} <= set(f) for f in error["fields"])
    ):
        return f"code, message or fields missing: {str(body)[:120]}"
    return None


CELL = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)  # any text UTF-8 can hold
CSV_ROWS = st.lists(
    st.tuples(
        CELL,
        st.from_regex(r"\+8613[0-9]{9}", fullmatch=True) | CELL,
        st.emails() | CELL,
        st.sampled_from(["A", "B", "C", ""]) | CELL,
    ),
    min_size=1,
    max_size=4,
)


def _with_csv(drawn: tuple[schemathesis.Case, list[tuple[str, ...]]]) -> schemathesis.Case:
    """A generated upload holds random bytes; this one is a CSV, so imports run past the parser."""
    case, rows = drawn
    out = io.StringIO()
    csv.writer(out).writerows([("name", "phones", "emails", "segment"), *rows])
    case.body = {**(case.body if isinstance(case.body, dict) else {}), "file": out.getvalue().encode()}
    return case


def _strategy(operation: Any, known: dict[str, str]) -> st.SearchStrategy:
    """Valid and invalid inputs alike (both must get an answer in the contract's shape), and
    now and then the id of a thing that exists, so that a route gets past its 404."""
    modes = [operation.as_strategy(GenerationMode.POSITIVE)]
    try:
        modes.append(operation.as_strategy(GenerationMode.NEGATIVE))
    except Exception:  # nothing to make invalid (no parameters, no body): positive only
        pass
    existing = {name: value for name, value in known.items() if f"{{{name}}}" in operation.path}
    if existing:
        modes.append(operation.as_strategy(GenerationMode.POSITIVE, path_parameters=existing))
    if operation.label == "POST /imports":
        modes.append(st.tuples(operation.as_strategy(GenerationMode.POSITIVE), CSV_ROWS).map(_with_csv))
    return st.one_of(modes)


def _seed(client: Caller) -> dict[str, str]:
    """A rep's card with an open conflict on it (every role may see it): ids for the path parameters."""
    card, clock = str(uuid.uuid4()), Clock("seed")
    mutations = [{"id": "seed-1", "op": "card.put", "card": card, "at": clock.now(), "fields": {"name": "Seed"}}]
    mutations += [
        {
            "id": f"seed-{name}",
            "op": "card.put",
            "card": card,
            "at": clock.now(),
            "fields": {"name": name},
            "was": {"name": "Seed"},
        }
        for name in ("Two", "Three")
    ]
    assert client.post("/api/v1/sync", json={"device": "seed", "mutations": mutations}).status_code == 200
    conflicts = client.get("/api/v1/conflicts", params={"card": card}).json()["conflicts"]
    assert len(conflicts) == 1, conflicts
    return {"card_id": card, "conflict_id": conflicts[0]["id"]}


def _send(app: App, case: schemathesis.Case, headers: dict[str, str]) -> httpx.Response:
    """The case as requests encodes it (what `case.call` would put on a socket), sent in-process."""
    sent = requests.Request(**case.as_transport_kwargs(base_url=f"{app.url}/api/v1", headers=headers)).prepare()
    return app.http.request(sent.method, sent.url, headers=dict(sent.headers), content=sent.body or b"")


# The operations in parts, each on an app of its own: one part a test, so that `-n 2` runs them
# side by side (the run was the suite's longest test).
PARTS = 4


@pytest.mark.parametrize("part", range(PARTS))
def test_fuzzing_the_api_as_every_role_finds_no_5xx_and_keeps_the_data_whole(app: App, part: int) -> None:
    data = app.data
    sent: collections.Counter[str] = collections.Counter()
    statuses: collections.Counter[int] = collections.Counter()
    failures: list[str] = []
    by_operation: collections.defaultdict[str, collections.Counter[int]] = collections.defaultdict(collections.Counter)
    started = time.monotonic()
    tokens = {role: app.user(name, role) for name, role in ROLES}
    known = _seed(app.client("fuzz-rep"))
    # the document the app serves (from_url would leave out the operation serving it)
    schema = schemathesis.openapi.from_dict(app.http.get("/api/v1/openapi.json").json())
    operations = [result.ok() for result in schema.get_all_operations()][part::PARTS]
    # a cookie session's writes need the CSRF header and our origin; bearer requests do not, sent anyway
    headers = {
        role: {"authorization": f"Bearer {token}", "x-fieldcards": "1", "origin": app.url} for role, token in tokens.items()
    }
    for operation in operations:
        # Each generated case goes out as every role in turn: generating is most of the run's cost,
        # and with a fixed seed each role was sent the same cases anyway.
        @settings(
            max_examples=EXAMPLES,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=_strategy(operation, known))
        def fuzz(case: schemathesis.Case) -> None:
            _prepare(case)
            for role, as_role in headers.items():
                response = _send(app, case, as_role)
                sent[role] += 1
                statuses[response.status_code] += 1
                by_operation[f"{case.operation.label} {role}"][response.status_code] += 1
                where = f"{role} {case.operation.label} -> {response.status_code}"
                if response.status_code >= 400:
                    problem = _error_shape_problem(response)
                    if problem:
                        failures.append(f"{where}: {problem}")
                try:
                    case.validate_response(response, checks=CHECKS, headers=as_role)
                except FailureGroup as group:  # collect every failure; one run shows them all
                    failures.extend(f"{where}: {str(failure)[:600]}" for failure in group.exceptions)
                    failures.append(f"    {case.as_curl_command(as_role)[:400]}")

        fuzz()
    took = time.monotonic() - started
    total, errors_5xx = sum(sent.values()), sum(n for code, n in statuses.items() if code >= 500)
    print(
        f"\nfuzz part {part + 1} of {PARTS}: {total} requests ({dict(sent)}) over {len(operations)} operations "
        f"in {took:.0f} s; 5xx: {errors_5xx}; statuses: {dict(sorted(statuses.items()))}"
    )

    if os.environ.get("FIELDCARDS_FUZZ_EXAMPLES"):
        for label, counts in sorted(by_operation.items()):
            print(f"  {label}: {dict(sorted(counts.items()))}")
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(failures[:40])
    assert errors_5xx == 0
    assert total >= 1000 // PARTS
    with contextlib.closing(sqlite3.connect(data / "fieldcards.db")) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    verified = fieldcards("--data", str(data), "audit", "verify")
    assert verified.returncode == 0, verified.stderr
    assert "chain intact" in verified.stdout

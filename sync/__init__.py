"""Fieldcards' data: what happens to a customer card, in plain Python with no web framework.

The map, one package a layer, highest first. A module imports only from its own layer or the
layers below it (tests/test_architecture.py keeps this true):

    office/    the office's tools: spreadsheet import and export, duplicates and merges (dedupe),
               dashboard and charts, data quality, reminders, reclaim rules, lifecycle stages,
               rep scorecards, survey links in bulk, and the replay of the server's own work
               after a restore
    outward/   what faces outside: the customer's own link page, surveys, personal-information
               rights (access export, erasure), webhooks delivery
    protocol/  the sync protocol: the request model, hybrid clocks, cursors, one field's merge rule,
               the engine (a batch of mutations in one transaction), the reference client
    cards/     the card's rules: validation (phones in E.164, dates), the admin's template, JSON
               Schema, search text, read queries, attachments, customer links, the pool, follow-ups
    people/    users and tokens, devices, teams, admin settings (passkeys and sessions: db/identity.py)
    records    audit.py (the hash-chained audit log), journal.py (the server's own work, replayed
               after a restore), events.py (the webhook outbox, written in the change's transaction)
    db/        the only package that runs SQL: connections and pragmas, migrations, one module per
               table family
    leaves     errors.py (the one exception hierarchy), times.py, access.py (who may see what),
               jsontext.py, recent.py (throttles), places.py (distances), ids.py (time-ordered UUIDs)

Rules: `sync/` never imports `server/`; no private name (`_x`) is imported across modules; SQL only
in `db/`. docs/architecture.md follows one mutation from a phone's outbox to another phone.
"""

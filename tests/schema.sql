CREATE TABLE "activities" (
   "id" TEXT PRIMARY KEY,
   "card" TEXT NOT NULL,
   "seq" INTEGER NOT NULL,
   "data" TEXT NOT NULL
);
CREATE TABLE "attachments" (
   "id" TEXT PRIMARY KEY,
   "card" TEXT NOT NULL,
   "activity" TEXT,
   "name" TEXT NOT NULL,
   "type" TEXT NOT NULL,
   "size" INTEGER NOT NULL,
   "sha256" TEXT NOT NULL,
   "by" TEXT,
   "created_at" TEXT,
   "uploaded" INTEGER DEFAULT 0,
   "seq" INTEGER NOT NULL
);
CREATE TABLE "audit" (
   "id" INTEGER PRIMARY KEY,
   "at" TEXT NOT NULL,
   "actor" TEXT NOT NULL,
   "action" TEXT NOT NULL,
   "target" TEXT,
   "detail" TEXT,
   "prev_hash" TEXT,
   "hash" TEXT NOT NULL
);
CREATE TABLE "blob_chunks" (
   "sha256" TEXT,
   "offset" INTEGER,
   "data" BLOB,
   PRIMARY KEY ("sha256", "offset")
);
CREATE TABLE "blobs" (
   "sha256" TEXT PRIMARY KEY,
   "size" INTEGER,
   "data" BLOB
);
CREATE TABLE "card_keys" (
   "key" TEXT,
   "card" TEXT,
   PRIMARY KEY ("key", "card")
);
CREATE TABLE "cards" (
   "id" TEXT PRIMARY KEY,
   "owner" TEXT NOT NULL,
   "deleted" INTEGER,
   "version" INTEGER NOT NULL,
   "seq" INTEGER NOT NULL,
   "created_at" TEXT,
   "updated_at" TEXT,
   "merged_into" TEXT,
   "clocks" TEXT,
   "search" TEXT,
   "data" TEXT NOT NULL
, "erased" INTEGER NOT NULL DEFAULT 0);
CREATE TABLE "challenges" (
   "id" TEXT PRIMARY KEY,
   "purpose" TEXT NOT NULL,
   "challenge" TEXT NOT NULL,
   "user" TEXT,
   "invite" TEXT,
   "expires" INTEGER NOT NULL
);
CREATE TABLE "claims" (
   "mutation" TEXT PRIMARY KEY,
   "card" TEXT NOT NULL,
   "user" TEXT NOT NULL,
   "device" TEXT,
   "at" TEXT NOT NULL,
   "since" TEXT,
   "received_at" TEXT NOT NULL,
   "status" TEXT NOT NULL,
   "version" INTEGER
);
CREATE TABLE "colleague_hits" (
   "card" TEXT,
   "code" TEXT,
   "user" TEXT,
   "at" TEXT,
   PRIMARY KEY ("card", "code")
);
CREATE TABLE "conflicts" (
   "id" TEXT PRIMARY KEY,
   "card" TEXT,
   "field" TEXT,
   "status" TEXT,
   "kept" TEXT,
   "other" TEXT,
   "kept_by" TEXT,
   "other_by" TEXT,
   "kept_at" TEXT,
   "other_at" TEXT,
   "created_at" TEXT,
   "mutation" TEXT,
   "resolved_at" TEXT,
   "resolved_by" TEXT
);
CREATE TABLE "credentials" (
   "id" TEXT PRIMARY KEY,
   "user" TEXT NOT NULL REFERENCES "users"("name"),
   "public_key" TEXT NOT NULL,
   "sign_count" INTEGER,
   "transports" TEXT,
   "label" TEXT,
   "created_at" TEXT,
   "last_used_at" TEXT
);
CREATE TABLE "devices" (
   "id" TEXT PRIMARY KEY,
   "user" TEXT,
   "first_sync" TEXT,
   "last_sync" TEXT,
   "pending" INTEGER,
   "app" TEXT,
   "user_agent" TEXT,
   "revoked_at" TEXT
, "credential" TEXT, "name" TEXT);
CREATE TABLE "exits" (
   "seq" INTEGER PRIMARY KEY,
   "card" TEXT,
   "user" TEXT,
   "reason" TEXT,
   "into_card" TEXT
);
CREATE TABLE "history" (
   "id" INTEGER PRIMARY KEY,
   "card" TEXT,
   "version" INTEGER,
   "at" TEXT,
   "authored_at" TEXT,
   "received_at" TEXT,
   "user" TEXT,
   "device" TEXT,
   "mutation" TEXT,
   "changes" TEXT
);
CREATE TABLE "import_rows" (
   "import" TEXT,
   "row" INTEGER,
   "card" TEXT,
   "action" TEXT,
   "before" TEXT,
   "after" TEXT,
   PRIMARY KEY ("import", "row")
);
CREATE TABLE "imports" (
   "id" TEXT PRIMARY KEY,
   "user" TEXT NOT NULL,
   "created_at" TEXT NOT NULL,
   "filename" TEXT,
   "mode" TEXT,
   "match" TEXT,
   "summary" TEXT,
   "undone_at" TEXT,
   "undone_by" TEXT
, "problems" TEXT);
CREATE TABLE "invites" (
   "id" TEXT PRIMARY KEY,
   "user" TEXT NOT NULL,
   "created_by" TEXT,
   "created_at" TEXT,
   "expires" INTEGER NOT NULL,
   "used_at" TEXT
);
CREATE TABLE "journal" (
   "id" INTEGER PRIMARY KEY,
   "at" TEXT NOT NULL,
   "user" TEXT NOT NULL,
   "role" TEXT NOT NULL,
   "kind" TEXT NOT NULL,
   "ref" TEXT,
   "payload" TEXT NOT NULL,
   "excluded_at" TEXT,
   "excluded_by" TEXT
);
CREATE TABLE "links" (
   "id" TEXT PRIMARY KEY,
   "card" TEXT NOT NULL,
   "purpose" TEXT NOT NULL,
   "survey" TEXT,
   "expires" TEXT NOT NULL,
   "created_by" TEXT,
   "created_at" TEXT,
   "used_at" TEXT,
   "revoked_at" TEXT,
   "answer" TEXT
);
CREATE TABLE "merges" (
   "id" TEXT PRIMARY KEY,
   "into" TEXT NOT NULL,
   "from" TEXT NOT NULL,
   "snapshot" TEXT NOT NULL,
   "result" TEXT,
   "by" TEXT,
   "at" TEXT,
   "undone_at" TEXT,
   "undone_by" TEXT
);
CREATE TABLE "meta" (
   "key" TEXT PRIMARY KEY,
   "value" TEXT
);
CREATE TABLE "mutations" (
   "id" TEXT PRIMARY KEY,
   "user" TEXT,
   "device" TEXT,
   "received_at" TEXT,
   "result" TEXT
);
CREATE TABLE "pool_entries" (
   "card" TEXT PRIMARY KEY,
   "since" TEXT
);
CREATE TABLE "sessions" (
   "id" TEXT PRIMARY KEY,
   "user" TEXT NOT NULL,
   "created_at" TEXT,
   "last_seen" INTEGER NOT NULL,
   "expires" INTEGER NOT NULL,
   "user_agent" TEXT,
   "revoked_at" TEXT
);
CREATE TABLE sqlite_sequence(name,seq);
CREATE TABLE "team_members" (
   "team" TEXT,
   "user" TEXT,
   "manages" INTEGER DEFAULT 0,
   PRIMARY KEY ("team", "user")
);
CREATE TABLE "teams" (
   "id" TEXT PRIMARY KEY,
   "name" TEXT NOT NULL,
   "created_at" TEXT
);
CREATE TABLE "tokens" (
   "id" TEXT PRIMARY KEY,
   "user" TEXT NOT NULL REFERENCES "users"("name"),
   "hash" TEXT NOT NULL,
   "label" TEXT,
   "created_at" TEXT,
   "last_used_at" TEXT,
   "revoked_at" TEXT
);
CREATE TABLE "users" (
   "name" TEXT PRIMARY KEY,
   "role" TEXT NOT NULL,
   "display" TEXT,
   "created_at" TEXT NOT NULL,
   "disabled" INTEGER DEFAULT 0
, "webauthn_id" TEXT);
CREATE TABLE "webhook_attempts" (
   "id" INTEGER PRIMARY KEY,
   "delivery" INTEGER NOT NULL,
   "endpoint" TEXT NOT NULL,
   "event" TEXT,
   "at" TEXT NOT NULL,
   "status_code" INTEGER,
   "error" TEXT,
   "duration_ms" INTEGER
);
CREATE TABLE "webhook_endpoints" (
   "id" TEXT PRIMARY KEY,
   "url" TEXT NOT NULL,
   "events" TEXT NOT NULL,
   "secret" TEXT NOT NULL,
   "enabled" INTEGER DEFAULT 1,
   "failing" INTEGER DEFAULT 0,
   "failing_since" TEXT,
   "created_by" TEXT,
   "created_at" TEXT,
   "updated_at" TEXT
);
CREATE TABLE webhook_outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, endpoint TEXT NOT NULL, event TEXT NOT NULL, type TEXT NOT NULL, key TEXT NOT NULL, body TEXT NOT NULL, created_at TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0, first_attempt_at TEXT, next_attempt_at REAL NOT NULL DEFAULT 0, delivered_at TEXT, UNIQUE(endpoint, event));
CREATE INDEX "idx_activities_card"
    ON "activities" ("card");
CREATE UNIQUE INDEX "idx_activities_seq"
    ON "activities" ("seq");
CREATE INDEX "idx_attachments_card"
    ON "attachments" ("card");
CREATE UNIQUE INDEX "idx_attachments_seq"
    ON "attachments" ("seq");
CREATE INDEX "idx_attachments_sha256"
    ON "attachments" ("sha256");
CREATE INDEX "idx_card_keys_card"
    ON "card_keys" ("card");
CREATE INDEX "idx_cards_owner_seq"
    ON "cards" ("owner", "seq");
CREATE UNIQUE INDEX "idx_cards_seq"
    ON "cards" ("seq");
CREATE INDEX "idx_claims_card"
    ON "claims" ("card");
CREATE INDEX "idx_claims_user_received_at"
    ON "claims" ("user", "received_at");
CREATE INDEX "idx_conflicts_card_status"
    ON "conflicts" ("card", "status");
CREATE INDEX "idx_conflicts_status"
    ON "conflicts" ("status");
CREATE INDEX "idx_credentials_user"
    ON "credentials" ("user");
CREATE INDEX "idx_exits_card_user"
    ON "exits" ("card", "user");
CREATE INDEX "idx_exits_user_seq"
    ON "exits" ("user", "seq");
CREATE INDEX "idx_history_card_version"
    ON "history" ("card", "version");
CREATE INDEX "idx_journal_at"
    ON "journal" ("at");
CREATE INDEX "idx_links_card"
    ON "links" ("card");
CREATE INDEX "idx_mutations_received_at"
    ON "mutations" ("received_at");
CREATE INDEX "idx_sessions_user"
    ON "sessions" ("user");
CREATE INDEX "idx_team_members_user"
    ON "team_members" ("user");
CREATE UNIQUE INDEX "idx_tokens_hash"
    ON "tokens" ("hash");
CREATE INDEX "idx_webhook_attempts_delivery"
    ON "webhook_attempts" ("delivery");
CREATE INDEX webhook_outbox_due ON webhook_outbox(endpoint, status, key, id);

"""The only package that runs SQL: connections and migrations, then one module per table family.

Callers write `from sync import db` and `db.card_row(conn, id)`: this file gathers the public
names of the modules below, so a query is found by name without knowing its module.
"""

from sync.db.activities import (  # noqa: F401
    activity_exists,
    activity_author,
    insert_activity,
    activity_ids_of_card,
    move_activity_to_seq,
    activities_of_card,
)
from sync.db.attachments import (  # noqa: F401
    ATTACHMENT_KEYS,
    ATTACHMENT_JSON,
    insert_attachment,
    attachment_row,
    attachments_of_card,
    attachment_ids_of_card,
    move_attachment,
    bytes_declared_by,
    blob_complete,
    blob_received,
    append_blob_chunk,
    blob_bytes,
    drop_blob_chunks,
    complete_blob,
    waiting_for_bytes,
    mark_uploaded,
    forget_orphan_blobs,
)
from sync.db.audit import (  # noqa: F401
    AUDIT_KEYS,
    last_audit,
    insert_audit,
    audit_entries,
)
from sync.db.cards import (  # noqa: F401
    cards_changed_after,
    live_card_ids_of,
    move_card_to_seq,
    card_row,
    save_card,
    replace_card_keys,
    add_card_keys,
    owned,
    shares_a_key,
    cards_sharing_keys,
    live_cards,
    live_activities,
    card_json,
    cards_json,
    list_cards,
    mark_exit,
    managers_of,
    card_left_user,
)
from sync.db.conflicts import (  # noqa: F401
    CONFLICT_KEYS,
    insert_conflict,
    conflict_by_id,
    list_conflicts,
    resolve_conflict_row,
)
from sync.db.connection import (  # noqa: F401
    PRAGMAS,
    connect,
    Store,
    begin,
    commit,
    savepoint,
    rollback_to,
    release,
    ping,
)
from sync.db.devices import (  # noqa: F401
    device_revoked,
    record_device,
    device_credential,
    device_known,
    active_devices_of_user,
    DEVICE_KEYS,
    all_devices,
    device_of,
    name_device,
    revoke_device,
)
from sync.db.erasure import (  # noqa: F401
    cards_merged_into,
    erase_card,
    deleted_cards_before,
    journal_mentioning,
    replace_journal_payload,
    import_rows_of_card,
    audit_about,
)
from sync.db.history import (  # noqa: F401
    insert_history,
    history_of_card,
    edited_by_other_device_since,
    mutation_ids_in_history,
)
from sync.db.imports import (  # noqa: F401
    people_for_import,
    import_exists,
    insert_import_rows,
    insert_import,
    import_problems,
    imports_newest_first,
    import_undone_at,
    import_rows_pages,
    versions_left_by,
    mark_import_undone,
)
from sync.db.journal import (  # noqa: F401
    JOURNAL_KEYS,
    insert_journal,
    last_journal_id,
    journal_after,
    insert_journal_entry,
    exclude_journal_entry,
    forget_journal_before,
    has_journal,
)
from sync.db.links import (  # noqa: F401
    LINK_KEYS,
    insert_link,
    link_row,
    use_link,
    revoke_link,
    forget_link_answers,
    links_of_card,
)
from sync.db.merges import (  # noqa: F401
    shared_card_keys,
    live_names_and_companies,
    insert_merge,
    move_activity_to_card,
    merge_record,
    mark_merge_undone,
)
from sync.db.meta import (  # noqa: F401
    meta_value,
    set_meta,
    delete_meta,
    last_seq,
    new_epoch,
    begin_new_epoch,
    meta_settings,
)
from sync.db.migrations import (  # noqa: F401
    name_company_key,
    MIGRATIONS,
    migrate,
)
from sync.db.people import (  # noqa: F401
    insert_user,
    teams,
    save_team,
    team_exists,
    delete_team,
    user_named,
    with_team,
    user_exists,
    insert_token,
    user_for_token_hash,
    touch_token,
    user_count,
    first_admin,
    set_calendar_key,
    user_for_calendar_key,
)
from sync.db.pool import (  # noqa: F401
    pool_since,
    set_pool_since,
    end_pool_round,
    insert_claim,
    winning_claim,
    set_claim_status,
    claims_won_since,
    lost_claim,
    cards_held,
    card_history_after,
    replace_result,
    owners_sharing_keys,
    owners_of,
    record_colleague_hit,
    colleague_hits_since,
    colleague_hit_cards,
    keys_for_buckets,
    cards_to_reclaim,
)
from sync.db.restore import (  # noqa: F401
    latest_change,
    history_after,
    count_history_after,
    history_sources_after,
    devices_not_synced_since,
    counts,
    integrity,
    empty_wal,
    ACCESS_TABLES,
    ACCESS_META,
    ACCESS_KEYS,
    copy_access_state,
    copy_database,
)
from sync.db.results import (  # noqa: F401
    stored_result,
    stored_results,
    store_result,
    forget_results_before,
)
from sync.db.rows import (  # noqa: F401
    CardRow,
    StreamRow,
)
from sync.db.scorecards import (  # noqa: F401
    rep_names,
    activities_by,
    cards_created_by,
    ratings_on_cards,
)
from sync.db.stream import (  # noqa: F401
    stream_after,
)
from sync.db.voice import (  # noqa: F401
    answered_links,
    changes_via_link,
    follow_up_history,
    survey_links,
    stage_facts,
    card_stages,
    stage_history,
    touches_of,
)
from sync.db.webhooks import (  # noqa: F401
    ENDPOINT_COLUMNS,
    webhook_endpoints,
    webhook_endpoint,
    save_webhook_endpoint,
    endpoints_listening_to,
    insert_outbox,
    forget_outbox_of_cards,
    OUTBOX_COLUMNS,
    due_deliveries,
    delivery,
    deliveries_of,
    record_attempt,
    requeue_delivery,
    set_endpoint_failing,
    start_test_delivery,
)

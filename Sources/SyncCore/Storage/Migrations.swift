import GRDB

/// The database schema, in database vocabulary. Migrations are frozen once released: add a new
/// one, never edit an old one.
enum Migrations {
    /// The op log's columns as v1-replica creates them (checked at open; see ReplicaStore.open).
    static let opColumns = ["id", "hlc", "target", "value", "supersedes"]

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1-replica") { db in
            // Local facts about this installation (replica id, unit, clock); never replicated.
            try db.execute(
                sql: """
                    CREATE TABLE local_state (
                        key TEXT PRIMARY KEY NOT NULL,
                        value NOT NULL
                    ) WITHOUT ROWID;

                    -- Replica ids interned to small integers for compact op rows.
                    CREATE TABLE origin (
                        idx INTEGER PRIMARY KEY,
                        replica TEXT NOT NULL UNIQUE CHECK (length(replica) BETWEEN 4 AND 32)
                    );

                    -- The op log: immutable, append-only, the source of truth. `id` is the dot,
                    -- origin idx * 2^28 + counter (OpKey): an integer key, so an insert is a
                    -- rowid seek, cheaper than a (origin, counter) composite key, and 5 bytes
                    -- for the first 127 origins, no more than the two columns took. `target` names
                    -- the record and field in one integer: ((typed rowid * 4 + the kind's code)
                    -- * 32 + the field's schema index). `hlc` is in its storage form
                    -- (HLC.storageValue), `supersedes` varint pairs (origin idx, counter).
                    CREATE TABLE op (
                        id INTEGER PRIMARY KEY CHECK (id & 268435455 > 0),
                        hlc INTEGER NOT NULL,
                        target INTEGER NOT NULL,
                        value,
                        supersedes BLOB
                    );

                    -- Ops that arrived ahead of a gap in their origin's counters, held back until it fills.
                    CREATE TABLE pending_op (
                        origin INTEGER NOT NULL REFERENCES origin(idx),
                        counter INTEGER NOT NULL CHECK (counter > 0),
                        hlc INTEGER NOT NULL,
                        record TEXT NOT NULL,
                        field TEXT NOT NULL,
                        value,
                        supersedes BLOB,
                        PRIMARY KEY (origin, counter)
                    ) WITHOUT ROWID;

                    -- vv[origin] = the highest counter of origin applied.
                    CREATE TABLE version_vector (
                        origin INTEGER PRIMARY KEY REFERENCES origin(idx),
                        counter INTEGER NOT NULL CHECK (counter >= 0)
                    );

                    -- Fields with more than one surviving value, for review.
                    CREATE TABLE conflict (
                        record TEXT NOT NULL,
                        field TEXT NOT NULL,
                        PRIMARY KEY (record, field)
                    ) WITHOUT ROWID;

                    -- Other replicas (the hub) and what they have acknowledged.
                    CREATE TABLE peer (
                        name TEXT PRIMARY KEY NOT NULL,
                        url TEXT,
                        acked TEXT NOT NULL DEFAULT '{}',
                        last_sync TEXT
                    );

                    -- Typed tables, derived from the op log: current winners plus `meta`, each
                    -- field's multi-value register in compact binary form.
                    CREATE TABLE replica (
                        id TEXT PRIMARY KEY NOT NULL,
                        unit TEXT,
                        label TEXT,
                        meta BLOB NOT NULL
                    );

                    CREATE TABLE task (
                        id TEXT PRIMARY KEY NOT NULL,
                        unit TEXT,
                        item TEXT,
                        title TEXT,
                        due TEXT,
                        status TEXT,
                        note TEXT,
                        deleted INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
                        meta BLOB NOT NULL
                    );
                    CREATE INDEX task_unit ON task(unit);

                    CREATE TABLE activity (
                        id TEXT PRIMARY KEY NOT NULL,
                        unit TEXT,
                        date TEXT,
                        form TEXT,
                        content TEXT,
                        title TEXT,
                        description TEXT,
                        quantity INTEGER CHECK (quantity IS NULL OR quantity >= 0),
                        participants INTEGER CHECK (participants IS NULL OR participants >= 0),
                        url TEXT,
                        note TEXT,
                        recorded TEXT,
                        deleted INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
                        meta BLOB NOT NULL
                    );

                    CREATE TABLE unit_report (
                        id TEXT PRIMARY KEY NOT NULL,
                        unit TEXT,
                        period TEXT,
                        results TEXT,
                        issues TEXT,
                        proposals TEXT,
                        status TEXT,
                        figures TEXT,
                        figures_hash TEXT,
                        submitted_at TEXT,
                        tthc_total INTEGER CHECK (tthc_total IS NULL OR tthc_total >= 0),
                        tthc_online INTEGER CHECK (tthc_online IS NULL OR tthc_online >= 0),
                        dossiers_total INTEGER CHECK (dossiers_total IS NULL OR dossiers_total >= 0),
                        dossiers_online INTEGER CHECK (dossiers_online IS NULL OR dossiers_online >= 0),
                        deleted INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
                        meta BLOB NOT NULL
                    );
                    """)
        }
        m.registerMigration("v2-hub") { db in
            // Hub side: enrolled replicas. `key_hash` is K = SHA-256(secret): the hub never stores
            // the secret itself, and K is the HMAC key both sides sign with (docs/PROTOCOL.md).
            // Client side: its own credentials. Both: nonces seen, to refuse replays.
            try db.execute(
                sql: """
                    CREATE TABLE enrolment (
                        replica TEXT PRIMARY KEY NOT NULL CHECK (length(replica) BETWEEN 4 AND 32),
                        unit TEXT NOT NULL,
                        key_hash BLOB NOT NULL CHECK (length(key_hash) = 32),
                        enrolled_at TEXT NOT NULL,
                        revoked_at TEXT,
                        last_sync TEXT,
                        last_vv TEXT NOT NULL DEFAULT '{}',
                        syncs INTEGER NOT NULL DEFAULT 0 CHECK (syncs >= 0)
                    );

                    -- Nonces of requests and bundles already accepted, until they expire (Unix seconds).
                    CREATE TABLE seen_nonce (
                        replica TEXT NOT NULL,
                        nonce TEXT NOT NULL,
                        expires_at INTEGER NOT NULL,
                        PRIMARY KEY (replica, nonce)
                    ) WITHOUT ROWID;
                    CREATE INDEX seen_nonce_expiry ON seen_nonce(expires_at);

                    -- The replica's enrolment at its hub: one row at most.
                    CREATE TABLE credential (
                        id INTEGER PRIMARY KEY CHECK (id = 1),
                        hub_url TEXT,
                        replica TEXT NOT NULL,
                        unit TEXT NOT NULL,
                        secret TEXT NOT NULL CHECK (length(secret) >= 32)
                    );
                    """)
        }
        m.registerMigration("v3-signed-ops") { db in
            // Verifiable ops (docs/PROTOCOL.md, "Verifiable ops"). `version_vector.hash` is each
            // origin's chain head H(counter); `legacy` the counter up to which its ops were
            // received before signing existed (they start the chain, unsigned until the author
            // signs a later head). `signed_head` keeps authors' signatures on heads, `hash` NULL
            // while one waits (held back) for the ops it covers. `fork` is the evidence of two
            // different ops met under one dot. The hub binds each enrolment to the key of the
            // first machine that uses it.
            try db.execute(
                sql: """
                    ALTER TABLE version_vector ADD COLUMN hash BLOB CHECK (hash IS NULL OR length(hash) = 32);
                    ALTER TABLE version_vector ADD COLUMN legacy INTEGER NOT NULL DEFAULT 0 CHECK (legacy >= 0);
                    ALTER TABLE replica ADD COLUMN key TEXT;

                    CREATE TABLE signed_head (
                        origin INTEGER NOT NULL REFERENCES origin(idx),
                        counter INTEGER NOT NULL CHECK (counter > 0),
                        hash BLOB CHECK (hash IS NULL OR length(hash) = 32),
                        signature BLOB NOT NULL CHECK (length(signature) = 64),
                        -- 1: the signature itself was checked (the head a batch ended at, or
                        -- signed here); 0: covered by a later checked head of the same chain,
                        -- checked again before a page is cut there.
                        checked INTEGER NOT NULL DEFAULT 1 CHECK (checked IN (0, 1)),
                        PRIMARY KEY (origin, counter)
                    ) WITHOUT ROWID;

                    CREATE TABLE fork (
                        id INTEGER PRIMARY KEY,
                        origin TEXT NOT NULL,
                        counter INTEGER NOT NULL,
                        detected_at TEXT NOT NULL,
                        source TEXT NOT NULL,
                        ours TEXT NOT NULL,
                        theirs TEXT NOT NULL,
                        evidence TEXT NOT NULL,
                        closed_at TEXT,
                        closed_why TEXT
                    );
                    CREATE INDEX fork_open ON fork(origin, counter) WHERE closed_at IS NULL;

                    ALTER TABLE enrolment ADD COLUMN machine_key TEXT;
                    ALTER TABLE enrolment ADD COLUMN bound_at TEXT;
                    """)
            try ReplicaStore.startChains(db)
        }
        m.registerMigration("v4-plan-data") { db in
            // The plan as replicated data (docs/PLAN-DATA.md): one row per entry `KH.<year>.<code>`.
            // Its genesis entries (the 2026 plan) are applied after the migration, when the
            // database is initialised (ReplicaStore.open, `completeGenesis`). `unknown_op` keeps
            // ops this program's schema does not know (a newer program's field or kind): stored,
            // counted and relayed, applied by the upgrade that knows them.
            try db.execute(
                sql: """
                    CREATE TABLE plan_entry (
                        id TEXT PRIMARY KEY NOT NULL,
                        type TEXT,
                        title TEXT,
                        measure TEXT,
                        people TEXT,
                        url_required INTEGER CHECK (url_required IS NULL OR url_required IN (0, 1)),
                        units TEXT,
                        valid_from TEXT,
                        retired_on TEXT,
                        symbol TEXT,
                        issued TEXT,
                        document TEXT,
                        assumed INTEGER CHECK (assumed IS NULL OR assumed IN (0, 1)),
                        meta BLOB NOT NULL
                    );

                    CREATE TABLE unknown_op (
                        origin INTEGER NOT NULL REFERENCES origin(idx),
                        counter INTEGER NOT NULL CHECK (counter > 0),
                        hlc INTEGER NOT NULL,
                        record TEXT NOT NULL,
                        field TEXT NOT NULL,
                        value,
                        supersedes BLOB,
                        PRIMARY KEY (origin, counter)
                    ) WITHOUT ROWID;
                    """)
        }
        m.registerMigration("v5-duties-and-drafts") { db in
            // Schema 3 (docs/REPORTS.md): the duty an activity serves, the Office's direction
            // documents and its consolidated draft of each period. Ops of these kinds and field
            // that an older program kept in `unknown_op` are applied at open (`applyOpsNowKnown`).
            try db.execute(
                sql: """
                    ALTER TABLE activity ADD COLUMN duty TEXT;

                    CREATE TABLE directive (
                        id TEXT PRIMARY KEY NOT NULL,
                        unit TEXT,
                        symbol TEXT,
                        issued TEXT,
                        summary TEXT,
                        deleted INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
                        meta BLOB NOT NULL
                    );

                    CREATE TABLE consolidated_draft (
                        id TEXT PRIMARY KEY NOT NULL,
                        unit TEXT,
                        period TEXT,
                        direction TEXT,
                        strengths TEXT,
                        weaknesses TEXT,
                        causes TEXT,
                        next_tasks TEXT,
                        proposals TEXT,
                        deleted INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
                        meta BLOB NOT NULL
                    );
                    """)
        }
        return m
    }
}

import Foundation
import GRDB

/// What applying a batch did.
public struct ApplyReport: Sendable, Equatable, Codable {
    /// Ops new to this replica and applied.
    public var applied = 0
    /// Ops already known (duplicates, replays): ignored.
    public var duplicates = 0
    /// Ops ahead of a gap in their origin's counters: held back until it fills.
    public var heldBack = 0
    /// Fields in conflict after the batch, among the records it touched.
    public var conflicts = 0
    /// Of `applied`, ops naming a kind or field this program does not know: stored, counted and
    /// relayed, applied by the upgrade that knows them (`unknown_op`).
    public var unknown = 0

    public init() {}
}

extension ReplicaStore {
    // MARK: Applying ops

    /// Applies a batch in one transaction together with the vector advance. A batch that breaks a
    /// rule (schema, authority, origin) is refused whole: nothing of it is applied.
    /// Every op is verified first (chains and signatures, docs/PROTOCOL.md); a fork is refused and
    /// recorded (`forks()`).
    @discardableResult
    public func apply(_ batch: OpBatch, source: OpSource, fromHub: Bool = false) throws -> ApplyReport {
        try writeVerifying(source: fromHub ? "hub" : "ops-file") { db in try self.apply(batch, source: source, in: db, allowLegacy: fromHub) }
    }

    /// Applies a batch inside a transaction the caller already holds (e.g. with a peer cursor update).
    func apply(_ batch: OpBatch, source: OpSource, in db: Database, allowLegacy: Bool = false) throws -> ApplyReport {
        var session = try ApplySession(db: db, rules: rules, cache: recordCache)
        session.allowLegacy = allowLegacy
        try session.apply(batch, source: source)
        return try session.finish()
    }

    // MARK: Local writes

    static func nowMillis() -> UInt64 { UInt64(Date().timeIntervalSince1970 * 1000) }

    /// Writes fields of one record as this replica: one op per changed field, each superseding the
    /// values of that field this replica sees. With `delete`, writes `deleted = 1` superseding the
    /// values of every field, so a concurrent edit elsewhere shows as a conflict for review.
    /// Returns the ops written (none when nothing changed).
    @discardableResult
    public func writeRecord(_ record: RecordID, changes: [(String, Value)], delete: Bool = false, resolve: Bool = false, nowMillis: UInt64? = nil)
        throws -> [Op]
    {
        let now = nowMillis ?? Self.nowMillis()
        return try localWrites { batch in try batch.write(record, changes: changes, delete: delete, resolve: resolve, nowMillis: now) }
    }

    /// Creates a record owned by `owner` with a fresh id `<prefix>.<owner>.<replica>.<counter>`
    /// (the dot of its first op), and returns that id.
    public func createRecord(kind: EntityKind, owner: String, changes: [(String, Value)], nowMillis: UInt64? = nil) throws -> RecordID {
        let now = nowMillis ?? Self.nowMillis()
        return try localWrites { batch in try batch.create(kind: kind, owner: owner, changes: changes, nowMillis: now) }
    }

    /// Many local writes in one durable transaction (an import, or filling a replica for a load
    /// test): each `create`/`write` is the same local write as `createRecord`/`writeRecord`, and
    /// either all of them are committed or none.
    public func localWrites<T: Sendable>(_ body: (inout LocalWriteBatch) throws -> T) throws -> T {
        try localWrites(checkingPlan: true, body)
    }

    /// As `localWrites`; `checkingPlan: false` writes activities and tasks without checking them
    /// against the plan of their date, as releases before the plan was data did (tests build such
    /// databases with it).
    /// A batch of local writes in `db`'s transaction, signed with this machine's key (made and
    /// kept at the first write that needs it), and that key.
    func signingBatch(_ db: Database, me: Identity) throws -> (LocalWriteBatch, SigningKey) {
        var session = try ApplySession(db: db, rules: rules, cache: recordCache)
        let key: SigningKey
        if let k = try Self.signingKey(db) {
            key = k
        } else {
            key = SigningKey()
            try Self.saveSigningKey(key, db)
        }
        session.signer = (me.replica, key)
        return (LocalWriteBatch(session: session, me: me), key)
    }

    func localWrites<T: Sendable>(checkingPlan: Bool, _ body: (inout LocalWriteBatch) throws -> T) throws -> T {
        // GRDB's write closure is @Sendable; `body` runs inside this call only, on its thread.
        nonisolated(unsafe) let body = body
        return try write { db in
            guard let me = try Self.identity(db) else {
                throw SyncError(.database, "Bản sao chưa được khởi tạo; hãy chạy «unit-client init».")
            }
            var (batch, key) = try self.signingBatch(db, me: me)
            batch.checkPlan = checkingPlan
            // A replica registers its public key right after its unit (its first ops, written by
            // `body` at `init`), or, when its unit is already known (made by the release before
            // signing, or recovered onto the hub's copy of its ops), before anything else it
            // writes: a page of its ops is cut at a signed head, and every page must reach the key
            // that head is checked with.
            func registerKey() throws {
                guard try batch.session.machineKey(of: me.replica) == nil, try batch.session.unit(of: me.replica) != nil else { return }
                // Stamped at the replica's clock as it stands (its last op), not the wall clock:
                // registering the key is no user's event, and a simulated history stays the same.
                try batch.write(
                    RecordID.replica(me.replica), changes: [("key", .text(key.publicKey.base64))], nowMillis: batch.session.hlc.millis)
            }
            try registerKey()
            let out = try body(&batch)
            try registerKey()
            if batch.wrote { try batch.session.finish() }
            return out
        }
    }

    /// Before this replica's ops leave it (sync, bundle, ops file): its key is registered and its
    /// head at its own counter is signed (a replica upgraded from before signing has neither yet).
    public func prepareToSend() throws {
        try localWrites { _ in }
        try write { db in
            guard let me = try Self.identity(db), let key = try Self.signingKey(db),
                let index = try Int64.fetchOne(db, sql: "SELECT idx FROM origin WHERE replica = ?", arguments: [me.replica.rawValue]),
                let row = try Row.fetchOne(db, sql: "SELECT counter, hash FROM version_vector WHERE origin = ?", arguments: [index]),
                let hash = ChainHash(data: row[1])
            else { return }
            let counter = UInt64(row[0] as Int64)
            let signed =
                try Bool.fetchOne(
                    db, sql: "SELECT 1 FROM signed_head WHERE origin = ? AND counter = ? AND hash IS NOT NULL", arguments: [index, Int64(counter)])
                ?? false
            guard !signed else { return }
            let head = try key.sign(origin: me.replica, counter: counter, hash: hash)
            try db.execute(
                sql: "INSERT OR REPLACE INTO signed_head(origin, counter, hash, signature) VALUES (?, ?, ?, ?)",
                arguments: [index, Int64(counter), hash.data, head.signature])
        }
    }
}

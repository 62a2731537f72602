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

    public init() {}
}

extension ReplicaStore {
    // MARK: Applying ops

    /// Applies a batch in one transaction together with the vector advance. A batch that breaks a
    /// rule (schema, authority, origin) is refused whole: nothing of it is applied.
    @discardableResult
    public func apply(_ ops: [Op], source: OpSource) throws -> ApplyReport {
        try write { db in try self.apply(ops, source: source, in: db) }
    }

    /// Applies a batch inside a transaction the caller already holds (e.g. with a peer cursor update).
    func apply(_ ops: [Op], source: OpSource, in db: Database) throws -> ApplyReport {
        var session = try ApplySession(db: db, rules: rules)
        try session.apply(ops, source: source)
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
        // GRDB's write closure is @Sendable; `body` runs inside this call only, on its thread.
        nonisolated(unsafe) let body = body
        return try write { db in
            guard let me = try Self.identity(db) else {
                throw SyncError(.database, "Bản sao chưa được khởi tạo; hãy chạy «unit-client init».")
            }
            var batch = LocalWriteBatch(session: try ApplySession(db: db, rules: self.rules), me: me)
            let out = try body(&batch)
            if batch.wrote { try batch.session.finish() }
            return out
        }
    }
}

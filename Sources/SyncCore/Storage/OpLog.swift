import Foundation
import GRDB

/// Reading the op log and the version vector.
extension ReplicaStore {
    public func versionVector() throws -> VersionVector {
        try read { db in try Self.versionVector(db) }
    }

    static func versionVector(_ db: Database) throws -> VersionVector {
        var vv = VersionVector()
        for row in try Row.fetchAll(db, sql: "SELECT o.replica, v.counter FROM version_vector v JOIN origin o ON o.idx = v.origin") {
            if let id = ReplicaID(row[0] as String) { vv[id] = row[1] }
        }
        return vv
    }

    /// The ops this replica has that a peer with vector `vv` lacks, in origin then counter order,
    /// at most `limit` of them. Ops of one origin always come in counter order without gaps.
    public func ops(after vv: VersionVector, limit: Int = .max) throws -> [Op] {
        try read { db in try Self.ops(db, after: vv, limit: limit) }
    }

    /// The ops of `origin` after `counter`, in counter order, at most `limit`.
    public func ops(of origin: ReplicaID, after counter: UInt64, limit: Int) throws -> [Op] {
        try read { db in
            var vv = VersionVector()
            vv[origin] = counter
            return try Self.ops(db, after: vv, limit: limit, only: origin)
        }
    }

    static func ops(_ db: Database, after vv: VersionVector, limit: Int, only: ReplicaID? = nil) throws -> [Op] {
        // With each origin's applied counter, so origins the peer already has in full cost no
        // query: a sync with little to do stays cheap on a hub that has seen hundreds of replicas.
        let applied = try Row.fetchAll(
            db, sql: "SELECT o.idx, o.replica, coalesce(v.counter, 0) FROM origin o LEFT JOIN version_vector v ON v.origin = o.idx ORDER BY o.replica"
        )
        let origins = try OriginTable.load(db)
        var out: [Op] = []
        var names: [Int64: String] = [:]
        let lookups = try EntityKind.allCases.map { try db.cachedStatement(sql: "SELECT id FROM \($0.table) WHERE rowid = ?") }
        func name(_ reference: Int64) throws -> String {
            if let n = names[reference] { return n }
            guard let kind = EntityKind(code: reference & 3),
                let n = try String.fetchOne(lookups[Int(kind.code)], arguments: [reference >> 2])
            else { throw SyncError(.corrupt, "Nhật ký thao tác tham chiếu bản ghi không tồn tại (\(reference)).") }
            names[reference] = n
            return n
        }
        for row in applied {
            let originIndex: Int64 = row[0]
            guard let origin = origins.replicaAt[originIndex], out.count < limit, only == nil || only == origin,
                UInt64(row[2] as Int64) > vv[origin]
            else { continue }
            let rows = try Row.fetchCursor(
                db, sql: "SELECT id & \(OpKey.maxCounter), hlc, target, value, supersedes FROM op WHERE id > ? AND id <= ? ORDER BY id LIMIT ?",
                arguments: [
                    OpKey.id(originIndex, min(vv[origin], OpKey.maxCounter)), OpKey.id(originIndex, OpKey.maxCounter),
                    Int64(min(limit - out.count, Int(Int32.max))),
                ])
            while let r = try rows.next() {
                let target: Int64 = r[2]
                let reference = OpTarget.reference(target)
                let fieldIndex = OpTarget.field(target)
                let record = try name(reference)
                guard let kind = EntityKind(code: reference & 3), fieldIndex < EntitySchema.fields(kind).count else {
                    throw SyncError(.corrupt, "Nhật ký thao tác có trường không tồn tại.")
                }
                out.append(
                    try OpRow.decode(
                        r, origin: origin, origins: origins, record: record, field: EntitySchema.fields(kind)[fieldIndex].name, valueColumn: 3))
            }
        }
        return out
    }

    /// Number of ops in the log.
    public func opCount() throws -> Int {
        try read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM op") ?? 0 }
    }

    /// Number of ops held back behind a gap.
    public func pendingCount() throws -> Int {
        try read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM pending_op") ?? 0 }
    }

    /// Number of fields in conflict, over every record.
    public func conflictCount() throws -> Int {
        try read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM conflict") ?? 0 }
    }

    /// How many ops this replica has that `acked` does not cover.
    public func unacknowledgedCount(acked: VersionVector) throws -> UInt64 {
        let vv = try versionVector()
        return vv.counters.reduce(0) { $0 + ($1.value > acked[$1.key] ? $1.value - acked[$1.key] : 0) }
    }
}

/// An op from a row of `op` (`id & maxCounter (the counter), hlc, target, value, supersedes`) or of
/// `pending_op` (`counter, hlc, record, field, value, supersedes`): `value` and `supersedes` are
/// the columns at `valueColumn` and after it.
enum OpRow {
    /// The value the op `dot` wrote, read back from the op log (NULL for an op not in it).
    static func value(of dot: Dot, in db: Database, origins: OriginTable) throws -> Value {
        guard let originIndex = origins.indexOf[dot.origin] else { return .null }
        let select = try db.cachedStatement(sql: "SELECT value FROM op WHERE id = ?")
        let stored = try DatabaseValue.fetchOne(select, arguments: [OpKey.id(originIndex, dot.counter)]) ?? .null
        return Value.fromDatabaseValue(stored) ?? .null
    }

    static func decode(_ r: Row, origin: ReplicaID, origins: OriginTable, record: String, field: String, valueColumn: Int) throws -> Op {
        let counter: Int64 = r[0]
        let hlc: Int64 = r[1]
        let supersedes = try (r[valueColumn + 1] as Data?).map { try RegisterCodec.decodeSupersedes($0, origins: origins) } ?? []
        return Op(
            dot: Dot(origin, UInt64(counter)), hlc: HLC(storageValue: hlc), record: record, field: field,
            value: Value.fromDatabaseValue(r[valueColumn]) ?? .null, supersedes: supersedes)
    }
}

import Foundation
import GRDB

/// One op on a record, as the audit history (`unit-client history`, `hub history`) shows it:
/// what it wrote, who wrote it (origin, its unit, its machine's label), when, what it replaced,
/// and whether its author's signature covers it.
public struct HistoryEntry: Codable, Sendable, Equatable {
    /// Whether a signature of the op's author covers it (docs/PROTOCOL.md, "Verifiable ops").
    public enum Verification: String, Codable, Sendable, CaseIterable {
        /// Its counter is at or below a verified signed head of its origin: the signature on
        /// head n covers every op of the origin up to n.
        case verified
        /// Received before signing existed (`version_vector.legacy`) and not yet covered by a
        /// later signed head.
        case legacy
        /// Neither: an op held back behind a gap, whose head waits for the ops it covers.
        case unverified
        /// The plan's seed (origin `genesis`): never signed, every replica makes it from the catalog.
        case genesis

        /// How the history names it.
        public var label: String {
            switch self {
            case .verified: return "đã xác minh"
            case .legacy: return "dữ liệu cũ chưa ký"
            case .unverified: return "chưa xác minh"
            case .genesis: return "dữ liệu gốc của kế hoạch"
            }
        }
    }

    /// A value the op replaced: the dot it names in `supersedes`, and the field and value that op
    /// wrote when this store holds it (`known`).
    public struct Replaced: Codable, Sendable, Equatable {
        public var dot: String
        public var known: Bool
        public var field: String?
        public var value: Value

        public init(dot: String, known: Bool, field: String?, value: Value) {
            self.dot = dot
            self.known = known
            self.field = field
            self.value = value
        }

        enum CodingKeys: String, CodingKey {
            case dot, known, field, value
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(dot, forKey: .dot)
            try c.encode(known, forKey: .known)
            try c.encode(field, forKey: .field)
            try c.encode(value, forKey: .value)
        }
    }

    public var record: String
    /// `origin:counter`.
    public var dot: String
    public var origin: String
    public var counter: UInt64
    /// The unit and the machine label of the origin's registration `RE.<origin>` (nil when
    /// this store does not know them, and for `genesis`).
    public var unit: String?
    public var machine: String?
    /// The raw hybrid logical clock (milliseconds since 1970 × 2^16 + logical part).
    public var hlc: UInt64
    /// The HLC's physical part as local time, Asia/Ho_Chi_Minh, `dd/MM/yyyy HH:mm:ss`.
    public var time: String
    public var field: String
    public var value: Value
    public var supersedes: [Replaced]
    public var verification: Verification
    /// False for an op held back in `pending_op` behind a gap in its origin's counters.
    public var applied: Bool

    public init(
        record: String, dot: String, origin: String, counter: UInt64, unit: String?, machine: String?, hlc: UInt64, time: String, field: String,
        value: Value, supersedes: [Replaced], verification: Verification, applied: Bool
    ) {
        self.record = record
        self.dot = dot
        self.origin = origin
        self.counter = counter
        self.unit = unit
        self.machine = machine
        self.hlc = hlc
        self.time = time
        self.field = field
        self.value = value
        self.supersedes = supersedes
        self.verification = verification
        self.applied = applied
    }

    enum CodingKeys: String, CodingKey {
        case record, dot, origin, counter, unit, machine, hlc, time, field, value, supersedes, verification, applied
    }

    /// Every key is always present (null when unknown), so the JSON's shape does not vary.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(record, forKey: .record)
        try c.encode(dot, forKey: .dot)
        try c.encode(origin, forKey: .origin)
        try c.encode(counter, forKey: .counter)
        try c.encode(unit, forKey: .unit)
        try c.encode(machine, forKey: .machine)
        try c.encode(hlc, forKey: .hlc)
        try c.encode(time, forKey: .time)
        try c.encode(field, forKey: .field)
        try c.encode(value, forKey: .value)
        try c.encode(supersedes, forKey: .supersedes)
        try c.encode(verification, forKey: .verification)
        try c.encode(applied, forKey: .applied)
    }
}

/// A record's history with its current state, read together.
public struct RecordHistory: Sendable, Equatable {
    public var record: RecordID
    /// Whether the record has a typed row (false when all its ops are still held back).
    public var exists: Bool
    public var deleted: Bool
    /// Fields of the record in conflict now.
    public var conflicts: [String]
    /// Every op on the record in the order of application: by HLC, then dot.
    public var entries: [HistoryEntry]
}

extension ReplicaStore {
    /// Every op on `record` this store holds, applied or held back, by (HLC, dot). A record
    /// with neither a row nor a held-back op is not found (field `record`).
    public func history(of record: RecordID) throws -> [HistoryEntry] {
        try recordHistory(of: record).entries
    }

    /// The history of `record` with its current state, in one read.
    public func recordHistory(of record: RecordID) throws -> RecordHistory {
        try read { db in
            let origins = try OriginTable.load(db)
            let kind = record.kind
            let fields = EntitySchema.fields(kind)
            let hasDeleted = EntitySchema.index(of: "deleted", in: kind) != nil
            let row = try Row.fetchOne(
                db, sql: "SELECT rowid, \(hasDeleted ? "deleted" : "0") FROM \(kind.table) WHERE id = ?", arguments: [record.rawValue])

            var ops: [(op: Op, applied: Bool)] = []
            if let row {
                // `op` has no index on `target`: one scan for the record's range of targets,
                // (reference << fieldBits) + field index for every field of its kind.
                let reference = OpTarget.reference(kind: kind, rowid: row[0])
                let low = reference << OpTarget.fieldBits
                let rows = try Row.fetchCursor(
                    db,
                    sql:
                        "SELECT id & \(OpKey.maxCounter), hlc, target, value, supersedes, id >> \(OpKey.counterBits) FROM op WHERE target >= ? AND target < ?",
                    arguments: [low, low + (1 << OpTarget.fieldBits)])
                while let r = try rows.next() {
                    let origin = try origins.replica(r[5], in: "Nhật ký thao tác")
                    let index = OpTarget.field(r[2])
                    let field = fields.indices.contains(index) ? fields[index].name : "?"
                    ops.append((try OpRow.decode(r, origin: origin, origins: origins, record: record.rawValue, field: field, valueColumn: 3), true))
                }
            }
            let held = try Row.fetchAll(
                db, sql: "SELECT counter, hlc, origin, value, supersedes, field FROM pending_op WHERE record = ?", arguments: [record.rawValue])
            let appliedDots = Set(ops.map(\.op.dot))
            for r in held {
                let origin = try origins.replica(r[2], in: "Thao tác đang chờ")
                let op = try OpRow.decode(r, origin: origin, origins: origins, record: record.rawValue, field: r[5], valueColumn: 3)
                if !appliedDots.contains(op.dot) { ops.append((op, false)) }
            }
            guard row != nil || !ops.isEmpty else {
                var missing = SyncError.notFound(kind.label, record.rawValue, field: "record")
                missing.message =
                    "Trường «record»: không tìm thấy \(kind.label) «\(record.rawValue)» trong cơ sở dữ liệu này (chưa có thao tác nào về bản ghi này)."
                throw missing
            }
            ops.sort { ($0.op.hlc, $0.op.dot) < ($1.op.hlc, $1.op.dot) }

            // How far each origin is covered by a verified signature, and by legacy ops.
            var signed: [Int64: UInt64] = [:]
            for r in try Row.fetchAll(db, sql: "SELECT origin, max(counter) FROM signed_head WHERE hash IS NOT NULL GROUP BY origin") {
                signed[r[0]] = UInt64(r[1] as Int64)
            }
            var legacy: [Int64: UInt64] = [:]
            for r in try Row.fetchAll(db, sql: "SELECT origin, legacy FROM version_vector") { legacy[r[0]] = UInt64(r[1] as Int64) }
            var registrations: [ReplicaID: (unit: String?, label: String?)] = [:]
            let registration = try db.cachedStatement(sql: "SELECT unit, label FROM replica WHERE id = ?")
            let written = Dictionary(ops.map { ($0.op.dot, (field: $0.op.field, value: $0.op.value)) }, uniquingKeysWith: { a, _ in a })

            var entries: [HistoryEntry] = []
            entries.reserveCapacity(ops.count)
            for (op, applied) in ops {
                let origin = op.dot.origin
                if registrations[origin] == nil {
                    let r = try Row.fetchOne(registration, arguments: [RecordID.replica(origin).rawValue])
                    registrations[origin] = (r.flatMap { $0[0] as String? }, r.flatMap { $0[1] as String? })
                }
                let verification: HistoryEntry.Verification
                let index = origins.indexOf[origin] ?? -1
                if origin == .genesis {
                    verification = .genesis
                } else if op.dot.counter <= signed[index] ?? 0 {
                    verification = .verified
                } else if op.dot.counter <= legacy[index] ?? 0 {
                    verification = .legacy
                } else {
                    verification = .unverified
                }
                let replaced = op.supersedes.sorted().map { d in
                    let w = written[d]
                    return HistoryEntry.Replaced(dot: d.description, known: w != nil, field: w?.field, value: w?.value ?? .null)
                }
                entries.append(
                    HistoryEntry(
                        record: record.rawValue, dot: op.dot.description, origin: origin.rawValue, counter: op.dot.counter,
                        unit: registrations[origin]?.unit, machine: registrations[origin]?.label, hlc: op.hlc.rawValue,
                        time: HistoryTime.local(op.hlc), field: op.field, value: op.value, supersedes: replaced, verification: verification,
                        applied: applied))
            }
            let conflicts = try String.fetchAll(db, sql: "SELECT field FROM conflict WHERE record = ? ORDER BY field", arguments: [record.rawValue])
            return RecordHistory(
                record: record, exists: row != nil, deleted: row.map { ($0[1] as Int64?) == 1 } ?? false, conflicts: conflicts, entries: entries)
        }
    }
}

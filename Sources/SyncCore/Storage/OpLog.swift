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

    /// The ops this replica has that a peer with vector `vv` lacks, with the signed heads that
    /// cover them, in origin then counter order. Ops of one origin come in counter order without
    /// gaps and each origin's run ends at a head: a page is cut only where its author signed, so
    /// it may hold up to `SignedHead.spacing` ops more than `limit` rather than none. The plan's
    /// seed is never sent (every replica makes it). `legacy`: also ops received before signing
    /// existed, under unsigned heads (only a hub sends those, to its own replicas).
    public func ops(after vv: VersionVector, limit: Int = .max, legacy: Bool = false) throws -> OpBatch {
        try read { db in try Self.page(db, after: vv, limit: limit, legacy: legacy).batch }
    }

    /// The ops of `origin` after `counter`, in counter order, at most about `limit` (cut at a head).
    public func ops(of origin: ReplicaID, after counter: UInt64, limit: Int) throws -> OpBatch {
        try read { db in
            var vv = VersionVector()
            vv[origin] = counter
            return try Self.page(db, after: vv, limit: limit, only: origin).batch
        }
    }

    /// The chain hash after each of `origin`'s ops 1…`n` this store holds (index k for op k + 1;
    /// shorter when it holds fewer).
    public func chainHashes(of origin: ReplicaID, through n: UInt64) throws -> [ChainHash] {
        try read { db in try Self.chainHashes(db, of: origin, through: n) }
    }

    static func chainHashes(_ db: Database, of origin: ReplicaID, through n: UInt64) throws -> [ChainHash] {
        guard n > 0 else { return [] }
        let ops = try page(db, after: VersionVector(), limit: .max, only: origin, legacy: true).batch.ops
        var hash = ChainHash.zero
        var out: [ChainHash] = []
        for (k, op) in ops.prefix(Int(min(n, UInt64(Int.max)))).enumerated() {
            guard op.dot.counter == UInt64(k + 1) else { break }
            hash = OpChain.next(hash, op)
            out.append(hash)
        }
        return out
    }

    /// The ops `after` lacks, cut at heads, and whether more remain than fitted within `limit`.
    /// `upTo` caps what is read of an origin at a counter (where a repair cuts a damaged log):
    /// nothing beyond it is read, and a page of that origin ends at a head at or below it.
    static func page(
        _ db: Database, after vv: VersionVector, limit: Int, only: ReplicaID? = nil, legacy: Bool = false, upTo: [ReplicaID: UInt64] = [:]
    ) throws -> (batch: OpBatch, more: Bool) {
        // With each origin's applied counter, so origins the peer already has in full cost no
        // query: a sync with little to do stays cheap on a hub that has seen hundreds of replicas.
        let applied = try Row.fetchAll(
            db,
            sql:
                "SELECT o.idx, o.replica, coalesce(v.counter, 0), coalesce(v.legacy, 0) FROM origin o LEFT JOIN version_vector v ON v.origin = o.idx ORDER BY o.replica"
        )
        let origins = try OriginTable.load(db)
        var reader = OpReader(db: db, origins: origins)
        var out = OpBatch()
        var more = false
        for row in applied {
            let originIndex: Int64 = row[0]
            guard let origin = origins.replicaAt[originIndex], origin != .genesis, only == nil || only == origin else { continue }
            let have = min(UInt64(row[2] as Int64), upTo[origin] ?? .max)
            let start = vv[origin]
            guard have > start else { continue }
            let room = limit == .max ? UInt64.max : UInt64(max(0, limit - out.ops.count))
            let legacyThrough = legacy ? UInt64(row[3] as Int64) : 0
            guard
                let cut = try Self.cut(
                    db, origin: origin, originIndex: originIndex, after: start, through: have, room: room, legacyThrough: legacyThrough,
                    pageEmpty: out.ops.isEmpty, origins: origins)
            else {
                more = true
                continue
            }
            if cut.counter < have { more = true }
            try reader.append(origin: origin, originIndex: originIndex, after: start, through: cut.counter, to: &out.ops)
            out.heads += cut.heads.map { SignedHead(origin: origin, counter: $0.counter, signature: $0.signature) }
        }
        return (out, more)
    }

    /// Where a page of `originIndex`'s ops after `start` ends (a head within `room` ops, or the
    /// first head when the page is still empty), and the heads it carries: one every
    /// `SignedHead.spacing` ops at least and the one it ends at.
    private static func cut(
        _ db: Database, origin: ReplicaID, originIndex: Int64, after start: UInt64, through have: UInt64, room: UInt64, legacyThrough: UInt64,
        pageEmpty: Bool, origins: OriginTable
    ) throws -> (counter: UInt64, heads: [(counter: UInt64, signature: Data)])? {
        let rows = try Row.fetchAll(
            db.cachedStatement(
                sql:
                    "SELECT counter, signature, checked, hash FROM signed_head WHERE origin = ? AND counter > ? AND counter <= ? AND hash IS NOT NULL ORDER BY counter"
            ),
            arguments: [originIndex, Int64(start), Int64(have)])
        let heads = rows.map { (counter: UInt64($0[0] as Int64), signature: $0[1] as Data) }
        // A page ends only at a head whose own signature is known good: one that was only
        // covered by a later head is checked now (a relay may have passed on a bad one).
        var key: MachineKey?
        func usable(_ i: Int) throws -> Bool {
            if (rows[i][2] as Int64) == 1 { return true }
            if key == nil { key = try machineKey(db, of: origin) }
            guard let key, let hash = ChainHash(data: rows[i][3]) else { return false }
            return SignedHead(origin: origin, counter: heads[i].counter, signature: heads[i].signature).verifies(hash: hash, key: key)
        }
        let reach = room == .max ? have : min(have, start &+ room)
        var end: UInt64 = 0
        for i in heads.indices.reversed() where heads[i].counter <= reach {
            if try usable(i) {
                end = heads[i].counter
                break
            }
        }
        // Ops from before signing existed may be cut anywhere up to the legacy counter.
        let legacyEnd = min(legacyThrough, reach)
        if legacyEnd > start, legacyEnd > end { end = legacyEnd }
        if end == 0 {
            guard pageEmpty else { return nil }
            for i in heads.indices where heads[i].counter > reach {
                if try usable(i) {
                    end = heads[i].counter
                    break
                }
            }
            if end == 0 { return nil }
        }
        // A signed head is checked with the key its author registered in one of its ops; a page
        // starting before that op must reach it, or a receiver holding nothing of the origin has
        // no key to check the page with. (Replicas register their key right after their unit;
        // one upgraded from before signing, or recovered onto the hub's copy of its ops, by the
        // release before this one registered it after the first ops it signed.)
        if end < have, heads.contains(where: { $0.counter <= end && !$0.signature.isEmpty }),
            let registered = try keyRegistration(db, of: origin, origins: origins), registered > start, registered > end
        {
            for i in heads.indices where heads[i].counter >= registered {
                if try usable(i) {
                    end = heads[i].counter
                    break
                }
            }
        }
        // From the page's start, each carried head is the furthest one within `every` ops of the
        // one before (where the store's heads allow): a receiver serving this origin in pages of
        // its own then cuts within `every` ops of any point. (Taking the first head at least
        // `every` ops on left gaps of up to twice that, and a receiver's pages that much longer
        // than asked: found by cchc-sim, seed 20264534.)
        var carried: [(counter: UInt64, signature: Data)] = []
        var last = start
        let every = min(SignedHead.wireSpacing, max(1, room))
        let onPage = heads.filter { $0.counter <= end }
        for (i, h) in onPage.enumerated() {
            let next = i + 1 < onPage.count ? onPage[i + 1].counter : end
            if h.counter == end || next - last > every {
                carried.append(h)
                last = h.counter
            }
        }
        if carried.last?.counter != end { carried.append((end, Data())) }
        return (end, carried)
    }

    /// The counter of `origin`'s own op that registered its key (the winner of its replica
    /// record's `key`), if this store holds one.
    static func keyRegistration(_ db: Database, of origin: ReplicaID, origins: OriginTable) throws -> UInt64? {
        let id = RecordID.replica(origin)
        guard let meta = try Data.fetchOne(db, sql: "SELECT meta FROM replica WHERE id = ?", arguments: [id.rawValue]),
            let field = EntitySchema.index(of: "key", in: .replica)
        else { return nil }
        let registers = try RegisterCodec.decode(meta, fieldCount: EntitySchema.fields(.replica).count, origins: origins)
        guard let winner = registers[field]?.winner, winner.dot.origin == origin else { return nil }
        return winner.dot.counter
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

extension ReplicaStore {
    /// The ops of `origin` in `unknown_op` with counters in (`start`, `end`], in counter order.
    static func unknownOps(_ db: Database, originIndex: Int64, origin: ReplicaID, origins: OriginTable, after start: UInt64, through end: UInt64)
        throws -> [Op]
    {
        try Row.fetchAll(
            db,
            sql:
                "SELECT counter, hlc, record, field, value, supersedes FROM unknown_op WHERE origin = ? AND counter > ? AND counter <= ? ORDER BY counter",
            arguments: [originIndex, Int64(min(start, OpKey.maxCounter)), Int64(min(end, OpKey.maxCounter))]
        ).map { try OpRow.decode($0, origin: origin, origins: origins, record: $0[2], field: $0[3], valueColumn: 4) }
    }

    /// How many ops wait for a program that knows their kind or field (`unknown_op`).
    public func unknownOpCount() throws -> Int {
        try read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM unknown_op") ?? 0 }
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

/// Reads ops of the log back as `Op`s, naming their records (cached per read).
struct OpReader {
    let db: Database
    let origins: OriginTable
    private var names: [Int64: String] = [:]
    private var lookups: [Statement?] = []

    init(db: Database, origins: OriginTable) {
        self.db = db
        self.origins = origins
    }

    private mutating func name(_ reference: Int64) throws -> String {
        if let n = names[reference] { return n }
        let (kind, rowid) = OpTarget.decode(reference)
        guard let kind else { throw SyncError(.corrupt, "Nhật ký thao tác tham chiếu bản ghi không tồn tại (\(reference)).") }
        // Prepared per kind on first need: a migration reading the log runs before later kinds' tables exist.
        if lookups.isEmpty { lookups = Array(repeating: nil, count: EntityKind.allCases.count) }
        let lookup: Statement
        if let l = lookups[Int(kind.code)] {
            lookup = l
        } else {
            lookup = try db.cachedStatement(sql: "SELECT id FROM \(kind.table) WHERE rowid = ?")
            lookups[Int(kind.code)] = lookup
        }
        guard let n = try String.fetchOne(lookup, arguments: [rowid]) else {
            throw SyncError(.corrupt, "Nhật ký thao tác tham chiếu bản ghi không tồn tại (\(reference)).")
        }
        names[reference] = n
        return n
    }

    /// Origins with ops in `unknown_op` (read on first need).
    private var unknownOrigins: Set<Int64>?

    /// Appends the ops of `origin` with counters in (`start`, `end`] to `out`, in counter order:
    /// those of the log and those this program does not know (`unknown_op`), merged.
    mutating func append(origin: ReplicaID, originIndex: Int64, after start: UInt64, through end: UInt64, to out: inout [Op]) throws {
        guard end > start else { return }
        if unknownOrigins == nil {
            // The migration that starts chains (v3) reads ops before `unknown_op` exists (v4).
            unknownOrigins = try db.tableExists("unknown_op") ? Set(try Int64.fetchAll(db, sql: "SELECT DISTINCT origin FROM unknown_op")) : []
        }
        guard unknownOrigins?.contains(originIndex) == true else {
            return try appendLogged(origin: origin, originIndex: originIndex, after: start, through: end, to: &out)
        }
        var logged: [Op] = []
        try appendLogged(origin: origin, originIndex: originIndex, after: start, through: end, to: &logged)
        let unknown = try ReplicaStore.unknownOps(db, originIndex: originIndex, origin: origin, origins: origins, after: start, through: end)
        var a = 0
        var b = 0
        while a < logged.count || b < unknown.count {
            if b >= unknown.count || (a < logged.count && logged[a].dot.counter < unknown[b].dot.counter) {
                out.append(logged[a])
                a += 1
            } else {
                out.append(unknown[b])
                b += 1
            }
        }
    }

    private mutating func appendLogged(origin: ReplicaID, originIndex: Int64, after start: UInt64, through end: UInt64, to out: inout [Op]) throws {
        let rows = try Row.fetchCursor(
            db, sql: "SELECT id & \(OpKey.maxCounter), hlc, target, value, supersedes FROM op WHERE id > ? AND id <= ? ORDER BY id",
            arguments: [OpKey.id(originIndex, min(start, OpKey.maxCounter)), OpKey.id(originIndex, min(end, OpKey.maxCounter))])
        while let r = try rows.next() {
            let target: Int64 = r[2]
            let reference = OpTarget.reference(target)
            let fieldIndex = OpTarget.field(target)
            let record = try name(reference)
            guard let kind = OpTarget.decode(reference).kind, fieldIndex < EntitySchema.fields(kind).count else {
                throw SyncError(.corrupt, "Nhật ký thao tác có trường không tồn tại.")
            }
            out.append(
                try OpRow.decode(
                    r, origin: origin, origins: origins, record: record, field: EntitySchema.fields(kind)[fieldIndex].name, valueColumn: 3))
        }
    }

    /// One op of the log, or nil when the log has none under that dot.
    mutating func op(_ dot: Dot) throws -> Op? {
        guard let originIndex = origins.indexOf[dot.origin], dot.counter > 0 else { return nil }
        var out: [Op] = []
        try append(origin: dot.origin, originIndex: originIndex, after: dot.counter - 1, through: dot.counter, to: &out)
        return out.first
    }
}

import Foundation
import GRDB

/// Where a batch of ops comes from, which decides how far it is trusted.
public enum OpSource: Sendable {
    /// The plan's seed data, identical on every replica.
    case genesis
    /// This replica's own writes.
    case local
    /// Another replica, through the hub, a bundle or an ops file. When `authenticated` is set
    /// (the hub receiving from an enrolled replica), every op's origin must be that replica and
    /// its registration must name the enrolled unit.
    case peer(authenticated: ReplicaID?, unit: String?)
}

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

/// The one façade over a replica's SQLite database: every SQL statement of the sync engine lives
/// behind its methods. Safe to share between tasks; writes are serialised by SQLite.
public final class ReplicaStore: Sendable {
    public let path: String
    public let catalog: Catalog
    let dbPool: any DatabaseWriter
    let validator: FieldValidator
    let authority: Authority

    /// Opens (or, with `create`, creates) the database at `path`. Refuses a missing file unless
    /// creating, a file that is not SQLite, and a database from a newer version of the schema.
    public static func open(path: String, create: Bool = false, catalog: Catalog = .standard) throws -> ReplicaStore {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        let exists = fm.fileExists(atPath: path, isDirectory: &isDir)
        if isDir.boolValue {
            throw SyncError(.database, "«\(path)» là một thư mục, không phải tệp cơ sở dữ liệu.", field: "db", value: path)
        }
        if !exists && !create {
            throw SyncError(
                .database, "Không tìm thấy cơ sở dữ liệu «\(path)». Hãy khởi tạo trước (init) hoặc chỉ đúng đường dẫn bằng --db.",
                field: "db", value: path)
        }
        if exists, let h = FileHandle(forReadingAtPath: path) {
            let header = (try? h.read(upToCount: 16)) ?? Data()
            try? h.close()
            if !header.isEmpty && header != Data("SQLite format 3\0".utf8) {
                throw SyncError(.database, "Tệp «\(path)» không phải cơ sở dữ liệu SQLite.", field: "db", value: path)
            }
            // SQLite would silently turn an empty file into a database; only `create` may do that.
            if header.isEmpty && !create {
                throw SyncError(
                    .database, "Tệp «\(path)» trống, chưa phải cơ sở dữ liệu; hãy khởi tạo trước (init).", field: "db", value: path)
            }
        }
        var config = Configuration()
        config.foreignKeysEnabled = true
        config.busyMode = .timeout(10)
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        let pool: DatabasePool
        do {
            pool = try DatabasePool(path: path, configuration: config)
            let migrator = Migrations.migrator
            let superseded = try pool.read { try migrator.hasBeenSuperseded($0) }
            if superseded {
                throw SyncError(
                    .database, "Cơ sở dữ liệu «\(path)» được tạo bởi phiên bản mới hơn; hãy cập nhật chương trình.",
                    field: "db", value: path)
            }
            try migrator.migrate(pool)
            // Before the first release the v1 schema changed in place; a database made by such a
            // development build has the migration recorded but an older op log.
            let opColumns = try pool.read { db in try db.columns(in: "op").map(\.name) }
            guard opColumns == Migrations.opColumns else {
                throw SyncError(
                    .database,
                    "Cơ sở dữ liệu «\(path)» có định dạng của một bản phát triển trước khi phát hành; hãy khởi tạo bản sao mới (init) rồi đồng bộ lại từ hub.",
                    field: "db", value: path)
            }
        } catch let e as SyncError {
            throw e
        } catch {
            throw SyncError(.database, "Không mở được cơ sở dữ liệu «\(path)»: \(error)", field: "db", value: path, cause: error)
        }
        return ReplicaStore(path: path, pool: pool, catalog: catalog)
    }

    init(path: String, pool: any DatabaseWriter, catalog: Catalog) {
        self.path = path
        self.dbPool = pool
        self.catalog = catalog
        self.validator = FieldValidator(catalog: catalog)
        self.authority = Authority(officeCode: catalog.officeCode)
    }

    /// A replica in memory, for tests and benchmarks of the merge through real SQL.
    public static func inMemory(catalog: Catalog = .standard) throws -> ReplicaStore {
        do {
            var config = Configuration()
            config.foreignKeysEnabled = true
            let queue = try DatabaseQueue(configuration: config)
            try Migrations.migrator.migrate(queue)
            return ReplicaStore(path: ":memory:", pool: queue, catalog: catalog)
        } catch {
            throw map(error)
        }
    }

    /// Runs a read, mapping database failures to `SyncError`.
    public func read<T: Sendable>(_ body: @Sendable (Database) throws -> T) throws -> T {
        do { return try dbPool.read(body) } catch { throw Self.map(error) }
    }

    /// Runs one write transaction, mapping database failures to `SyncError`.
    public func write<T: Sendable>(_ body: @Sendable (Database) throws -> T) throws -> T {
        do { return try dbPool.write(body) } catch { throw Self.map(error) }
    }

    static func map(_ error: any Error) -> SyncError {
        if let e = error as? SyncError { return e }
        if let e = error as? DatabaseError {
            if e.resultCode == .SQLITE_NOTADB || e.resultCode == .SQLITE_CORRUPT {
                return SyncError(.database, "Cơ sở dữ liệu bị hỏng hoặc không phải SQLite: \(e.message ?? "")", cause: e)
            }
            if e.resultCode == .SQLITE_BUSY || e.resultCode == .SQLITE_LOCKED {
                return SyncError(.unavailable, "Cơ sở dữ liệu đang bận; hãy thử lại.", cause: e)
            }
            return SyncError(.database, "Lỗi cơ sở dữ liệu: \(e.message ?? String(describing: e))", cause: e)
        }
        return SyncError(.internal, "Lỗi không mong đợi: \(error)", cause: error)
    }

    // MARK: Identity

    /// This replica's id and unit, or nil for a database with no identity (the hub's own store).
    public struct Identity: Sendable, Equatable, Codable {
        public var replica: ReplicaID
        public var unit: String

        public init(replica: ReplicaID, unit: String) {
            self.replica = replica
            self.unit = unit
        }
    }

    /// Whether genesis has been applied (the database is initialised).
    public func isInitialised() throws -> Bool {
        try read { db in try Bool.fetchOne(db, sql: "SELECT 1 FROM local_state WHERE key = 'genesis'") ?? false }
    }

    public func identity() throws -> Identity? {
        try read { db in try Self.identity(db) }
    }

    static func identity(_ db: Database) throws -> Identity? {
        guard let r = try String.fetchOne(db, sql: "SELECT value FROM local_state WHERE key = 'replica'"),
            let u = try String.fetchOne(db, sql: "SELECT value FROM local_state WHERE key = 'unit'"),
            let id = ReplicaID(r)
        else { return nil }
        return Identity(replica: id, unit: u)
    }

    /// The identity, or an error telling the user to run `init`.
    public func requireIdentity() throws -> Identity {
        guard let id = try identity() else {
            throw SyncError(
                .database, "Cơ sở dữ liệu «\(path)» chưa được khởi tạo cho đơn vị nào; hãy chạy «unit-client init».", field: "db", value: path)
        }
        return id
    }

    /// Creates the genesis state and, when `identity` is given, registers this replica for its
    /// unit (its first op). Refuses a database that is already initialised.
    public func initialise(identity: Identity?, label: String? = nil) throws {
        if let identity { _ = try catalog.requireUnit(identity.unit) }
        let genesis = Genesis.ops(catalog: catalog)
        try write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM local_state WHERE key = 'genesis'") ?? false {
                throw SyncError(.conflict, "Cơ sở dữ liệu «\(self.path)» đã được khởi tạo.", field: "db", value: self.path)
            }
            var session = try ApplySession(db: db, store: self)
            try session.apply(genesis, source: .genesis)
            try session.finish()
            try db.execute(sql: "INSERT INTO local_state(key, value) VALUES ('genesis', ?)", arguments: [genesis.count])
            if let identity {
                try db.execute(
                    sql: "INSERT INTO local_state(key, value) VALUES ('replica', ?), ('unit', ?)",
                    arguments: [identity.replica.rawValue, identity.unit])
            }
        }
        if let identity {
            var changes: [(String, Value)] = [("unit", .text(identity.unit))]
            if let label, !label.isEmpty { changes.append(("label", .text(label))) }
            _ = try writeRecord(RecordID.replica(identity.replica), changes: changes)
        }
    }

    // MARK: Applying ops

    /// Applies a batch in one transaction together with the vector advance. A batch that breaks a
    /// rule (schema, authority, origin) is refused whole: nothing of it is applied.
    @discardableResult
    public func apply(_ ops: [Op], source: OpSource) throws -> ApplyReport {
        try write { db in
            var session = try ApplySession(db: db, store: self)
            try session.apply(ops, source: source)
            return try session.finish()
        }
    }

    /// Applies a batch inside a transaction the caller already holds (e.g. with a peer cursor update).
    public func apply(_ ops: [Op], source: OpSource, in db: Database) throws -> ApplyReport {
        var session = try ApplySession(db: db, store: self)
        try session.apply(ops, source: source)
        return try session.finish()
    }

    // MARK: Local writes

    /// Writes fields of one record as this replica: one op per changed field, each superseding the
    /// values of that field this replica sees. With `delete`, writes `deleted = 1` superseding the
    /// values of every field, so a concurrent edit elsewhere shows as a conflict for review.
    /// Returns the ops written (none when nothing changed).
    @discardableResult
    public func writeRecord(_ record: RecordID, changes: [(String, Value)], delete: Bool = false, resolve: Bool = false, nowMillis: UInt64? = nil)
        throws -> [Op]
    {
        let now = nowMillis ?? UInt64(Date().timeIntervalSince1970 * 1000)
        return try write { db in
            guard let me = try Self.identity(db) else {
                throw SyncError(.database, "Bản sao chưa được khởi tạo; hãy chạy «unit-client init».")
            }
            var session = try ApplySession(db: db, store: self)
            let ops = try session.makeLocalOps(record: record, changes: changes, delete: delete, resolve: resolve, me: me, nowMillis: now)
            if ops.isEmpty { return [] }
            try session.apply(ops, source: .local)
            try session.finish()
            return ops
        }
    }

    /// Creates a record owned by `owner` with a fresh id `<prefix>.<owner>.<replica>.<counter>`
    /// (the dot of its first op), and returns that id.
    public func createRecord(kind: EntityKind, owner: String, changes: [(String, Value)], nowMillis: UInt64? = nil) throws -> RecordID {
        let now = nowMillis ?? UInt64(Date().timeIntervalSince1970 * 1000)
        return try write { db in
            guard let me = try Self.identity(db) else {
                throw SyncError(.database, "Bản sao chưa được khởi tạo; hãy chạy «unit-client init».")
            }
            var session = try ApplySession(db: db, store: self)
            let record = RecordID(kind: kind, owner: owner, suffix: "\(me.replica).\(session.vv[me.replica] + 1)")
            let ops = try session.makeLocalOps(record: record, changes: changes, delete: false, resolve: true, me: me, nowMillis: now)
            try session.apply(ops, source: .local)
            try session.finish()
            return record
        }
    }

    /// Many local writes in one durable transaction (an import, or filling a replica for a load
    /// test): each `create`/`write` is the same local write as `createRecord`/`writeRecord`, and
    /// either all of them are committed or none.
    public func localWrites<T: Sendable>(_ body: (inout LocalWriteBatch) throws -> T) throws -> T {
        // `body` is not @Sendable; GRDB's write closure is. The batch lives only inside this call.
        nonisolated(unsafe) let body = body
        return try write { db in
            guard let me = try Self.identity(db) else {
                throw SyncError(.database, "Bản sao chưa được khởi tạo; hãy chạy «unit-client init».")
            }
            var batch = LocalWriteBatch(session: try ApplySession(db: db, store: self), me: me)
            let out = try body(&batch)
            try batch.session.finish()
            return out
        }
    }

    // MARK: Reading ops and clocks

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

    static func ops(_ db: Database, after vv: VersionVector, limit: Int, only: ReplicaID? = nil) throws -> [Op] {
        // With each origin's applied counter, so origins the peer already has in full cost no
        // query: a sync with little to do stays cheap on a hub that has seen hundreds of replicas.
        let origins = try Row.fetchAll(
            db, sql: "SELECT o.idx, o.replica, coalesce(v.counter, 0) FROM origin o LEFT JOIN version_vector v ON v.origin = o.idx ORDER BY o.replica"
        )
        var byIdx: [Int64: ReplicaID] = [:]
        for o in origins { if let id = ReplicaID(o[1] as String) { byIdx[o[0]] = id } }
        var out: [Op] = []
        var names: [Int64: String] = [:]
        let lookups = try EntityKind.allCases.map { try db.cachedStatement(sql: "SELECT id FROM \($0.table) WHERE rowid = ?") }
        func name(_ ref: Int64) throws -> String {
            if let n = names[ref] { return n }
            guard let kind = EntityKind(code: ref & 3),
                let n = try String.fetchOne(lookups[Int(kind.code)], arguments: [ref >> 2])
            else { throw SyncError(.corrupt, "Nhật ký thao tác tham chiếu bản ghi không tồn tại (\(ref)).") }
            names[ref] = n
            return n
        }
        for o in origins {
            let idx: Int64 = o[0]
            guard let origin = byIdx[idx], out.count < limit, only == nil || only == origin, UInt64(o[2] as Int64) > vv[origin] else { continue }
            let rows = try Row.fetchCursor(
                db, sql: "SELECT id & \(OpKey.maxCounter), hlc, target, value, supersedes FROM op WHERE id > ? AND id <= ? ORDER BY id LIMIT ?",
                arguments: [
                    OpKey.id(idx, min(vv[origin], OpKey.maxCounter)), OpKey.id(idx, OpKey.maxCounter), Int64(min(limit - out.count, Int(Int32.max))),
                ])
            while let r = try rows.next() {
                let target: Int64 = r[2]
                let ref = OpTarget.reference(target)
                let fieldIndex = OpTarget.field(target)
                let record = try name(ref)
                guard let kind = EntityKind(code: ref & 3), fieldIndex < EntitySchema.fields(kind).count else {
                    throw SyncError(.corrupt, "Nhật ký thao tác có trường không tồn tại.")
                }
                out.append(
                    try Self.decodeOp(
                        r, origin: origin, byIdx: byIdx, record: record, field: EntitySchema.fields(kind)[fieldIndex].name, valueColumn: 3))
            }
        }
        return out
    }

    /// An op from a row of `op` (`id & maxCounter (the counter), hlc, target, value, supersedes`) or `pending_op`
    /// (`counter, hlc, record, field, value, supersedes`): `value` and `supersedes` are the
    /// columns at `valueColumn` and after it.
    static func decodeOp(_ r: Row, origin: ReplicaID, byIdx: [Int64: ReplicaID], record: String, field: String, valueColumn: Int) throws -> Op {
        let counter: Int64 = r[0]
        let hlc: Int64 = r[1]
        var supersedes: [Dot] = []
        if let blob: Data = r[valueColumn + 1] {
            var reader = VarintReader(blob)
            while !reader.atEnd {
                let oi = try reader.readInt64()
                let c = try reader.read()
                guard let o = byIdx[oi] else { throw SyncError(.corrupt, "Nhật ký thao tác tham chiếu bản sao không tồn tại.") }
                supersedes.append(Dot(o, c))
            }
        }
        return Op(
            dot: Dot(origin, UInt64(counter)), hlc: HLC(storageValue: hlc), record: record, field: field,
            value: Value.fromDatabaseValue(r[valueColumn]) ?? .null, supersedes: supersedes)
    }

    /// Number of ops in the log.
    public func opCount() throws -> Int {
        try read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM op") ?? 0 }
    }

    /// Number of fields in conflict, over every record.
    public func conflictCount() throws -> Int {
        try read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM conflict") ?? 0 }
    }

    /// Rebuilds the file without free pages and truncates the write-ahead log, so a measured file
    /// size is the data's, not the history of its writes.
    package func compact() throws {
        do {
            try dbPool.writeWithoutTransaction { db in
                try db.execute(sql: "VACUUM")
                try db.checkpoint(.truncate)
            }
        } catch {
            throw Self.map(error)
        }
    }

    /// Number of ops held back behind a gap.
    public func pendingCount() throws -> Int {
        try read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM pending_op") ?? 0 }
    }

    // MARK: Peers

    /// What a peer (by name, e.g. "hub") has acknowledged, and where it lives.
    public struct Peer: Sendable, Codable, Equatable {
        public var name: String
        public var url: String?
        public var acked: VersionVector
        public var lastSync: String?
    }

    public func peer(_ name: String) throws -> Peer? {
        try read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT name, url, acked, last_sync FROM peer WHERE name = ?", arguments: [name]) else {
                return nil
            }
            let acked = (try? JSONDecoder().decode(VersionVector.self, from: Data((row[2] as String).utf8))) ?? VersionVector()
            return Peer(name: row[0], url: row[1], acked: acked, lastSync: row[3])
        }
    }

    /// Records what a peer acknowledged (pointwise max with what was known), in `db`'s transaction.
    public static func recordPeer(_ db: Database, name: String, url: String?, acked: VersionVector, at time: String?) throws {
        var current = VersionVector()
        if let s = try String.fetchOne(db, sql: "SELECT acked FROM peer WHERE name = ?", arguments: [name]) {
            current = (try? JSONDecoder().decode(VersionVector.self, from: Data(s.utf8))) ?? VersionVector()
        }
        let merged = current.merged(with: acked)
        let json = String(decoding: try JSONEncoder.canonical.encode(merged), as: UTF8.self)
        try db.execute(
            sql: """
                INSERT INTO peer(name, url, acked, last_sync) VALUES (?, ?, ?, ?)
                ON CONFLICT(name) DO UPDATE SET url = coalesce(excluded.url, url), acked = excluded.acked,
                    last_sync = coalesce(excluded.last_sync, last_sync)
                """, arguments: [name, url, json, time])
    }

    public func recordPeer(name: String, url: String?, acked: VersionVector, at time: String?) throws {
        try write { db in try Self.recordPeer(db, name: name, url: url, acked: acked, at: time) }
    }
}

extension JSONEncoder {
    /// Sorted keys, no escaped slashes: stable bytes for equal values.
    public static var canonical: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }
}

/// Local writes inside one transaction (`ReplicaStore.localWrites`).
public struct LocalWriteBatch {
    var session: ApplySession
    let me: ReplicaStore.Identity

    /// As `ReplicaStore.createRecord`: a record owned by `owner` with a fresh id, returned.
    public mutating func create(kind: EntityKind, owner: String, changes: [(String, Value)], nowMillis: UInt64? = nil) throws -> RecordID {
        let now = nowMillis ?? UInt64(Date().timeIntervalSince1970 * 1000)
        let record = RecordID(kind: kind, owner: owner, suffix: "\(me.replica).\(session.vv[me.replica] + 1)")
        let ops = try session.makeLocalOps(record: record, changes: changes, delete: false, resolve: true, me: me, nowMillis: now)
        try session.apply(ops, source: .local)
        return record
    }

    /// As `ReplicaStore.writeRecord`: one op per changed field; returns the ops written.
    @discardableResult
    public mutating func write(_ record: RecordID, changes: [(String, Value)], delete: Bool = false, resolve: Bool = false, nowMillis: UInt64? = nil)
        throws -> [Op]
    {
        let now = nowMillis ?? UInt64(Date().timeIntervalSince1970 * 1000)
        let ops = try session.makeLocalOps(record: record, changes: changes, delete: delete, resolve: resolve, me: me, nowMillis: now)
        if ops.isEmpty { return [] }
        try session.apply(ops, source: .local)
        return ops
    }
}

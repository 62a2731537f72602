import Foundation
import GRDB

/// The one façade over a replica's SQLite database: every SQL statement of the sync engine lives
/// behind its methods, and no GRDB type appears in its public API. Safe to share between tasks;
/// writes are serialised by SQLite. Its parts:
/// - this file: opening, the connection, maintenance (backup, checkpoint, compaction, checks);
/// - `ReplicaStore+Identity.swift`: which replica and unit this is, `init`;
/// - `ReplicaStore+Writes.swift`: applying batches and local writes (through `Apply/`);
/// - `OpLog.swift`: reading ops and the version vector;
/// - `ReplicaStore+Peers.swift`, `HubTables.swift`: what peers acknowledged; the hub's enrolments,
///   nonces and a client's credentials;
/// - `Queries.swift`, `RecordReader.swift`, `CanonicalDump.swift`: what users and reports read.
public final class ReplicaStore: Sendable {
    public let path: String
    public let catalog: Catalog
    /// The connection (a pool on disk, a queue in memory): reached only through `read`, `write`
    /// and the maintenance methods below.
    private let pool: any DatabaseWriter
    /// Set by the first `close()`: closing again does nothing (GRDB traps on a closed connection).
    private let closed = NSLock.Protected(false)
    let rules: OpRules
    /// Records as the last committed write left them (`RecordCache`).
    let recordCache = RecordCache()

    /// Opens (or, with `create`, creates) the database at `path`. Refuses a missing file unless
    /// creating, a file that is not SQLite, and a database from a newer version of the schema.
    ///
    /// A command gets one connection; with `concurrentReaders` (the hub's server) reads run on
    /// their own connections beside the writer. Either way the file is in WAL mode, every commit
    /// is durable (`synchronous = FULL`), and opening takes no write lock unless a migration is due.
    public static func open(
        path: String, create: Bool = false, catalog: Catalog = .standard, concurrentReaders: Bool = false, schema: SchemaVersion = .current
    ) throws
        -> ReplicaStore
    {
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
        // A writer elsewhere (a sync, a nightly backup) is waited for, not failed on.
        config.busyMode = .timeout(TimeInterval(busyTimeoutSeconds))
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        let pool: any DatabaseWriter
        do {
            if concurrentReaders {
                // GRDB's pool sets WAL mode and then `synchronous = NORMAL` on its writer (and,
                // when the -wal file is empty, writes a dummy table): durability is set back here.
                let p = try DatabasePool(path: path, configuration: config)
                try p.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
                pool = p
            } else {
                // One connection: no dummy write at open, so a read waits for no other writer.
                let q = try DatabaseQueue(path: path, configuration: config)
                try q.writeWithoutTransaction { db in
                    // WAL is a property of the file (set once, at creation); readers of other
                    // processes then never wait for this one's writes.
                    if try String.fetchOne(db, sql: "PRAGMA journal_mode") != "wal" {
                        guard try String.fetchOne(db, sql: "PRAGMA journal_mode = WAL") == "wal" else {
                            throw SyncError(.database, "Không bật được chế độ WAL cho «\(path)».", field: "db", value: path)
                        }
                    }
                }
                pool = q
            }
            let migrator = Migrations.migrator
            let superseded = try pool.read { try migrator.hasBeenSuperseded($0) }
            if superseded {
                throw SyncError(
                    .database, "Cơ sở dữ liệu «\(path)» được tạo bởi phiên bản mới hơn; hãy cập nhật chương trình.",
                    field: "db", value: path)
            }
            // Only a database that needs a migration takes the write lock here: a read-only
            // command must not wait for (or fail on) another process's long write.
            if try !pool.read({ try migrator.hasCompletedMigrations($0) }) {
                // Two processes creating one database at once: each migration commits on its own,
                // so the other process may be part-way through them when this one's migration
                // finds a table it already made. Then wait for it and take up where it is (the
                // migrator re-reads what is applied), for as long as the busy timeout allows.
                let deadline = Date().addingTimeInterval(TimeInterval(busyTimeoutSeconds))
                while true {
                    do {
                        try migrator.migrate(pool)
                        break
                    } catch {
                        if try pool.read({ try migrator.hasCompletedMigrations($0) }) { break }
                        guard Date() < deadline, "\(error)".contains("already exists") else { throw error }
                        Thread.sleep(forTimeInterval: 0.05)
                    }
                }
            }
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
            let mapped = map(error)
            if mapped.code == .unavailable { throw mapped }
            // A full or failing disk is named as such (the same `db=SQLITE_…` as a write), not as the path.
            if let v = mapped.value, v == "SQLITE_FULL" || v == "SQLITE_IOERR" {
                throw SyncError(.database, "Không mở được cơ sở dữ liệu «\(path)»: \(mapped.message)", field: "db", value: v, cause: error)
            }
            throw SyncError(.database, "Không mở được cơ sở dữ liệu «\(path)»: \(error)", field: "db", value: path, cause: error)
        }
        let store = ReplicaStore(path: path, pool: pool, catalog: catalog, schema: schema)
        try store.completeGenesis()
        try store.applyOpsNowKnown()
        return store
    }

    /// Applies the ops kept in `unknown_op` that this program's schema knows (a replica upgraded
    /// after receiving a newer program's ops): they are already in the vector and the chain, so
    /// only the records change. An op that still breaks a rule stays where it is. Takes the
    /// write lock only when such ops wait.
    func applyOpsNowKnown() throws {
        guard try read({ db in try Bool.fetchOne(db, sql: "SELECT EXISTS(SELECT 1 FROM unknown_op)") }) == true else { return }
        try write { db in
            let origins = try OriginTable.load(db)
            let rows = try Row.fetchAll(
                db, sql: "SELECT counter, hlc, value, supersedes, origin, record, field FROM unknown_op ORDER BY origin, counter")
            var session = try ApplySession(db: db, rules: self.rules, cache: self.recordCache)
            var applied: [(Int64, Int64)] = []
            for row in rows {
                let originIndex: Int64 = row[4]
                let origin = try origins.replica(originIndex, in: "Bảng unknown_op")
                let op = try OpRow.decode(row, origin: origin, origins: origins, record: row[5], field: row[6], valueColumn: 2)
                let source: OpSource = origin == .genesis ? .genesis : .peer(authenticated: nil, unit: nil)
                guard let (slot, field, value) = try? session.validate(op, source: source) else { continue }
                try session.applyValidated(op, slot: slot, field: field, value: value)
                applied.append((originIndex, Int64(op.dot.counter)))
            }
            guard !applied.isEmpty else { return }
            for (o, c) in applied { try db.execute(sql: "DELETE FROM unknown_op WHERE origin = ? AND counter = ?", arguments: [o, c]) }
            try session.finish()
        }
    }

    /// Applies the genesis ops an initialised database made by an earlier release lacks (genesis
    /// is append-only: `Genesis`). Takes the write lock only when some are due.
    func completeGenesis() throws {
        let genesis = Genesis.ops(catalog: catalog)
        let have = try read { db in try Int.fetchOne(db, sql: "SELECT value FROM local_state WHERE key = 'genesis'") }
        guard let have, have < genesis.count else { return }
        try write { db in
            guard let applied = try Int.fetchOne(db, sql: "SELECT value FROM local_state WHERE key = 'genesis'"), applied < genesis.count
            else { return }
            var session = try ApplySession(db: db, rules: self.rules, cache: self.recordCache)
            try session.apply(OpBatch(ops: Array(genesis[applied...])), source: .genesis)
            try session.finish()
            try db.execute(sql: "UPDATE local_state SET value = ? WHERE key = 'genesis'", arguments: [genesis.count])
        }
    }

    private init(path: String, pool: any DatabaseWriter, catalog: Catalog, schema: SchemaVersion = .current) {
        self.path = path
        self.pool = pool
        self.catalog = catalog
        self.rules = OpRules(catalog: catalog, schema: schema)
    }

    /// A replica in memory, for tests and benchmarks of the merge through real SQL.
    public static func inMemory(catalog: Catalog = .standard, schema: SchemaVersion = .current) throws -> ReplicaStore {
        do {
            var config = Configuration()
            config.foreignKeysEnabled = true
            let queue = try DatabaseQueue(configuration: config)
            try Migrations.migrator.migrate(queue)
            return ReplicaStore(path: ":memory:", pool: queue, catalog: catalog, schema: schema)
        } catch {
            throw map(error)
        }
    }

    /// Runs a read, mapping database failures to `SyncError`.
    func read<T: Sendable>(_ body: @Sendable (Database) throws -> T) throws -> T {
        do { return try pool.read(body) } catch { throw Self.map(error) }
    }

    /// Runs one write transaction, mapping database failures to `SyncError`.
    /// As GRDB's `write`, with the record cache told of the outcome while the writer is still
    /// held: another write's session cannot stage in between.
    func write<T: Sendable>(_ body: @Sendable (Database) throws -> T) throws -> T {
        let cache = recordCache
        do {
            return try pool.writeWithoutTransaction { db in
                do {
                    var result: T?
                    try db.inTransaction {
                        result = try body(db)
                        return .commit
                    }
                    cache.commitStaged()
                    return result!
                } catch {
                    cache.dropStaged()
                    throw error
                }
            }
        } catch let fork as ForkDetected {
            // Rolled back; `writeVerifying` records it and turns it into a SyncError.
            throw fork
        } catch {
            throw Self.map(error)
        }
    }

    /// How long a command waits for another process's write before giving up: 30 s, or
    /// `CCHC_BUSY_TIMEOUT` seconds (1…3600).
    static let busyTimeoutSeconds: Int = {
        guard let raw = ProcessInfo.processInfo.environment["CCHC_BUSY_TIMEOUT"], !raw.isEmpty else { return 30 }
        guard let n = Int(raw), (1...3600).contains(n) else {
            FileHandle.standardError.write(
                Data("Cảnh báo: biến môi trường «CCHC_BUSY_TIMEOUT» có giá trị không hợp lệ «\(raw)» (cần 1–3600 giây); dùng 30 giây.\n".utf8))
            return 30
        }
        return n
    }()

    static func map(_ error: any Error) -> SyncError {
        if let e = error as? SyncError { return e }
        if let e = error as? DatabaseError {
            if e.resultCode == .SQLITE_NOTADB || e.resultCode == .SQLITE_CORRUPT {
                return SyncError(.database, "Cơ sở dữ liệu bị hỏng hoặc không phải SQLite: \(e.message ?? "")", cause: e)
            }
            if e.resultCode == .SQLITE_FULL || e.resultCode == .SQLITE_IOERR {
                // The transaction was rolled back: nothing of this write is in the database.
                let full = e.resultCode == .SQLITE_FULL
                return SyncError(
                    .database,
                    full
                        ? "Không ghi được vào cơ sở dữ liệu: đĩa đầy (\(e.message ?? "")); không có gì của lần ghi này được lưu. Hãy giải phóng chỗ trống trên đĩa rồi chạy lại."
                        // A failed fsync may leave the commit whole in the write-ahead log: after a
                        // power cut SQLite can find it there (docs/OPERATIONS.md, "A failing disk").
                        : "Không đọc/ghi được cơ sở dữ liệu: lỗi vào/ra của đĩa (\(e.message ?? "")); lần ghi này không hoàn tất và đã được hoàn tác. Hãy kiểm tra ổ đĩa (thiết bị USB, ổ mạng, lỗi phần cứng) rồi chạy lại; nếu máy mất điện ngay sau lỗi này, lần ghi có thể hiện ra nguyên vẹn khi mở lại: hãy xem lại danh sách trước khi nhập lại. Nếu lỗi lặp lại, chạy «verify».",
                    field: "db", value: full ? "SQLITE_FULL" : "SQLITE_IOERR", cause: e)
            }
            if e.resultCode == .SQLITE_BUSY || e.resultCode == .SQLITE_LOCKED {
                return SyncError(
                    .unavailable,
                    "Cơ sở dữ liệu đang bận: một tiến trình khác giữ quyền ghi quá \(busyTimeoutSeconds) giây; hãy thử lại sau (biến môi trường CCHC_BUSY_TIMEOUT đặt thời gian chờ, tính bằng giây).",
                    cause: e)
            }
            return SyncError(.database, "Lỗi cơ sở dữ liệu: \(e.message ?? String(describing: e))", cause: e)
        }
        return SyncError(.internal, "Lỗi không mong đợi: \(error)", cause: error)
    }

    /// Runs `body` outside any transaction (ATTACH, VACUUM), mapping failures.
    func writeOutsideTransaction<T: Sendable>(_ body: @Sendable (Database) throws -> T) throws -> T {
        recordCache.clear()
        do { return try pool.writeWithoutTransaction(body) } catch { throw Self.map(error) }
    }

    /// Closes the connection: the file may then be moved or replaced (repair, recovery).
    public func close() throws {
        guard closed.exchange(true) == false else { return }
        do {
            try pool.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
            if let q = pool as? DatabaseQueue { try q.close() }
            if let p = pool as? DatabasePool { try p.close() }
        } catch {
            throw Self.map(error)
        }
    }

    // MARK: Maintenance

    /// An online copy of the database to `path` through SQLite's backup API, while others keep
    /// reading and writing.
    public func backup(to path: String) throws {
        do {
            let dest = try DatabaseQueue(path: path)
            try pool.backup(to: dest)
            try dest.close()
        } catch {
            throw Self.map(error)
        }
    }

    /// The simulator's full disk (docs/SIMULATION.md): this connection may grow the database by at
    /// most `pages` more pages (SQLite's `max_page_count`), or without limit again with `nil`;
    /// a write that needs more fails with `SQLITE_FULL` as on a full disk. Returns the pages the
    /// database has now.
    @discardableResult
    package func limitGrowth(pages: Int?) throws -> Int {
        do {
            return try pool.writeWithoutTransaction { db in
                let now = try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0
                try db.execute(sql: "PRAGMA max_page_count = \(pages.map { now + max(0, $0) } ?? 4_294_967_294)")
                return now
            }
        } catch {
            throw Self.map(error)
        }
    }

    /// Copies the write-ahead log into the database and truncates it (as after a restart), so
    /// measurements do not pay for a log left behind by a bulk load.
    public func checkpoint() throws {
        do {
            try pool.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
        } catch {
            throw Self.map(error)
        }
    }

    /// Rebuilds the file without free pages and truncates the write-ahead log, so a measured file
    /// size is the data's, not the history of its writes.
    package func compact() throws {
        do {
            recordCache.clear()
            try pool.writeWithoutTransaction { db in
                try db.execute(sql: "VACUUM")
                try db.checkpoint(.truncate)
            }
        } catch {
            throw Self.map(error)
        }
    }

    /// `PRAGMA integrity_check` of the database at `path`: "ok" or the problems found.
    public static func integrityCheck(path: String) throws -> String {
        do {
            let q = try DatabaseQueue(path: path)
            defer { try? q.close() }
            return try q.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check").joined(separator: "; ") }
        } catch {
            throw map(error)
        }
    }
}

extension NSLock {
    /// A value read and changed only under a lock.
    final class Protected<Value>: @unchecked Sendable {
        private let lock = NSLock()
        private var value: Value

        init(_ value: Value) { self.value = value }

        /// Stores `new` and returns what was there.
        func exchange(_ new: Value) -> Value {
            lock.lock()
            defer { lock.unlock() }
            let old = value
            value = new
            return old
        }

        /// Runs `body` on the value under the lock.
        func withLock<T>(_ body: (inout Value) -> T) -> T {
            lock.lock()
            defer { lock.unlock() }
            return body(&value)
        }
    }
}

import Foundation
import GRDB

/// A store made again from another's op log: the typed tables are derived, so replaying the
/// verified ops into a fresh file rebuilds them (`repair`), and replaying all but some of this
/// replica's own ops is the first step of recovering from a restored backup or a copied
/// enrolment. Every op goes through verification again; local facts (identity, key, credentials,
/// peers, enrolments, nonces, forks) are copied as they are.
extension ReplicaStore {
    /// Rebuilds this store's content into a new file at `path` (which must not exist). `stop`
    /// gives, per origin, the last counter to keep (absent: all): ops of this replica's own
    /// origin beyond it are left out, and its kept ops are signed afresh at the new end. Another
    /// origin is cut at a head its author signed (or within its ops from before signing), and
    /// nothing of it beyond `stop` is read, so a damaged tail of its log is never touched
    /// (`repair`). Held-back ops are carried over, still held back.
    public func rebuild(into path: String, stop: [ReplicaID: UInt64] = [:]) throws -> ReplicaStore {
        guard !FileManager.default.fileExists(atPath: path) else {
            throw SyncError(.conflict, "Tệp «\(path)» đã tồn tại; không ghi đè.", field: "db", value: path)
        }
        // The new file is this function's until it returns: if anything fails (a full or failing
        // disk, damage found on the way), it is closed and removed, and the original is untouched.
        let target: ReplicaStore
        do {
            target = try ReplicaStore.open(path: path, create: true, catalog: catalog)
        } catch {
            Self.removeFiles(path)
            throw error
        }
        do {
            try fill(target, stop: stop)
        } catch {
            try? target.close()
            Self.removeFiles(path)
            throw error
        }
        return target
    }

    /// Removes a database file and its `-wal` and `-shm` files, if there.
    static func removeFiles(_ path: String) {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }

    private func fill(_ target: ReplicaStore, stop: [ReplicaID: UInt64]) throws {
        let source = self.path
        try target.writeOutsideTransaction { db in
            try db.execute(sql: "ATTACH DATABASE ? AS old", arguments: [source])
            defer { try? db.execute(sql: "DETACH DATABASE old") }
            try db.inTransaction {
                for table in ["credential", "peer", "enrolment", "seen_nonce", "fork"] {
                    try db.execute(sql: "INSERT INTO main.\(table) SELECT * FROM old.\(table)")
                }
                try db.execute(
                    sql: "INSERT INTO main.local_state SELECT * FROM old.local_state WHERE key IN ('replica', 'unit', 'signing_key', 'hlc')")
                return .commit
            }
        }
        let me = try target.identity()?.replica
        // The seed, as `init` makes it.
        try target.write { db in
            var session = try ApplySession(db: db, rules: self.rules, cache: target.recordCache)
            let genesis = Genesis.ops(catalog: self.catalog)
            try session.apply(OpBatch(ops: genesis), source: .genesis)
            try session.finish()
            try db.execute(sql: "INSERT INTO local_state(key, value) VALUES ('genesis', ?)", arguments: [genesis.count])
        }
        let have = try versionVector()
        // Other origins are read only up to where they are cut (their own heads end the pages);
        // this replica's own origin too when it is cut at one of its verified heads.
        let capped = try read { db in
            try stop.filter { o, c in
                guard o == me, c > 0, let index = try OriginTable.load(db).indexOf[o] else { return true }
                return try Bool.fetchOne(
                    db, sql: "SELECT 1 FROM signed_head WHERE origin = ? AND counter = ? AND hash IS NOT NULL", arguments: [index, Int64(c)]) ?? false
            }
        }
        var done = Set<ReplicaID>()
        while true {
            var after = try target.versionVector()
            for (o, c) in have.counters where done.contains(o) || after[o] >= min(c, stop[o] ?? c) { after[o] = c }
            let asked = after
            let page = try read { db in try Self.page(db, after: asked, limit: SyncProtocol.maxPageOps, legacy: true, upTo: capped) }
            if page.batch.isEmpty { break }
            var batch = OpBatch()
            for op in page.batch.ops where op.dot.counter <= stop[op.dot.origin] ?? .max { batch.ops.append(op) }
            batch.heads = page.batch.heads.filter { $0.counter <= stop[$0.origin] ?? .max }
            for o in Set(page.batch.ops.map(\.dot.origin)) where stop[o] != nil {
                let kept = batch.ops.filter { $0.dot.origin == o }
                if kept.isEmpty {
                    done.insert(o)
                    continue
                }
                guard o == me else { continue }
                // This replica's own ops, cut where it did not sign: signed afresh at the new end;
                // those it wrote before it signed (a replica of the release before signing) stay
                // unsigned, as here: its key is registered after them, so no receiver, this new
                // file included, could check a signature over them alone (found by cchc-sim).
                let others = batch.ops.filter { $0.dot.origin != o }
                let legacy = try legacyMark(of: o)
                var heads = batch.heads.filter { $0.origin != o }
                if let last = kept.last(where: { $0.dot.counter <= legacy }) {
                    heads.append(SignedHead(origin: o, counter: last.dot.counter, signature: Data()))
                }
                if kept.contains(where: { $0.dot.counter > legacy }) { heads += try target.signOwnOpsUnchecked(kept).heads }
                batch = OpBatch(ops: others + kept, heads: heads)
            }
            if batch.isEmpty { continue }
            let report = try target.apply(batch, source: .peer(authenticated: nil, unit: nil), fromHub: true)
            guard report.applied > 0 else {
                throw SyncError(
                    .corrupt, "Không dựng lại được: các thao tác sau \(after) không áp dụng được (thiếu chữ ký hoặc bị hỏng).", field: "db",
                    value: self.path)
            }
        }
        // What waits behind a gap still waits.
        let held = try read { db -> OpBatch in
            let origins = try OriginTable.load(db)
            var out = OpBatch()
            for row in try Row.fetchAll(
                db, sql: "SELECT origin, counter, hlc, record, field, value, supersedes FROM pending_op ORDER BY origin, counter")
            {
                guard let o = origins.replicaAt[row[0]] else { continue }
                let supersedes = try (row[6] as Data?).map { try RegisterCodec.decodeSupersedes($0, origins: origins) } ?? []
                out.ops.append(
                    Op(
                        dot: Dot(o, UInt64(row[1] as Int64)), hlc: HLC(storageValue: row[2]), record: row[3], field: row[4],
                        value: Value.fromDatabaseValue(row[5]) ?? .null, supersedes: supersedes))
            }
            for row in try Row.fetchAll(db, sql: "SELECT origin, counter, signature FROM signed_head WHERE hash IS NULL") {
                guard let o = origins.replicaAt[row[0]] else { continue }
                out.heads.append(SignedHead(origin: o, counter: UInt64(row[1] as Int64), signature: row[2]))
            }
            return out
        }
        if !held.isEmpty { try target.apply(held, source: .peer(authenticated: nil, unit: nil), fromHub: true) }
        // Checked, not assumed: the new store holds exactly what was to be kept.
        let got = try target.versionVector()
        for (o, c) in have.counters where got[o] != min(c, stop[o] ?? c) {
            throw SyncError(
                .corrupt, "Dựng lại chưa đầy đủ: bản sao \(o) có \(got[o]) thao tác, cần \(min(c, stop[o] ?? c)).", field: "origin",
                value: o.rawValue)
        }
    }

    /// Puts the file at `replacement` in place of this store's file, keeping the old one as
    /// `backup` (with its -wal and -shm). Both stores must be closed.
    public static func replace(_ path: String, with replacement: String, keepingOldAs backup: String) throws {
        let fm = FileManager.default
        do {
            for suffix in ["-wal", "-shm"] where fm.fileExists(atPath: path + suffix) {
                try fm.moveItem(atPath: path + suffix, toPath: backup + suffix)
            }
            try fm.moveItem(atPath: path, toPath: backup)
            for suffix in ["-wal", "-shm"] where fm.fileExists(atPath: replacement + suffix) {
                try fm.moveItem(atPath: replacement + suffix, toPath: path + suffix)
            }
            try fm.moveItem(atPath: replacement, toPath: path)
        } catch {
            throw SyncError(.database, "Không thay được tệp «\(path)»: \(error)", field: "db", value: path, cause: error)
        }
    }
}

import Foundation

/// Recovering a replica whose own ops clash with what the hub holds of its origin, without
/// losing work (docs/SYNC-CONTRACT.md, "After a restore or a copied enrolment"):
/// - **restored backup**: the database went back to an old copy and wrote on under counters the
///   hub already holds. Its ops from the first one that differs are set aside, the hub's are
///   taken back, and the set-aside work is written again as new ops after them;
/// - **rehome**: a second machine used an enrolment already bound to another machine. Its work
///   moves to a new enrolment: everything it wrote is written again as the new replica's ops.
/// Either way the database is rebuilt into a new file (every op verified again) and swapped in;
/// the old file is kept beside it.
public enum Recovery {
    public struct Report: Sendable, Codable, Equatable {
        /// The replica the work now belongs to.
        public var replica: ReplicaID
        /// The first own counter set aside (restore), or 1 (rehome).
        public var from: UInt64
        /// Ops set aside, and records and fields written again from them.
        public var setAside: Int
        public var recordsRewritten: Int
        public var recordsRecreated: Int
        /// Where the database was before.
        public var oldFile: String

        enum CodingKeys: String, CodingKey {
            case replica, from
            case setAside = "set_aside"
            case recordsRewritten = "records_rewritten"
            case recordsRecreated = "records_recreated"
            case oldFile = "old_file"
        }
    }

    /// The first counter where this replica's own ops and the hub's copy of them differ, if any.
    public static func divergence(store: ReplicaStore, hubOwn: OpBatch, after acked: UInt64) throws -> UInt64? {
        guard let me = try store.identity()?.replica else { return nil }
        let local = try store.ops(of: me, after: acked, limit: .max).ops
        var theirs: [UInt64: Op] = [:]
        for op in hubOwn.ops where op.dot.origin == me { theirs[op.dot.counter] = op }
        for op in local {
            guard let t = theirs[op.dot.counter] else { return nil }
            var a = op
            var b = t
            a.supersedes.sort()
            b.supersedes.sort()
            if a != b { return op.dot.counter }
        }
        return nil
    }

    /// After a restore: keeps own ops before `from`, takes the hub's own ops from `from` on, and
    /// writes the set-aside ones again. `store` is closed; reopen the file at its path.
    public static func recoverFromRestore(store: ReplicaStore, hubOwn: OpBatch, from: UInt64, now: Int64 = Int64(Date().timeIntervalSince1970))
        throws -> Report
    {
        let me = try store.requireIdentity()
        let setAside = try store.ops(of: me.replica, after: from - 1, limit: .max).ops
        let path = store.path
        let tmp = path + ".khoi-phuc-\(now)"
        let rebuilt = try store.rebuild(into: tmp, stop: [me.replica: from - 1])
        // The rebuild copies the credential row but not the hub's pinned certificate (local_state).
        if let c = try store.credentials() { try rebuilt.saveCredentials(c) }
        let back = OpBatch(
            ops: hubOwn.ops.filter { $0.dot.origin == me.replica && $0.dot.counter >= from },
            heads: hubOwn.heads.filter { $0.origin == me.replica && $0.counter >= from })
        try rebuilt.apply(back, source: .peer(authenticated: nil, unit: nil), fromHub: true)
        var report = try rewrite(setAside, of: me.replica, createdFrom: from, into: rebuilt)
        try rebuilt.closeForks(of: me.replica, why: "đã khôi phục: công việc ghi sau bản sao lưu được ghi lại dưới số mới")
        report.from = from
        return try swap(store: store, rebuilt: rebuilt, tmp: tmp, report: report, suffix: "truoc-khoi-phuc", now: now)
    }

    /// A second machine on one enrolment: moves all its work to the replica of `enrolment` (a new
    /// one from `hub enrol`). `store` is closed; reopen the file at its path.
    public static func rehome(store: ReplicaStore, enrolment: EnrolmentFile, now: Int64 = Int64(Date().timeIntervalSince1970)) throws -> Report {
        let me = try store.requireIdentity()
        guard enrolment.unit == me.unit else {
            throw SyncError.invalid("enrolment", enrolment.unit, "tệp ghi danh mới cấp cho đơn vị \(enrolment.unit), bản sao này thuộc \(me.unit).")
        }
        guard enrolment.replicaID != me.replica else {
            throw SyncError.invalid(
                "enrolment", enrolment.replicaID.rawValue, "đây là tệp ghi danh bản sao đang dùng; cần một tệp ghi danh mới do «hub enrol» cấp.")
        }
        let setAside = try store.ops(of: me.replica, after: 0, limit: .max).ops
        let label = try store.replicaLabel(me.replica)
        let path = store.path
        let tmp = path + ".chuyen-\(now)"
        let rebuilt = try store.rebuild(into: tmp, stop: [me.replica: 0])
        try rebuilt.adopt(
            identity: .init(replica: enrolment.replicaID, unit: enrolment.unit),
            credentials: HubCredentials(enrolment: enrolment),
            label: label)
        var report = try rewrite(setAside, of: me.replica, createdFrom: 1, into: rebuilt)
        report.from = 1
        return try swap(store: store, rebuilt: rebuilt, tmp: tmp, report: report, suffix: "truoc-chuyen", now: now)
    }

    private static func swap(store: ReplicaStore, rebuilt: ReplicaStore, tmp: String, report: Report, suffix: String, now: Int64) throws -> Report {
        var report = report
        let path = store.path
        let backup = path + ".\(suffix)-\(now)"
        try rebuilt.close()
        try store.close()
        try ReplicaStore.replace(path, with: tmp, keepingOldAs: backup)
        report.oldFile = backup
        return report
    }

    /// Writes `ops` (set aside, of origin `old`) again as local writes of `store`'s replica: per
    /// record, the last value each field was given; a record `old` created at or after counter
    /// `createdFrom` is created again under a new id (its old id belongs to the other branch).
    static func rewrite(_ ops: [Op], of old: ReplicaID, createdFrom: UInt64, into store: ReplicaStore) throws -> Report {
        var order: [String] = []
        var fields: [String: [(String, Value)]] = [:]
        for op in ops {
            guard let id = try? RecordID.parse(op.record), id.kind != .replica else { continue }
            if fields[op.record] == nil {
                order.append(op.record)
                fields[op.record] = []
            }
            fields[op.record]?.removeAll { $0.0 == op.field }
            fields[op.record]?.append((op.field, op.value))
        }
        let me = try store.requireIdentity().replica
        var report = Report(replica: me, from: createdFrom, setAside: ops.count, recordsRewritten: 0, recordsRecreated: 0, oldFile: "")
        try store.localWrites { batch in
            for raw in order {
                let id = try RecordID.parse(raw)
                let changes = fields[raw] ?? []
                let parts = raw.split(separator: ".")
                let createdHere =
                    parts.count >= 4 && parts[parts.count - 2] == Substring(old.rawValue)
                    && (UInt64(parts[parts.count - 1]) ?? 0) >= createdFrom
                let deleted = changes.first { $0.0 == "deleted" }?.1 == .int(1)
                if createdHere {
                    // Deleted before it ever left this machine: nothing to bring back.
                    if deleted { continue }
                    _ = try batch.create(kind: id.kind, owner: id.owner, changes: changes)
                    report.recordsRecreated += 1
                } else {
                    _ = try batch.write(id, changes: changes.filter { $0.0 != "deleted" }, delete: deleted, resolve: true)
                    report.recordsRewritten += 1
                }
            }
        }
        return report
    }
}

extension ReplicaStore {
    /// The machine label `origin` registered.
    func replicaLabel(_ origin: ReplicaID) throws -> String? {
        try read { db in try String.fetchOne(db, sql: "SELECT label FROM replica WHERE id = ?", arguments: [RecordID.replica(origin).rawValue]) }
    }

    /// Makes this store the replica `identity` with a new signing key and `credentials`, and
    /// registers it (its first ops). Only for a store that holds no op of that replica.
    func adopt(identity: Identity, credentials: HubCredentials, label: String?) throws {
        try write { db in
            try db.execute(sql: "DELETE FROM local_state WHERE key IN ('replica', 'unit', 'signing_key')")
            try db.execute(
                sql: "INSERT INTO local_state(key, value) VALUES ('replica', ?), ('unit', ?)",
                arguments: [identity.replica.rawValue, identity.unit])
            try Self.saveSigningKey(SigningKey(), db)
            try db.execute(sql: "DELETE FROM peer WHERE name = 'hub'")
        }
        try saveCredentials(credentials)
        var changes: [(String, Value)] = [("unit", .text(identity.unit))]
        if let label, !label.isEmpty { changes.append(("label", .text(label))) }
        _ = try writeRecord(RecordID.replica(identity.replica), changes: changes)
    }

    /// Closes this store's open forks of `origin`.
    func closeForks(of origin: ReplicaID, why: String) throws {
        try write { db in try Self.closeForks(db, origin: origin, through: .max >> 1, why: why, now: Int64(Date().timeIntervalSince1970)) }
    }
}

extension SyncClient {
    /// `run`; when the hub refuses this replica's own ops as a fork (its database was restored
    /// from an old copy and wrote on), recovers (`Recovery.recoverFromRestore`: the hub's copy
    /// taken back, the later work written again under new counters) and runs again on the
    /// rebuilt store, which it returns.
    public func runRecovering(progress: @Sendable (SyncProgress) -> Void = { _ in }, onRecovery: (SyncError) -> Void = { _ in }) async throws -> (
        summary: SyncSummary, recovered: Recovery.Report?, store: ReplicaStore
    ) {
        let me = credentials.replica
        do {
            return (try await run(progress: progress), nil, store)
        } catch let e as SyncError where e.code == .fork && e.value?.hasPrefix("\(me):") == true {
            onRecovery(e)
            let acked = try store.peer("hub")?.acked[me] ?? 0
            let vector = try await hubVector()
            var hubOwn = try await fetchOwnOps(after: acked, hubVector: vector)
            var from = try Recovery.divergence(store: store, hubOwn: hubOwn, after: acked)
            // The cursor can be past where the two copies part: a page recorded the hub's vector
            // before this replica's own ops in it arrived, the sync was cut, and the replica wrote
            // on under counters the hub holds (found by cchc-sim). Then compare from the start.
            if from == nil && acked > 0 {
                hubOwn = try await fetchOwnOps(after: 0, hubVector: vector)
                from = try Recovery.divergence(store: store, hubOwn: hubOwn, after: 0)
            }
            guard let from else { throw e }
            let path = store.path
            let report = try Recovery.recoverFromRestore(store: store, hubOwn: hubOwn, from: from)
            var again = self
            again.store = try ReplicaStore.open(path: path, catalog: store.catalog)
            return (try await again.run(progress: progress), report, again.store)
        }
    }
}

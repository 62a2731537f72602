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
        public enum Kind: String, Sendable, Codable, Equatable {
            /// This replica's database was put back to an old copy.
            case restore
            /// This machine's work moved to a new enrolment.
            case rehome
            /// Another replica's ops held here differ from the hub's copy: set aside.
            case branchSetAside = "branch-set-aside"
        }
        public var kind: Kind
        /// The replica the work now belongs to (for `branchSetAside`: the origin whose branch
        /// held here was set aside).
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
            case kind, replica, from
            case setAside = "set_aside"
            case recordsRewritten = "records_rewritten"
            case recordsRecreated = "records_recreated"
            case oldFile = "old_file"
        }
    }

    /// The first counter where this replica's own ops and the hub's copy of them differ, if any.
    public static func divergence(store: ReplicaStore, hubOwn: OpBatch, after acked: UInt64) throws -> UInt64? {
        guard let me = try store.identity()?.replica else { return nil }
        return firstDifference(try store.ops(of: me, after: acked, limit: .max).ops, hubOwn, of: me)
    }

    /// The first counter of `origin` where `local` and the hub's copy in `hub` hold different ops
    /// (supersedes compared as sets), up to where the hub's copy ends; nil if none.
    static func firstDifference(_ local: [Op], _ hub: OpBatch, of origin: ReplicaID) -> UInt64? {
        var theirs: [UInt64: Op] = [:]
        for op in hub.ops where op.dot.origin == origin { theirs[op.dot.counter] = op }
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
        let from = try cutBelowKeyRegistration(store: store, replica: me.replica, hubOwn: hubOwn, from: from)
        let setAside = try store.ops(of: me.replica, after: from - 1, limit: .max).ops
        let path = store.path
        let tmp = path + ".khoi-phuc-\(now)"
        let rebuilt = try store.rebuild(into: tmp, stop: [me.replica: from - 1])
        let report = try discardingOnFailure(rebuilt, at: tmp) {
            // The rebuild copies the credential row but not the hub's pinned certificate (local_state).
            if let c = try store.credentials() { try rebuilt.saveCredentials(c) }
            let back = OpBatch(
                ops: hubOwn.ops.filter { $0.dot.origin == me.replica && $0.dot.counter >= from },
                heads: hubOwn.heads.filter { $0.origin == me.replica && $0.counter >= from })
            try rebuilt.apply(back, source: .peer(authenticated: nil, unit: nil), fromHub: true)
            var report = try rewrite(setAside, of: me.replica, createdFrom: from, into: rebuilt, nowMillis: UInt64(max(0, now)) * 1000)
            try rebuilt.closeForks(of: me.replica, why: "đã khôi phục: công việc ghi sau bản sao lưu được ghi lại dưới số mới")
            report.from = from
            return report
        }
        return try swap(store: store, rebuilt: rebuilt, tmp: tmp, report: report, suffix: "truoc-khoi-phuc", now: now)
    }

    /// Where a restore's cut must fall so that the ops kept can be vouched for. A replica of the
    /// release before signing registers its key with its first write after the upgrade (releases
    /// before 2026-12-03: as the last op of that commit); the rebuild signs a head over the own ops it keeps, which no
    /// receiver can check if the key is registered after them. So a cut between the ops written
    /// before signing (the legacy mark) and the key registration moves down to the legacy mark:
    /// the ops after it are set aside and the hub's copy of them taken back (found by cchc-sim,
    /// seed 3167800176976187806: the first op after the restore equalled the hub's). Only where
    /// the hub's copy holds them; otherwise the cut stays and the rebuild refuses, naming it.
    static func cutBelowKeyRegistration(store: ReplicaStore, replica: ReplicaID, hubOwn: OpBatch, from: UInt64) throws -> UInt64 {
        let legacy = try store.legacyMark(of: replica)
        guard legacy > 0, from > legacy + 1 else { return from }
        let keyRecord = RecordID.replica(replica).rawValue
        // (A page runs on to the next head: only the ops before the cut count.)
        let between = try store.ops(of: replica, after: legacy, limit: Int(from - 1 - legacy)).ops.filter { $0.dot.counter < from }
        if between.contains(where: { $0.record == keyRecord && $0.field == "key" }) { return from }
        guard hubOwn.ops.contains(where: { $0.dot == Dot(replica, legacy + 1) }) else { return from }
        return legacy + 1
    }

    /// Moves this machine's work to the replica of `enrolment` (a new one from `hub enrol`).
    /// `store` is closed; reopen the file at its path.
    ///
    /// A second machine on one enrolment (`hub enrol --unit`): the hub's ops of the old replica
    /// are the other machine's, so this one's are written again under the new replica, the
    /// records it created under new ids; only what the hub acknowledged to this file (none, for
    /// a second machine; the old release's synced work, for a copy of the previous release's
    /// file) stays as it is. A revoked replica (`hub enrol --replaces OLD`):
    /// the hub keeps what it holds of OLD, whose count and chain hash the file carries; the ops
    /// the hub holds stay here as they are and only the later ones are written again, so no work
    /// the hub already has comes back twice (found by cchc-sim with `--revocations`: a rehome
    /// after a revocation created every synced activity a second time).
    public static func rehome(
        store: ReplicaStore, enrolment: EnrolmentFile, now: Int64 = Int64(Date().timeIntervalSince1970), signingKey: SigningKey = SigningKey()
    ) throws -> Report {
        let me = try store.requireIdentity()
        guard enrolment.unit == me.unit else {
            throw SyncError.invalid("enrolment", enrolment.unit, "tệp ghi danh mới cấp cho đơn vị \(enrolment.unit), bản sao này thuộc \(me.unit).")
        }
        guard enrolment.replicaID != me.replica else {
            throw SyncError.invalid(
                "enrolment", enrolment.replicaID.rawValue, "đây là tệp ghi danh bản sao đang dùng; cần một tệp ghi danh mới do «hub enrol» cấp.")
        }
        let keep: UInt64
        if let r = enrolment.replaces {
            guard r.replica == me.replica else {
                throw SyncError.invalid(
                    "enrolment", r.replica.rawValue,
                    "tệp ghi danh mới này thay cho bản sao \(r.replica), không phải bản sao của máy này (\(me.replica)).")
            }
            keep = try keptUnder(r, store: store, me: me.replica)
        } else {
            // What the hub acknowledged to this very file is the hub's copy of those ops: kept, not
            // written twice (a copy of the previous release's file put back after its upgrade
            // synced would otherwise bring its synced activities back a second time).
            keep = min(try store.peer("hub")?.acked[me.replica] ?? 0, try store.versionVector()[me.replica])
        }
        let setAside = try store.ops(of: me.replica, after: keep, limit: .max).ops.filter { $0.dot.counter > keep }
        let label = try store.replicaLabel(me.replica)
        let path = store.path
        let tmp = path + ".chuyen-\(now)"
        let rebuilt = try store.rebuild(into: tmp, stop: [me.replica: keep])
        let report = try discardingOnFailure(rebuilt, at: tmp) {
            try rebuilt.adopt(
                identity: .init(replica: enrolment.replicaID, unit: enrolment.unit),
                credentials: HubCredentials(enrolment: enrolment),
                label: label, signingKey: signingKey, nowMillis: UInt64(max(0, now)) * 1000)
            var report = try rewrite(setAside, of: me.replica, createdFrom: keep + 1, into: rebuilt, nowMillis: UInt64(max(0, now)) * 1000)
            report.kind = .rehome
            report.from = keep + 1
            return report
        }
        return try swap(store: store, rebuilt: rebuilt, tmp: tmp, report: report, suffix: "truoc-chuyen", now: now)
    }

    /// How many of its own ops a revoked replica keeps under `replacement`: all the hub holds
    /// when this store holds the same chain up to there (the usual case: every op the hub holds
    /// is one this machine sent); for a machine put back to an old copy, the ops its copy shares
    /// with the hub's, found by the per-op digests (one chain: once two copies part they never
    /// meet again, so what they share is a prefix).
    static func keptUnder(_ replacement: EnrolmentFile.Replacement, store: ReplicaStore, me: ReplicaID) throws -> UInt64 {
        let held = replacement.held
        guard held > 0 else { return 0 }
        let local = try store.chainHashes(of: me, through: held)
        if local.count == Int(held), SyncAuth.hex(local[Int(held) - 1].bytes) == replacement.head.lowercased() { return held }
        let theirs = replacement.digestList
        var shared = 0
        while shared < min(local.count, theirs.count), local[shared].prefix64 == theirs[shared] { shared += 1 }
        return UInt64(shared)
    }

    /// Another replica's ops held here (brought by an ops file or a bundle a laptop carried) differ
    /// from the hub's copy of that origin: a forged file, the work of a second machine on a copied
    /// enrolment, or a restored replica's work before it recovered. The hub only takes an origin's
    /// ops from the machine its enrolment is bound to (verified, chain and signature), so its copy
    /// is the one every replica converges on: this store's ops of `origin` from its last signed
    /// head before they part are set aside (kept in the old file and in the fork's evidence;
    /// their author, if genuine, writes them again when it recovers or moves to a new
    /// enrolment), and the hub's are taken. Returns nil when the two copies do not part.
    /// `store` is closed on success; reopen the file at its path.
    ///
    /// `closedAfter`: the hub refused this store's copy of a revoked `origin` beyond that counter
    /// (Exchange.refuseClosedOrigins); the ops after it are set aside even where nothing of the
    /// hub's differs from them.
    public static func setAsideBranch(
        of origin: ReplicaID, store: ReplicaStore, hubOps: OpBatch, closedAfter: UInt64? = nil, now: Int64 = Int64(Date().timeIntervalSince1970)
    ) throws -> Report? {
        let me = try store.requireIdentity()
        guard origin != me.replica else { return nil }
        let local = try store.ops(of: origin, after: 0, limit: .max).ops
        var parts = firstDifference(local, hubOps, of: origin)
        if parts == nil, let closed = closedAfter, let last = local.last?.dot.counter, last > closed { parts = closed + 1 }
        guard let parts else { return nil }
        let keep = try store.lastSignedHead(of: origin, atOrBelow: parts - 1)
        let back = OpBatch(
            ops: hubOps.ops.filter { $0.dot.origin == origin && $0.dot.counter > keep },
            heads: hubOps.heads.filter { $0.origin == origin && $0.counter > keep })
        return try cutBranch(
            of: origin, at: keep, setAside: local.filter { $0.dot.counter > keep }.count, store: store, now: now,
            why: "bản của hub được giữ; các thao tác khác của \(origin) từ số \(keep + 1) được để riêng (tệp cũ)"
        ) { rebuilt in
            try rebuilt.apply(back, source: .peer(authenticated: nil, unit: nil), fromHub: true)
        }
    }

    /// Rebuilds `store` with `origin`'s ops cut at `keep`, runs `finish` on the new file and closes
    /// `origin`'s forks there (`why`), then puts it in place, the old file kept beside it as
    /// `<db>.truoc-bo-nhanh-<origin>-<time>`: a branch set aside. A step that fails leaves the
    /// original as it was and no new file.
    private static func cutBranch(
        of origin: ReplicaID, at keep: UInt64, setAside: Int, store: ReplicaStore, now: Int64, why: String,
        finish: (ReplicaStore) throws -> Void = { _ in }
    ) throws -> Report {
        let tmp = store.path + ".bo-nhanh-\(origin)-\(now)"
        let rebuilt = try store.rebuild(into: tmp, stop: [origin: keep])
        try discardingOnFailure(rebuilt, at: tmp) {
            if let c = try store.credentials() { try rebuilt.saveCredentials(c) }
            try finish(rebuilt)
            try rebuilt.closeForks(of: origin, why: why)
        }
        let report = Report(
            kind: .branchSetAside, replica: origin, from: keep + 1, setAside: setAside, recordsRewritten: 0, recordsRecreated: 0, oldFile: "")
        return try swap(store: store, rebuilt: rebuilt, tmp: tmp, report: report, suffix: "truoc-bo-nhanh-\(origin)", now: now)
    }

    /// A revoked replica's ops held here beyond where the hub's copy of them ends (`closed`, from
    /// a hub's bundle) are set aside, kept in the old file: they will never reach the hub, and
    /// the replica's replacement writes its unsent work again (as `setAsideBranch` with
    /// `closedAfter`, for a laptop that syncs only by files). The copy here up to the hub's count
    /// must be the hub's: the same chain head there, and the replica's signature on it where the
    /// hub holds one; then the store is cut exactly there, that head stored. Where the copies
    /// differ before it, nothing changes and a fork is thrown naming it (an HTTP sync keeps the
    /// hub's copy). Returns nil when this store holds no more of that replica than the hub.
    /// `store` is closed on success; reopen the file at its path.
    public static func setAsideClosed(_ closed: ClosedOrigin, store: ReplicaStore, now: Int64 = Int64(Date().timeIntervalSince1970)) throws
        -> Report?
    {
        let origin = closed.origin
        let me = try store.requireIdentity()
        guard origin != me.replica else { return nil }
        let held = try store.versionVector()[origin]
        guard held > closed.counter else { return nil }
        let c = closed.counter
        let mine = try store.chainHash(of: origin, at: c)
        guard mine == closed.hash else {
            throw SyncError(
                .fork,
                "Bản sao \(origin) đã bị thu hồi và hub giữ thao tác của nó đến \(origin):\(c), nhưng bản ở máy này khác bản của hub trước số đó (đầu chuỗi \(mine?.short ?? "-") so với \(closed.hash.short) của hub). Không thay đổi gì; «unit-client sync» qua mạng giữ bản của hub.",
                field: "closed", value: "\(origin):\(c)")
        }
        var keep = c
        if c > 0 {
            let key = try store.read { db in try ReplicaStore.machineKey(db, of: origin) }
            if !closed.signature.isEmpty, let key {
                let head = SignedHead(origin: origin, counter: c, signature: closed.signature)
                guard head.verifies(hash: closed.hash, key: key) else {
                    throw SyncError(
                        .unauthorized, "Chữ ký của bản sao \(origin) trên đầu chuỗi \(c) trong gói của hub không hợp lệ; không thay đổi gì.",
                        field: "signature", value: "\(origin):\(c)")
                }
                // A true head of this store's own copy: the cut below ends at it.
                try store.addVerifiedHead(origin: origin, counter: c, hash: closed.hash, signature: closed.signature)
            } else {
                // The hub's copy ends at an unsigned (legacy) head, or this store has no key to
                // check the signature with: cut at the last head below that it can vouch for;
                // the hub's next bundle brings the rest.
                keep = min(c, max(try store.lastSignedHead(of: origin, atOrBelow: c), try store.legacyMark(of: origin)))
            }
        }
        return try cutBranch(
            of: origin, at: keep, setAside: Int(held - keep), store: store, now: now,
            why: "bản sao \(origin) đã bị thu hồi; các thao tác của nó sau số \(keep) hub không bao giờ nhận được đã để riêng (tệp cũ)")
    }

    /// Runs the steps that finish a rebuilt store at `tmp`; if one fails (a full or failing disk,
    /// a refused op), the new file is closed and removed, the original untouched, and the error
    /// thrown as it came: a retry starts clean and no half-made file is left beside the database.
    private static func discardingOnFailure<T>(_ rebuilt: ReplicaStore, at tmp: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch {
            try? rebuilt.close()
            ReplicaStore.removeFiles(tmp)
            throw error
        }
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
    static func rewrite(_ ops: [Op], of old: ReplicaID, createdFrom: UInt64, into store: ReplicaStore, nowMillis: UInt64) throws -> Report {
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
        var report = Report(
            kind: .restore, replica: me, from: createdFrom, setAside: ops.count, recordsRewritten: 0, recordsRecreated: 0, oldFile: "")
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
                    _ = try batch.create(kind: id.kind, owner: id.owner, changes: changes, nowMillis: nowMillis)
                    report.recordsRecreated += 1
                } else {
                    _ = try batch.write(id, changes: changes.filter { $0.0 != "deleted" }, delete: deleted, resolve: true, nowMillis: nowMillis)
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
    func adopt(identity: Identity, credentials: HubCredentials, label: String?, signingKey: SigningKey, nowMillis: UInt64) throws {
        try write { db in
            try db.execute(sql: "DELETE FROM local_state WHERE key IN ('replica', 'unit', 'signing_key')")
            try db.execute(
                sql: "INSERT INTO local_state(key, value) VALUES ('replica', ?), ('unit', ?)",
                arguments: [identity.replica.rawValue, identity.unit])
            try Self.saveSigningKey(signingKey, db)
            try db.execute(sql: "DELETE FROM peer WHERE name = 'hub'")
        }
        try saveCredentials(credentials)
        var changes: [(String, Value)] = [("unit", .text(identity.unit))]
        if let label, !label.isEmpty { changes.append(("label", .text(label))) }
        _ = try writeRecord(RecordID.replica(identity.replica), changes: changes, nowMillis: nowMillis)
    }

    /// The last counter of `origin` at or below `counter` where this store holds a signed head
    /// (0 when none): where a copy of that origin can be cut and continued by another's ops.
    func lastSignedHead(of origin: ReplicaID, atOrBelow counter: UInt64) throws -> UInt64 {
        try read { db in
            guard counter > 0, let index = try OriginTable.load(db).indexOf[origin] else { return 0 }
            let c = try Int64.fetchOne(
                db, sql: "SELECT max(counter) FROM signed_head WHERE origin = ? AND counter <= ? AND hash IS NOT NULL",
                arguments: [index, Int64(counter)])
            return UInt64(c ?? 0)
        }
    }

    /// Closes this store's open forks of `origin`.
    func closeForks(of origin: ReplicaID, why: String) throws {
        try write { db in try Self.closeForks(db, origin: origin, through: .max >> 1, why: why, now: Int64(Date().timeIntervalSince1970)) }
    }
}

extension SyncClient {
    /// What `runRecovering` did besides the sync itself.
    public struct Recovered: Sendable {
        /// This replica's own recovery after a restore from an old copy, if it ran.
        public var restore: Recovery.Report?
        /// Other replicas' branches held here and set aside for the hub's copy, in order.
        public var setAside: [Recovery.Report] = []
        public var isEmpty: Bool { restore == nil && setAside.isEmpty }
    }

    /// `run`, recovering from the forks a replica can resolve on its own, then running again on
    /// the rebuilt store, which it returns:
    /// - the hub refuses this replica's own ops as a fork (its database was restored from an old
    ///   copy and wrote on): `Recovery.recoverFromRestore` takes the hub's copy back and writes the
    ///   later work again under new counters (once);
    /// - another replica's ops held here differ from the hub's copy (a forged or relayed file, a
    ///   copied enrolment): `Recovery.setAsideBranch` keeps the hub's copy (once per origin).
    /// Any other fork, or the same one again, is thrown as it came.
    public func runRecovering(progress: @Sendable (SyncProgress) -> Void = { _ in }, onRecovery: (SyncError) -> Void = { _ in }) async throws -> (
        summary: SyncSummary, recovered: Recovered, store: ReplicaStore
    ) {
        let me = credentials.replica
        var current = self
        var done = Recovered()
        while true {
            do {
                return (try await current.run(progress: progress), done, current.store)
            } catch let e as SyncError where e.code == .fork && e.value?.hasPrefix("\(me):") == true && done.restore == nil {
                onRecovery(e)
                let report = try await current.recoverOwn(after: e)
                done.restore = report
            } catch let e as SyncError where e.code == .fork {
                guard let origin = Self.forkOrigin(e), origin != me, !done.setAside.contains(where: { $0.replica == origin }) else { throw e }
                onRecovery(e)
                let vector = try await current.hubVector()
                let hubOps = try await current.fetchOps(of: origin, after: 0, hubVector: vector)
                let path = current.store.path
                let closedAfter = e.field == "closed" ? Self.forkCounter(e).map { $0 - 1 } : nil
                guard
                    let report = try Recovery.setAsideBranch(of: origin, store: current.store, hubOps: hubOps, closedAfter: closedAfter, now: clock())
                else { throw e }
                done.setAside.append(report)
                current.store = try ReplicaStore.open(path: path, catalog: current.store.catalog)
            }
        }
    }

    /// The counter named by a fork's `origin:counter`.
    static func forkCounter(_ e: SyncError) -> UInt64? {
        guard let v = e.value, let colon = v.lastIndex(of: ":"), let c = UInt64(v[v.index(after: colon)...]), c > 0 else { return nil }
        return c
    }

    /// The origin named by a fork's `origin:counter`.
    static func forkOrigin(_ e: SyncError) -> ReplicaID? {
        guard let v = e.value, let colon = v.lastIndex(of: ":") else { return nil }
        return ReplicaID(String(v[..<colon]))
    }

    /// After the hub refused this replica's own ops as a fork: recovers from the restore and
    /// reopens the rebuilt store in `self`.
    mutating func recoverOwn(after e: SyncError) async throws -> Recovery.Report {
        let me = credentials.replica
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
        let report = try Recovery.recoverFromRestore(store: store, hubOwn: hubOwn, from: from, now: clock())
        store = try ReplicaStore.open(path: path, catalog: store.catalog)
        return report
    }
}

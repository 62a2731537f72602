import Foundation
import SyncCore

/// The steps added for issue 13's second round (docs/SIMULATION.md): a machine syncing by signed
/// bundle files, with bundles replayed, damaged, of the wrong direction or expired; the hub's
/// nightly backup and the hub restored from it; a full disk during a local write or a sync.
extension SimHistory {
    // MARK: Bundles (`unit-client bundle export/import`, `hub bundle import/export`)

    /// Machine `i` syncs by files: its bundle to the hub, then the hub's bundle back. On the way
    /// one bundle may be replayed, damaged, imported on the wrong side or after it expired: each
    /// such bundle is refused by name and changes nothing.
    func bundleSync(_ i: Int) throws {
        // A twin is refused by its first exchange (shown elsewhere). A machine put back to an old
        // copy recovers from the hub's bundle, as through an HTTP sync.
        guard !machines[i].isTwin else {
            note("  (bỏ qua: máy sinh đôi)")
            return
        }
        let restored = machines[i].restored
        let twinned = machines.contains { $0.isTwin && $0.credentials.replica == machines[i].credentials.replica }
        stats.bundleSyncs += 1
        let s = try store(i)
        let c = machines[i].credentials
        let clock = now + machines[i].skew
        bundleCount += 1
        let up = (dir as NSString).appendingPathComponent("m\(i)-to-hub-\(bundleCount).cchc")
        let down = (dir as NSString).appendingPathComponent("m\(i)-from-hub-\(bundleCount).cchc")
        defer { for p in [up, down, up + ".bad", down + ".bad"] { try? FileManager.default.removeItem(atPath: p) } }
        let exported = try SyncClient.exportBundle(store: s, credentials: c, to: up, now: clock, nonce: newNonce())
        let fault = rng.chance(45) ? rng.pick(FaultKind.bundleFaults) : nil
        var imported = false
        if fault == .bundleDamaged { imported = try refusedAtHub(damagedCopy(of: up), .bundleDamaged) }
        if fault == .bundleExpired { try refusedAtHub(up, .bundleExpired, at: now + SyncProtocol.bundleLifetime + 86_400 + 1) }
        if fault == .bundleWrongDirection { try refusedAtMachine(i, up, .bundleWrongDirection) }
        let hubOpsBefore = try hub.opCount()
        do {
            guard !imported else { throw BundleAlreadyImported() }
            let r = try HubSyncService(store: hub).importBundle(path: up, now: now)
            hubAppliedTotal += r.applied
            guard try hub.opCount() - hubOpsBefore == r.applied else {
                try violation("no-op-applied-twice", "hub nhập gói của m\(i): báo áp dụng \(r.applied), sổ tăng \(try hub.opCount() - hubOpsBefore)")
            }
            note("  gói → hub: \(exported.ops) thao tác, hub áp dụng \(r.applied)")
        } catch is BundleAlreadyImported {
            note("  gói → hub: đã nhập (bản lật chữ hoa/thường của HMAC)")
        } catch let e as SyncError where e.code == .forbidden && e.field == "enrolment" && twinned {
            // Its twin synced first and holds the enrolment: this machine moves to a new one, as
            // after an HTTP sync refused the same way.
            refused(e, by: "hub nhập gói")
            note("  hub từ chối gói: ghi danh đã thuộc máy sinh đôi")
            try rehome(i)
            return
        } catch let e as SyncError where e.code == .forbidden && e.field == "replica" && e.value == c.replica.rawValue && machines[i].revoked {
            // Its replica was revoked: refused by name, nothing taken; it moves to a replacement
            // enrolment, as after an HTTP sync refused the same way.
            refused(e, by: "hub nhập gói")
            guard try hub.opCount() == hubOpsBefore else { try violation("revoked-refused", "hub nhập gói của bản sao đã thu hồi \(c.replica)") }
            note("  hub từ chối gói: bản sao đã bị thu hồi")
            try rehome(i)
            return
        } catch let e as SyncError where e.code == .fork && e.value?.hasPrefix("\(c.replica):") == true && restored {
            // Put back to an old copy, it wrote on under counters the hub holds: refused by name,
            // nothing taken; the hub's next bundle carries its own ops back and it recovers.
            refused(e, by: "hub nhập gói")
            guard try hub.opCount() == hubOpsBefore else { try violation("restore-recovers", "hub nhận một phần gói của máy đã khôi phục m\(i)") }
            note("  hub từ chối gói: máy m\(i) đã khôi phục ghi tiếp dưới số hub đã có (\(e.value ?? "-"))")
        } catch let e as SyncError where relayedFork(e, at: i) {
            // This machine holds another machine's branch from an ops file and the hub holds
            // that origin's other branch: refused by name; its next HTTP sync keeps the hub's.
            refused(e, by: "hub nhập gói")
            note("  hub từ chối gói: nhánh khác của \(e.value ?? "-") (nhận qua tệp thao tác)")
            return
        } catch let e as SyncError {
            refused(e, by: "hub nhập gói")
            // Only after the hub lost ops (restored from its backup) may a bundle start past what
            // the hub holds; the hub's next bundle tells the machine where it is.
            guard hubRestored else {
                try violation("bundle-completes", "hub từ chối gói đúng của m\(i): [\(e.code)] \(e.field ?? "-")=\(e.value ?? "-") \(e.message)")
            }
            note("  hub từ chối gói sau khi hub quay về bản sao lưu: [\(e.code)] \(e.field ?? "-")")
        }
        if fault == .bundleReplayed { try refusedAtHub(up, .bundleReplayed) }
        _ = try HubSyncService(store: hub).exportBundle(for: c.replica, to: down, now: now, nonce: newNonce())
        if fault == .bundleWrongDirection { try refusedAtHub(down, .bundleWrongDirection) }
        let opsBefore = try s.opCount()
        let report: ApplyReport
        lastSetAside = []
        do {
            let done = try SyncClient.importBundle(path: down, store: s, credentials: c, now: clock)
            report = done.report
            // After a recovery or a set-aside the old store was closed by the file swap: only the
            // new one is kept.
            machines[i].store = done.store
            if let r = done.restore {
                stats.recoveries += 1
                note("  gói ← hub: khôi phục sau restore: \(r.setAside) thao tác ghi lại")
            }
            machines[i].restored = false
            for r in done.setAside {
                stats.branchesSetAside += 1
                lastSetAside.insert(r.replica)
                if revokedReplicas.contains(r.replica) {
                    stats.revokedSetAside += 1
                    stats.revokedSetAsideByBundle += 1
                }
                note("  gói ← hub: bản sao đã thu hồi \(r.replica): \(r.setAside) thao tác để riêng từ số \(r.from)")
            }
            let opsAfter = try done.store.opCount()
            let setAsideOps = done.setAside.reduce(0) { $0 + $1.setAside }
            guard done.restore != nil || opsAfter - opsBefore == report.applied - setAsideOps else {
                try violation(
                    "no-op-applied-twice", "m\(i) nhập gói: báo áp dụng \(report.applied), để riêng \(setAsideOps), sổ tăng \(opsAfter - opsBefore)")
            }
        } catch let e as SyncError where relayedFork(e, at: i) {
            // Reopened: a failed set-aside may have swapped files (and closed the store already).
            machines[i].store = nil
            refused(e, by: "máy nhập gói")
            note("  m\(i) từ chối gói: nhánh khác của \(e.value ?? "-") (nhận qua tệp thao tác)")
            return
        } catch let e as SyncError {
            machines[i].store = nil
            refused(e, by: "máy nhập gói")
            try violation("bundle-completes", "m\(i) từ chối gói đúng của hub: [\(e.code)] \(e.field ?? "-")=\(e.value ?? "-") \(e.message)")
        }
        note("  gói ← hub: m\(i) áp dụng \(report.applied)")
        switch fault {
        case .bundleReplayed: try refusedAtMachine(i, down, .bundleReplayed)
        case .bundleDamaged: try refusedAtMachine(i, damagedCopy(of: down), .bundleDamaged)
        case .bundleExpired: try refusedAtMachine(i, down, .bundleExpired, at: clock + SyncProtocol.bundleLifetime + 86_400 + 1)
        default: break
        }
    }

    /// A fork on an origin whose ops reached machine `i` by an ops file, not through the hub.
    /// A hub bundle starts where the machine last said it was, so when the machine holds another
    /// branch of that origin the bundle's ops do not continue its chain and their head fails to
    /// verify (`unauthorized`): also that, but only where the two chains really differ.
    func relayedFork(_ e: SyncError, at i: Int) -> Bool {
        guard e.code == .fork || e.code == .unauthorized, let v = e.value, let colon = v.lastIndex(of: ":"),
            let o = ReplicaID(String(v[..<colon])), machines[i].relayed.contains(o)
        else { return false }
        if e.code == .fork { return true }
        guard let s = try? store(i), let at = try? s.versionVector()[o], at > 0, let mine = try? s.chainHash(of: o, at: at) else { return false }
        let theirs = try? hub.chainHash(of: o, at: at)
        return theirs != mine
    }

    /// A copy of the file at `path` with one bit of one byte flipped.
    func damagedCopy(of path: String) throws -> String {
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let at = rng.below(bytes.count)
        let was = bytes[at]
        bytes[at] ^= UInt8(1 << rng.below(8))
        // A hex letter of the header's HMAC turned to upper case (or back) is the same HMAC:
        // `SyncAuth.unhex` reads both cases, so such a bundle is the genuine one (seed 20261388).
        let hexLetters = Set(Array("abcdefABCDEF".utf8))
        flipIsHexCase = hexLetters.contains(was) && bytes[at] == was ^ 0x20
        let bad = path + ".bad"
        try Data(bytes).write(to: URL(fileURLWithPath: bad))
        note("  gói hỏng: byte \(at) bị lật")
        return bad
    }

    /// The hub must refuse the bundle at `path` by name and keep everything as it was (or, for a
    /// damaged bundle whose only change is the case of a hex letter of its HMAC, may take it as
    /// the genuine one it is: returns true then).
    @discardableResult
    func refusedAtHub(_ path: String, _ kind: FaultKind, at time: Int64? = nil) throws -> Bool {
        stats.fault(kind)
        let vv = try hub.versionVector()
        let n = try hub.opCount()
        do {
            let r = try HubSyncService(store: hub).importBundle(path: path, now: time ?? now)
            guard kind == .bundleDamaged, flipIsHexCase else {
                try violation("bundle-refused", "hub nhận gói \(kind.rawValue) (\(r.received) thao tác, áp dụng \(r.applied))")
            }
            hubAppliedTotal += r.applied
            stats.harmlessBundleFlips += 1
            note("  hub nhận gói chỉ khác chữ hoa/thường của HMAC: là gói thật (áp dụng \(r.applied))")
            return true
        } catch let e as SyncError {
            refused(e, by: "hub nhập gói \(kind.rawValue)")
            note("  hub từ chối gói \(kind.rawValue): [\(e.code)] \(e.field ?? "-")=\(e.value ?? "-")")
        }
        guard try hub.versionVector() == vv, try hub.opCount() == n else {
            try violation("bundle-refused", "gói \(kind.rawValue) bị từ chối nhưng hub đã đổi")
        }
        return false
    }

    /// Machine `i` must refuse the bundle at `path` by name and keep everything as it was.
    func refusedAtMachine(_ i: Int, _ path: String, _ kind: FaultKind, at time: Int64? = nil) throws {
        stats.fault(kind)
        let s = try store(i)
        let vv = try s.versionVector()
        let n = try s.opCount()
        let acked = try s.peer("hub")?.acked
        do {
            let r = try SyncClient.importBundle(path: path, store: s, credentials: machines[i].credentials, now: time ?? now + machines[i].skew)
            machines[i].store = r.store
            try violation("bundle-refused", "m\(i) nhận gói \(kind.rawValue) (áp dụng \(r.report.applied))")
        } catch let e as SyncError {
            refused(e, by: "máy nhập gói \(kind.rawValue)")
            note("  m\(i) từ chối gói \(kind.rawValue): [\(e.code)] \(e.field ?? "-")=\(e.value ?? "-")")
        }
        guard try s.versionVector() == vv, try s.opCount() == n, try s.peer("hub")?.acked == acked else {
            try violation("bundle-refused", "gói \(kind.rawValue) bị từ chối nhưng m\(i) đã đổi")
        }
    }

    // MARK: The hub's nightly backup, and the hub restored from it

    /// What `hub nightly` does: an online copy through SQLite's backup API, checked with
    /// `integrity_check` and `verify` as the command checks it.
    func hubNightly() throws {
        nightlies += 1
        let path = hubPath + ".nightly\(nightlies)"
        try hub.backup(to: path)
        guard try ReplicaStore.integrityCheck(path: path) == "ok" else { try violation("hub-backup", "bản sao lưu đêm không toàn vẹn") }
        let copy = try ReplicaStore.open(path: path)
        let check = try copy.verify(full: false, derived: true, unshared: true)
        let vv = try copy.versionVector()
        try copy.close()
        guard check.ok, vv == (try hub.versionVector()) else { try violation("hub-backup", "bản sao lưu đêm không khớp hub: \(check.summary)") }
        if let old = nightly { try? FileManager.default.removeItem(atPath: old.path) }
        nightly = HubBackup(path: path, vector: vv, enrolments: hubEnrolments)
        stats.hubBackups += 1
        note("  hub: sao lưu đêm (\(vv.total) thao tác)")
    }

    /// The hub's database is lost and put back from its last nightly backup (docs/OPERATIONS.md:
    /// stop the hub, copy the backup in place, start it). Ops the hub acknowledged after the backup
    /// are gone from it; the machines that wrote them still hold them and send them again.
    /// Not taken when a machine was put back to an old copy in this history (then an op may be
    /// held by no one who can send it: not simulated), when an enrolment was issued after the
    /// backup (that replica would have to be enrolled again), nor with a twin machine (the
    /// enrolment's machine-key binding is lost with the restore: seed 20261296, docs).
    func hubRestore() throws {
        guard let b = nightly, !machineRestoredEver, !twinMade, !revocationMade, b.enrolments == hubEnrolments else {
            note("  (bỏ qua: chưa có bản sao lưu đêm dùng được)")
            return
        }
        stats.fault(.hubRestored)
        hubRestored = true
        for k in machines.indices { machines[k].hubRestoredSince = true }
        try hub.close()
        let fm = FileManager.default
        for suffix in ["", "-wal", "-shm"] { try? fm.removeItem(atPath: hubPath + suffix) }
        try fm.copyItem(atPath: b.path, toPath: hubPath)
        hub = try ReplicaStore.open(path: hubPath)
        let vv = try hub.versionVector()
        guard vv == b.vector else { try violation("hub-restore", "hub khôi phục có vector \(vv), bản sao lưu \(b.vector)") }
        // Everything the hub acknowledged up to the backup is there, unchanged.
        let held = Dictionary(try hub.ops(after: VersionVector()).ops.map { ($0.dot, $0) }, uniquingKeysWith: { a, _ in a })
        for (dot, op) in acknowledged.sorted(by: { $0.key < $1.key }) where dot.counter <= vv[dot.origin] {
            guard held[dot] == op else { try violation("nothing-acknowledged-lost", "bản sao lưu thiếu hoặc đổi \(dot)") }
        }
        // From here the hub's vector starts again from the backup's; what it acknowledged after
        // it stays in `acknowledged` and must be back, unchanged, at quiescence.
        let lost = ackVector.total - vv.total
        ackVector = vv
        hubBaseOps = try hub.opCount()
        hubAppliedTotal = 0
        note("  hub quay về bản sao lưu đêm: mất \(lost) thao tác đã xác nhận (các máy phải gửi lại)")
    }

    // MARK: A full disk

    /// Machine `i`'s disk fills (SQLite's `max_page_count` at the pages the file has, or one or
    /// two more): a local write or a sync that needs more room fails with the named error
    /// `db=SQLITE_FULL` and leaves the store as it was before that write; then room comes back and
    /// the next sync completes.
    func diskFull(_ i: Int) async throws {
        if rng.chance(30) { return try await hubDiskIsFull() }
        guard !machines[i].isTwin, !machines[i].restored else {
            note("  (bỏ qua: máy sinh đôi hoặc vừa khôi phục)")
            return
        }
        stats.fault(.diskFull)
        let s = try store(i)
        try s.limitGrowth(pages: rng.chance(70) ? 0 : rng.int(1...2))
        machines[i].diskFull = true
        defer { machines[i].diskFull = false }
        if rng.chance(50) {
            _ = try writesUnderFault(i, s, "đĩa đầy", code: "SQLITE_FULL", invariant: "disk-full", counted: \.diskFullRefusals)
        } else {
            let r = try await sync(i)
            if !r.ok { note("  đồng bộ khi đĩa đầy không xong") }
        }
        // Room again: the next sync (no network fault) completes.
        if let st = machines[i].store { try st.limitGrowth(pages: nil) }
        machines[i].diskFull = false
        try await syncWithoutFaults(i, "đĩa có chỗ trở lại")
    }

    /// 1–6 local writes of machine `i` while its disk fails (`what`, as the trace says it): each
    /// completes, or is refused naming `code` and leaves the vector and the log as they were
    /// (counted in `counted`). Returns how many were refused.
    func writesUnderFault(
        _ i: Int, _ s: ReplicaStore, _ what: String, code: String, invariant: String, counted: WritableKeyPath<SimStats, Int>
    ) throws -> Int {
        var refusals = 0
        for _ in 0..<rng.int(1...6) {
            let vv = try s.versionVector()
            let n = try s.opCount()
            counter += 1
            do {
                _ = try s.createRecord(
                    kind: .activity, owner: machines[i].unit, changes: activityFields(unit: machines[i].unit), nowMillis: writeMillis(i))
                stats.localWrites += 1
            } catch let e as SyncError {
                refused(e, by: "ghi khi \(what)")
                note("  ghi khi \(what): [\(e.code)] \(e.field ?? "-")=\(e.value ?? "-")")
                guard e.value == code else { try violation(invariant, "ghi khi \(what) thất bại với lỗi khác: \(e)") }
                guard try s.versionVector() == vv, try s.opCount() == n else {
                    try violation(invariant, "ghi thất bại khi \(what) nhưng để lại thao tác")
                }
                stats[keyPath: counted] += 1
                refusals += 1
            }
        }
        return refusals
    }

    /// Machine `i` syncs with no network fault and must complete (unless its clock is off).
    func syncWithoutFaults(_ i: Int, _ why: String) async throws {
        let wasOn = faultsOn
        faultsOn = false
        defer { faultsOn = wasOn }
        note("  \(why): m\(i) đồng bộ")
        let r = try await sync(i, mustComplete: true)
        if !r.ok { note("  (đồng bộ sau khi \(why) không xong: lệch đồng hồ)") }
    }
}

extension SimHistory {
    /// The hub's disk fills up (SQLite's `max_page_count`): machines that sync meanwhile are
    /// refused naming `db=SQLITE_FULL` (after their retries) or complete what still fits; what the
    /// hub had stays; once there is room again the next sync completes.
    func hubDiskIsFull() async throws {
        stats.fault(.hubDiskFull)
        let acknowledgedBefore = try hub.versionVector()
        _ = try hub.limitGrowth(pages: rng.chance(70) ? 0 : rng.int(1...2))
        hubDiskFull = true
        defer { hubDiskFull = false }
        note("  đĩa của hub đầy")
        // Enough new work that the hub's copy needs pages it cannot have.
        try await syncWhileHubDiskFails(writes: 5...25, "đĩa của hub đầy", invariant: "hub-disk-full", since: acknowledgedBefore)
        _ = try hub.limitGrowth(pages: nil)
        hubDiskFull = false
        let i = rng.below(machines.count)
        guard !machines[i].isTwin, !machines[i].restored else { return }
        try await syncWithoutFaults(i, "đĩa của hub có chỗ trở lại")
    }
}

extension SimHistory {
    // MARK: A failing disk

    /// A write or an fsync of machine `i`'s database (or, one time in three, the hub's) fails,
    /// at a position counted in calls from now, once or on every call until the disk works again
    /// (`FaultyDisk`). A local write refused must name `db=SQLITE_IOERR` and leave the store as it
    /// was; a sync may be refused naming it, or complete; the hub's vector never goes back. Then
    /// the machine stops (cleanly, or by a power cut that keeps only what its disk holds), the
    /// disk works again, the file opens without damage (`verify`), a refused write is there whole
    /// or not at all, and the next sync completes.
    func ioError(_ i: Int) async throws {
        let kinds: FaultyDisk.Kinds = rng.pick([.write, .sync, [.write, .sync]])
        // A local write makes one fsync and a dozen writes; a sync, one of each set per page.
        let after = kinds == .sync ? rng.int(0...3) : rng.int(0...24)
        let sticky = rng.chance(25)
        let powerCut = rng.chance(50)
        let what = "\(kinds == .write ? "ghi" : kinds == .sync ? "fsync" : "ghi/fsync") thứ \(after + 1)\(sticky ? " trở đi" : "")"
        if rng.chance(30) { return try await hubIOErrors(kinds, after: after, sticky: sticky, powerCut: powerCut, what) }
        guard !machines[i].isTwin, !machines[i].restored else {
            note("  (bỏ qua: máy sinh đôi hoặc vừa khôi phục)")
            return
        }
        stats.fault(.ioError)
        let s = try store(i)
        let path = machines[i].path
        let vvBefore = try s.versionVector()
        let me = machines[i].credentials.replica
        note("  đĩa của m\(i) lỗi ở lần \(what)\(powerCut ? ", rồi mất điện" : "")")
        try FaultyDisk.arm(path, kinds: kinds, after: after, sticky: sticky)
        machines[i].ioError = true
        var refusedWrite = false
        do {
            defer { FaultyDisk.disarm(path) }
            if rng.chance(50) {
                refusedWrite = try writesUnderFault(i, s, "đĩa lỗi", code: "SQLITE_IOERR", invariant: "io-error", counted: \.ioErrorRefusals) > 0
            } else {
                let r = try await sync(i)
                if !r.ok { note("  đồng bộ khi đĩa lỗi không xong") }
            }
        }
        // The program ends; the disk works again when it next starts.
        try stopMachine(i, powerCut: powerCut)
        machines[i].ioError = false
        let reopened = try store(i)
        let report = try reopened.verify()
        guard report.ok else { try violation("io-error", "sau lỗi đĩa, verify thấy hỏng: \(report.summary)") }
        let vv = try reopened.versionVector()
        // A sync refused as a copied enrolment rehomes the machine: its own ops moved to the new
        // enrolment, written again there (seed 3131650649081608757, the simulator's expectation).
        let rehomed = machines[i].credentials.replica != me
        var kept = vvBefore
        if rehomed { kept[me] = 0 }
        // Another replica's branch set aside for the hub's copy leaves only what both share (seed
        // 7788588843247008335: a revoked replica's ops carried here by file).
        for o in lastSetAside { kept[o] = 0 }
        guard kept.isDominated(by: vv) else { try violation("io-error", "sau lỗi đĩa, véc-tơ lùi lại: \(vvBefore) → \(vv)") }
        if refusedWrite, !rehomed, vv[me] > vvBefore[me], powerCut {
            stats.ioErrorFoundWhole += 1
            note("  một lần ghi bị từ chối hiện ra nguyên vẹn sau khi mất điện")
        }
        try await syncWithoutFaults(i, "đĩa chạy lại")
    }

    /// Machine `i`'s program ends: its store closes, or the power goes and only what the disk
    /// holds (the database and its write-ahead log, not the shared-memory index) is there at the
    /// next start.
    func stopMachine(_ i: Int, powerCut: Bool) throws {
        guard let s = machines[i].store else { return }
        let path = machines[i].path
        if !powerCut {
            try? s.close()
            machines[i].store = nil
            return
        }
        let image = try DiskImage(of: path)
        try? s.close()
        machines[i].store = nil
        try image.putBack(at: path)
    }

    /// The hub's disk fails writes or fsyncs while one to three machines write and sync; then the
    /// hub stops (cleanly or by a power cut), starts again on a working disk without damage and
    /// with nothing it acknowledged lost, and the next sync completes.
    func hubIOErrors(_ kinds: FaultyDisk.Kinds, after: Int, sticky: Bool, powerCut: Bool, _ what: String) async throws {
        stats.fault(.hubIOError)
        let acknowledgedBefore = try hub.versionVector()
        note("  đĩa của hub lỗi ở lần \(what)\(powerCut ? ", rồi mất điện" : "")")
        try FaultyDisk.arm(hubPath, kinds: kinds, after: after, sticky: sticky)
        hubIOError = true
        do {
            defer { FaultyDisk.disarm(hubPath) }
            try await syncWhileHubDiskFails(writes: 1...12, "đĩa của hub lỗi", invariant: "hub-io-error", since: acknowledgedBefore)
        }
        // The hub restarts: what it acknowledged must all be there (checked again at quiescence).
        let acknowledged = try hub.versionVector()
        let image = powerCut ? try DiskImage(of: hubPath) : nil
        try? hub.close()
        try image?.putBack(at: hubPath)
        hub = try ReplicaStore.open(path: hubPath)
        hubIOError = false
        let report = try hub.verify()
        guard report.ok else { try violation("hub-io-error", "sau lỗi đĩa, verify của hub thấy hỏng: \(report.summary)") }
        guard acknowledged.isDominated(by: try hub.versionVector()) else {
            try violation("nothing-acknowledged-lost", "hub khởi động lại sau lỗi đĩa thiếu thao tác đã xác nhận")
        }
        // A batch refused by a failed fsync may be back whole after the power cut (its request was
        // the hub's last write): ops the hub holds but never reported applied. `verify` found them
        // whole; from here "no op applied twice" counts from what the hub holds.
        let foundWhole = try hub.opCount() - (hubBaseOps + hubAppliedTotal)
        if foundWhole > 0, bug != .hubForgets {
            guard powerCut else { try violation("no-op-applied-twice", "hub có \(foundWhole) thao tác chưa báo áp dụng sau khi dừng bình thường") }
            stats.ioErrorFoundWhole += 1
            hubBaseOps += foundWhole
            note("  hub: \(foundWhole) thao tác của một yêu cầu bị từ chối hiện ra nguyên vẹn sau khi mất điện")
        }
        let i = rng.below(machines.count)
        guard !machines[i].isTwin, !machines[i].restored else { return }
        try await syncWithoutFaults(i, "đĩa của hub chạy lại")
    }
}

/// What a database's disk holds at an instant: the file and its write-ahead log, copied while the
/// store is open (as a power cut would leave them); the shared-memory index is not kept.
struct DiskImage {
    let folder: String

    init(of path: String) throws {
        let fm = FileManager.default
        folder = path + ".mat-dien"
        try? fm.removeItem(atPath: folder)
        try fm.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for suffix in ["", "-wal"] where fm.fileExists(atPath: path + suffix) {
            try fm.copyItem(atPath: path + suffix, toPath: (folder as NSString).appendingPathComponent("db" + suffix))
        }
    }

    /// Replaces the (closed) database's files with the image.
    func putBack(at path: String) throws {
        let fm = FileManager.default
        for suffix in ["", "-wal", "-shm"] { try? fm.removeItem(atPath: path + suffix) }
        for suffix in ["", "-wal"] {
            let from = (folder as NSString).appendingPathComponent("db" + suffix)
            if fm.fileExists(atPath: from) { try fm.moveItem(atPath: from, toPath: path + suffix) }
        }
        try? fm.removeItem(atPath: folder)
    }
}

extension SimHistory {
    /// One to three machines each write a number of activities in `writes` and sync while the
    /// hub's disk fails (`what`, as the trace says it); the hub's vector never goes below `since`.
    func syncWhileHubDiskFails(writes: ClosedRange<Int>, _ what: String, invariant: String, since: VersionVector) async throws {
        for _ in 0..<rng.int(1...3) {
            let i = rng.below(machines.count)
            guard !machines[i].isTwin, !machines[i].restored else { continue }
            let s = try store(i)
            for _ in 0..<rng.int(writes) {
                counter += 1
                _ = try s.createRecord(
                    kind: .activity, owner: machines[i].unit, changes: activityFields(unit: machines[i].unit), nowMillis: writeMillis(i))
                stats.localWrites += 1
            }
            note("  m\(i) ghi thêm rồi đồng bộ khi \(what)")
            let r = try await sync(i)
            if !r.ok { note("  đồng bộ khi \(what) không xong") }
            guard since.isDominated(by: try hub.versionVector()) else { try violation(invariant, "\(what) nhưng véc-tơ của hub lùi lại") }
        }
    }
}

/// The genuine bundle was imported already (as a copy differing only in the case of its HMAC).
struct BundleAlreadyImported: Error {}

/// The hub's last nightly backup.
struct HubBackup {
    var path: String
    var vector: VersionVector
    /// How many enrolments the hub had issued when it was made.
    var enrolments: Int
}

extension SimHistory {
    // MARK: Revocation (`hub revoke`, then `hub enrol --replaces` and `unit-client rehome`)

    /// The hub's operator revokes machine `i`'s replica (and so every machine that shares it).
    /// Its next exchange, by HTTP or by bundle, must be refused by name with nothing taken; it
    /// then moves to a replacement enrolment, and at quiescence nothing it wrote is lost or in
    /// the report twice (`checkNoDuplicatedWork`).
    func revoke(_ i: Int) throws {
        let replica = machines[i].credentials.replica
        // Not combined with a hub restore (revocations made after the backup must be run again:
        // README, "Known limits"). Its ops carried to another machine by file and not at the hub
        // are set aside there at that machine's next HTTP sync (Exchange.refuseClosedOrigins).
        guard !machines[i].revoked, !hubDiskFull, !hubIOError, !hubRestored else {
            note("  (bỏ qua: đã thu hồi, đĩa của hub đang lỗi, hoặc hub đã khôi phục)")
            return
        }
        try carryBeforeRevocation(i)
        let before = try hub.versionVector()
        try hub.revoke(replica, now: now)
        guard try hub.versionVector() == before else { try violation("revoked-refused", "thu hồi \(replica) làm đổi thao tác của hub") }
        stats.fault(.revoked)
        revocationMade = true
        revokedReplicas.insert(replica)
        for k in machines.indices where machines[k].credentials.replica == replica { machines[k].revoked = true }
    }
}

extension SimHistory {
    /// Half the time, before the revocation, machine `i`'s ops (its unsynced work too) were
    /// handed to another laptop by an ops file, as a data mule does. Drawn from a generator of its
    /// own (seed and step), so the history's main stream draws what it drew before. What the hub
    /// does not hold of them must be set aside at that laptop's next HTTP sync.
    func carryBeforeRevocation(_ i: Int) throws {
        var side = SplitMix64(seed: seed ^ (UInt64(step) &* 0x9E37_79B9_7F4A_7C15))
        let replica = machines[i].credentials.replica
        let others = machines.indices.filter { $0 != i && machines[$0].credentials.replica != replica }
        guard side.chance(50), !others.isEmpty else { return }
        let j = side.pick(others)
        let batch = try store(i).ops(of: replica, after: 0, limit: .max)
        guard !batch.isEmpty else { return }
        do {
            let r = try store(j).apply(batch, source: .peer(authenticated: nil, unit: nil))
            machines[j].relayed.insert(replica)
            note("  tệp thao tác của \(replica) chép sang m\(j) trước khi thu hồi: \(r.applied) mới")
        } catch let e as SyncError {
            refused(e, by: "tệp thao tác chép sang máy khác")
            // Genuine ops verify: only another branch of that origin there, or a failing disk, refuses them.
            guard e.code == .fork || e.value == "SQLITE_IOERR" || e.value == "SQLITE_FULL" else {
                try violation(
                    "relay-completes", "m\(j) từ chối thao tác thật của \(replica): [\(e.code)] \(e.field ?? "-")=\(e.value ?? "-") \(e.message)")
            }
            note("  m\(j) từ chối tệp thao tác của \(replica): [\(e.code)] \(e.field ?? "-")")
        }
    }
}

extension FaultKind {
    static let bundleFaults: [FaultKind] = [.bundleReplayed, .bundleDamaged, .bundleWrongDirection, .bundleExpired]
}

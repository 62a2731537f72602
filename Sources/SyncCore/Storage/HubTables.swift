import Foundation
import GRDB

/// A replica enrolled at the hub, as `hub status` shows it.
public struct Enrolment: Sendable, Codable, Equatable {
    public var replica: ReplicaID
    public var unit: String
    public var enrolledAt: String
    public var revokedAt: String?
    public var lastSync: String?
    /// The replica's vector as it last reported it (by request or bundle).
    public var lastVersionVector: VersionVector
    public var syncs: Int
    /// The fingerprint of the machine key the enrolment is bound to (the first that synced).
    public var machineKey: String?
    public var boundAt: String?

    enum CodingKeys: String, CodingKey {
        case replica, unit, syncs
        case machineKey = "machine_key"
        case boundAt = "bound_at"
        case enrolledAt = "enrolled_at"
        case revokedAt = "revoked_at"
        case lastSync = "last_sync"
        case lastVersionVector = "last_version_vector"
    }
}

/// The hub's tables (migration v2-hub: enrolments, seen nonces) and a client's credentials, and the
/// two halves of one sync exchange as storage sees them: each in one transaction with the vector
/// advance. The protocol around them (messages, signatures, bundles) is in `Sync/`.
extension ReplicaStore {
    /// `now` (Unix seconds) as ISO 8601 UTC, `2026-03-02T00:00:00Z`: what `ISO8601DateFormatter`
    /// writes by default, computed directly (making a formatter per call cost more than the
    /// sync step that stamps the time: a third of a millisecond).
    static func isoNow(_ now: Int64) -> String {
        let (days, secs) = now.quotientAndRemainder(dividingBy: 86_400)
        let (d, s) = secs < 0 ? (days - 1, secs + 86_400) : (days, secs)
        let (year, month, day) = CalendarDay.civil(daysSince1970: d)
        func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
        func four(_ v: Int64) -> String { String(repeating: "0", count: max(0, 4 - String(v).count)) + String(v) }
        return "\(four(year))-\(two(month))-\(two(day))T\(two(s / 3600)):\(two(s / 60 % 60)):\(two(s % 60))Z"
    }

    static func decodeVector(_ s: String?) -> VersionVector {
        guard let s else { return VersionVector() }
        return (try? JSONDecoder().decode(VersionVector.self, from: Data(s.utf8))) ?? VersionVector()
    }

    static func encodeVector(_ vv: VersionVector) throws -> String {
        String(decoding: try JSONEncoder.canonical.encode(vv), as: UTF8.self)
    }

    // MARK: Hub: enrolments

    /// Records a new enrolment of `replica` (or of a fresh random id) for `unit` with the hash of its
    /// key; returns the replica id. A wanted id already enrolled is refused.
    func addEnrolment(unit: String, keyHash: Data, replica: ReplicaID?, at time: String) throws -> ReplicaID {
        try write { db in
            var candidate = replica ?? ReplicaID.random()
            while try Bool.fetchOne(db, sql: "SELECT 1 FROM enrolment WHERE replica = ?", arguments: [candidate.rawValue]) ?? false {
                if replica != nil {
                    throw SyncError(.conflict, "Bản sao «\(candidate)» đã được ghi danh.", field: "replica", value: candidate.rawValue)
                }
                candidate = ReplicaID.random()
            }
            try db.execute(
                sql: "INSERT INTO enrolment(replica, unit, key_hash, enrolled_at) VALUES (?, ?, ?, ?)",
                arguments: [candidate.rawValue, unit, keyHash, time])
            return candidate
        }
    }

    /// Refuses every later request and bundle of `replica`; what it wrote before stays.
    @discardableResult
    public func revoke(_ replica: ReplicaID, now: Int64 = Int64(Date().timeIntervalSince1970)) throws -> Enrolment {
        try write { db in
            try db.execute(
                sql: "UPDATE enrolment SET revoked_at = coalesce(revoked_at, ?) WHERE replica = ?", arguments: [Self.isoNow(now), replica.rawValue])
            guard db.changesCount > 0, let e = try Self.enrolment(db, replica) else {
                throw SyncError.notFound("bản sao đã ghi danh", replica.rawValue, field: "replica")
            }
            return e
        }
    }

    /// Takes back an enrolment whose file could not be delivered (the secret is lost with it).
    /// Only an enrolment that never synced may be withdrawn; otherwise use `revoke`.
    public func withdrawEnrolment(_ replica: ReplicaID) throws {
        try write { db in
            try db.execute(sql: "DELETE FROM enrolment WHERE replica = ? AND syncs = 0", arguments: [replica.rawValue])
        }
    }

    public func enrolments() throws -> [Enrolment] {
        try read { db in
            try Row.fetchAll(
                db,
                sql:
                    "SELECT replica, unit, enrolled_at, revoked_at, last_sync, last_vv, syncs, machine_key, bound_at FROM enrolment ORDER BY unit, replica"
            )
            .compactMap(Self.enrolmentRow)
        }
    }

    static func enrolmentRow(_ r: Row) -> Enrolment? {
        guard let id = ReplicaID(r[0] as String) else { return nil }
        return Enrolment(
            replica: id, unit: r[1], enrolledAt: r[2], revokedAt: r[3], lastSync: r[4], lastVersionVector: decodeVector(r[5]), syncs: r[6],
            machineKey: (r[7] as String?).flatMap(MachineKey.init(base64:))?.fingerprint, boundAt: r[8])
    }

    static func enrolment(_ db: Database, _ replica: ReplicaID) throws -> Enrolment? {
        try Row.fetchOne(
            db,
            sql: "SELECT replica, unit, enrolled_at, revoked_at, last_sync, last_vv, syncs, machine_key, bound_at FROM enrolment WHERE replica = ?",
            arguments: [replica.rawValue]
        ).flatMap(enrolmentRow)
    }

    /// The unit and key of an enrolled, not revoked replica; otherwise an error naming it.
    public func sender(_ replica: ReplicaID) throws -> (unit: String, key: Data) {
        try read { db in
            guard
                let row = try Row.fetchOne(
                    db, sql: "SELECT unit, key_hash, revoked_at FROM enrolment WHERE replica = ?", arguments: [replica.rawValue])
            else {
                throw SyncError(
                    .unauthorized,
                    "Bản sao «\(replica)» chưa được ghi danh ở hub. Nếu hub vừa được khôi phục từ một bản sao lưu cũ hơn lần ghi danh này, người quản trị hub chạy «hub enrol --restore TỆP.enrol» với tệp ghi danh của bản sao đó.",
                    field: "replica", value: replica.rawValue)
            }
            if let revoked: String = row[2] {
                throw SyncError(
                    .forbidden,
                    "Bản sao «\(replica)» đã bị thu hồi lúc \(revoked). Công việc chưa gửi của máy này vẫn được giữ: hãy xin người quản trị hub tệp ghi danh thay thế («hub enrol --unit \(row[0] as String) --replaces \(replica) --out moi.enrol»), rồi chạy «unit-client rehome --enrolment moi.enrol» và «unit-client sync».",
                    field: "replica", value: replica.rawValue)
            }
            return (row[0], row[1])
        }
    }

    /// Remembers a nonce until it expires, refusing one already seen; forgets expired ones so the
    /// table stays bounded by the traffic of one lifetime.
    static func rememberNonce(_ db: Database, replica: String, nonce: String, expiresAt: Int64, now: Int64) throws {
        try db.execute(sql: "DELETE FROM seen_nonce WHERE expires_at < ?", arguments: [now])
        try db.execute(
            sql: "INSERT OR IGNORE INTO seen_nonce(replica, nonce, expires_at) VALUES (?, ?, ?)", arguments: [replica, nonce, expiresAt])
        guard db.changesCount == 1 else {
            throw SyncError(
                .unauthorized, "Yêu cầu hoặc gói tin này đã được nhận trước đó (nonce \(nonce)); không nhận lại.", field: "nonce", value: nonce)
        }
    }

    // MARK: Hub: one exchange

    /// The hub's write of an exchange, in one transaction: remembers the nonce, binds the
    /// enrolment to the sending machine's key (the first one it sees; another one is refused),
    /// applies the ops as the authenticated replica after verifying them (a batch breaking a rule
    /// is refused whole) and records the vector the replica reported.
    func applyFromEnrolled(
        _ batch: OpBatch, replica: ReplicaID, unit: String, machineKey: MachineKey?, reportedVector: VersionVector, nonce: String,
        nonceExpiresAt: Int64, now: Int64, source: String
    ) throws -> ApplyReport {
        var given: OpBatch? = batch
        return try applyFromEnrolled(
            pages: {
                defer { given = nil }
                return given
            }, replica: replica, unit: unit, machineKey: machineKey, reportedVector: reportedVector, nonce: nonce,
            nonceExpiresAt: nonceExpiresAt, now: now, source: source)
    }

    /// The same with the ops in pages (a bundle read as it is applied), still one transaction.
    func applyFromEnrolled(
        pages next: () throws -> OpBatch?, replica: ReplicaID, unit: String, machineKey: MachineKey?, reportedVector: VersionVector,
        nonce: String, nonceExpiresAt: Int64, now: Int64, source: String
    ) throws -> ApplyReport {
        nonisolated(unsafe) let next = next
        return try writeVerifying(source: source) { db in
            try Self.rememberNonce(db, replica: replica.rawValue, nonce: nonce, expiresAt: nonceExpiresAt, now: now)
            try Self.bind(db, replica: replica, machineKey: machineKey, now: now)
            let report = try self.applyPages(next, source: .peer(authenticated: replica, unit: unit), in: db, allowLegacy: false)
            if let key = machineKey, let registered = try Self.machineKey(db, of: replica), registered != key {
                throw SyncError(
                    .forbidden,
                    "Máy gửi (khóa \(key.fingerprint)) không phải máy đã đăng ký bản sao \(replica) (khóa \(registered.fingerprint)).",
                    field: "machine_key", value: key.fingerprint)
            }
            if report.applied > 0 {
                // The replica continues its chain on the branch this hub holds: a fork met at or
                // before its head (a restored copy that has since recovered) is closed.
                let head = try Self.versionVector(db)[replica]
                try Self.closeForks(
                    db, origin: replica, through: head - UInt64(report.applied), why: "bản sao đã tiếp tục trên nhánh của hub", now: now)
            }
            try db.execute(
                sql: "UPDATE enrolment SET last_sync = ?, last_vv = ?, syncs = syncs + 1 WHERE replica = ?",
                arguments: [Self.isoNow(now), try Self.encodeVector(reportedVector), replica.rawValue])
            return report
        }
    }

    /// One enrolment, one machine: the first key that uses an enrolment is bound to it.
    static func bind(_ db: Database, replica: ReplicaID, machineKey: MachineKey?, now: Int64) throws {
        guard let key = machineKey else {
            throw SyncError(
                .invalidInput, "Yêu cầu của bản sao \(replica) không mang khóa của máy; hãy cập nhật chương trình.", field: "machine_key",
                value: replica.rawValue)
        }
        let bound = try String.fetchOne(db, sql: "SELECT machine_key FROM enrolment WHERE replica = ?", arguments: [replica.rawValue])
        if let bound, bound != key.base64 {
            let boundKey = MachineKey(base64: bound)
            throw SyncError(
                .forbidden,
                "Tệp ghi danh của bản sao \(replica) đã được dùng trên một máy khác (khóa \(boundKey?.fingerprint ?? "?")); máy này (khóa \(key.fingerprint)) không được đồng bộ bằng nó. Công việc trên máy này vẫn được giữ: hãy xin Văn phòng một tệp ghi danh mới («hub enrol») rồi chạy «unit-client rehome --enrolment TỆP_MỚI».",
                field: "enrolment", value: replica.rawValue)
        }
        if bound == nil {
            try db.execute(
                sql: "UPDATE enrolment SET machine_key = ?, bound_at = ? WHERE replica = ?", arguments: [key.base64, isoNow(now), replica.rawValue])
        }
    }

    /// One page of what a peer with vector `after` lacks, and this store's vector, read together.
    func page(after: VersionVector, limit: Int) throws -> (batch: OpBatch, more: Bool, vector: VersionVector) {
        try read { db in
            let (batch, more) = try Self.page(db, after: after, limit: limit, legacy: true)
            return (batch, more, try Self.versionVector(db))
        }
    }

    /// Everything this hub holds that an enrolled, not revoked `replica` lacks, by the vector it
    /// last reported, and this store's vector.
    func everythingLackedBy(_ replica: ReplicaID) throws -> (batch: OpBatch, vector: VersionVector) {
        try read { db in
            guard let e = try Self.enrolment(db, replica) else { throw SyncError.notFound("bản sao đã ghi danh", replica.rawValue, field: "replica") }
            if e.revokedAt != nil {
                throw SyncError(.forbidden, "Bản sao «\(replica)» đã bị thu hồi.", field: "replica", value: replica.rawValue)
            }
            return (try Self.page(db, after: e.lastVersionVector, limit: .max, legacy: true).batch, try Self.versionVector(db))
        }
    }

    /// After a restored replica's bundle was refused as a fork at `counter` of its own origin:
    /// the next bundle for it carries its own ops from there, so that it can recover offline.
    func resendOwnOps(of replica: ReplicaID, from counter: UInt64) throws {
        try write { db in
            guard let e = try Self.enrolment(db, replica) else { return }
            var vv = e.lastVersionVector
            vv[replica] = min(vv[replica], counter > 0 ? counter - 1 : 0)
            try db.execute(sql: "UPDATE enrolment SET last_vv = ? WHERE replica = ?", arguments: [try Self.encodeVector(vv), replica.rawValue])
        }
    }

    // MARK: Client

    /// The client's write of an exchange, in one transaction: applies the hub's ops and records
    /// what the hub acknowledged; with `nonce` (a bundle), refuses one already imported.
    func applyFromHub(_ batch: OpBatch, hubVector: VersionVector, hubURL: String?, nonce: String?, nonceExpiresAt: Int64, now: Int64) throws
        -> ApplyReport
    {
        var given: OpBatch? = batch
        return try applyFromHub(
            pages: {
                defer { given = nil }
                return given
            }, hubVector: hubVector, hubURL: hubURL, nonce: nonce, nonceExpiresAt: nonceExpiresAt, now: now)
    }

    /// The same with the ops in pages (a bundle read as it is applied), still one transaction.
    func applyFromHub(
        pages next: () throws -> OpBatch?, hubVector: VersionVector, hubURL: String?, nonce: String?, nonceExpiresAt: Int64, now: Int64
    ) throws -> ApplyReport {
        nonisolated(unsafe) let next = next
        return try writeVerifying(source: nonce == nil ? "sync" : "bundle") { db in
            if let nonce { try Self.rememberNonce(db, replica: "hub", nonce: nonce, expiresAt: nonceExpiresAt, now: now) }
            let r = try self.applyPages(next, source: .peer(authenticated: nil, unit: nil), in: db, allowLegacy: true)
            // This replica's own ops count as acknowledged only as far as it holds them. A copy put
            // back from a backup is told the hub holds more of its origin than it does; recorded
            // as such, its next sync would send only what lies beyond, never the counters it
            // reuses, and the hub would refuse a broken chain (401) instead of meeting the fork
            // the recovery runs on (found by cchc-sim, seed 20261300).
            var acked = hubVector
            if let me = try Self.identity(db)?.replica { acked[me] = min(acked[me], try Self.versionVector(db)[me]) }
            try Self.recordPeer(db, name: "hub", url: hubURL, acked: acked, at: Self.isoNow(now))
            return r
        }
    }

    /// Stores this replica's credentials at its hub (one row) and, with a URL, the hub as a peer.
    func saveCredential(hubURL: String?, replica: ReplicaID, unit: String, secret: String) throws {
        try write { db in
            try db.execute(
                sql: """
                    INSERT INTO credential(id, hub_url, replica, unit, secret) VALUES (1, ?, ?, ?, ?)
                    ON CONFLICT(id) DO UPDATE SET hub_url = excluded.hub_url, replica = excluded.replica, unit = excluded.unit, secret = excluded.secret
                    """, arguments: [hubURL, replica.rawValue, unit, secret])
            if let hubURL { try Self.recordPeer(db, name: "hub", url: hubURL, acked: VersionVector(), at: nil) }
        }
    }

    /// This replica's stored credentials, if it was enrolled.
    func credential() throws -> (hubURL: String?, replica: ReplicaID, unit: String, secret: String)? {
        try read { db in
            guard let r = try Row.fetchOne(db, sql: "SELECT hub_url, replica, unit, secret FROM credential WHERE id = 1"),
                let id = ReplicaID(r[1] as String)
            else { return nil }
            return (r[0], id, r[2], r[3])
        }
    }
}

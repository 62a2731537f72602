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

    enum CodingKeys: String, CodingKey {
        case replica, unit, syncs
        case enrolledAt = "enrolled_at"
        case revokedAt = "revoked_at"
        case lastSync = "last_sync"
        case lastVersionVector = "last_version_vector"
    }
}

/// What `hub enrol` writes and `unit-client init --enrolment` reads. Holds the secret S: the hub
/// keeps only SHA-256(S), so this file is the one copy; it is written readable by its owner only.
public struct EnrolmentFile: Codable, Sendable, Equatable {
    public static let currentFormat = "cchc-enrolment/1"
    public var format: String
    public var hubURL: String?
    public var unit: String
    public var replicaID: ReplicaID
    public var secret: String
    public var issuedAt: String

    public init(hubURL: String?, unit: String, replicaID: ReplicaID, secret: String, issuedAt: String) {
        self.format = Self.currentFormat
        self.hubURL = hubURL
        self.unit = unit
        self.replicaID = replicaID
        self.secret = secret
        self.issuedAt = issuedAt
    }

    enum CodingKeys: String, CodingKey {
        case format, unit, secret
        case hubURL = "hub_url"
        case replicaID = "replica_id"
        case issuedAt = "issued_at"
    }

    public static func read(path: String) throws -> EnrolmentFile {
        let data = try UserFile.read(path, field: "enrolment", what: "tệp ghi danh")
        let f: EnrolmentFile
        do {
            f = try JSONDecoder().decode(EnrolmentFile.self, from: data)
        } catch {
            throw SyncError(.corrupt, "Tệp «\(path)» không phải tệp ghi danh hợp lệ.", field: "enrolment", value: path, cause: error)
        }
        guard f.format == currentFormat else {
            throw SyncError(.corrupt, "Tệp ghi danh có định dạng «\(f.format)», cần «\(currentFormat)».", field: "format", value: f.format)
        }
        guard f.secret.utf8.count >= 32 else {
            throw SyncError(.corrupt, "Tệp ghi danh «\(path)» có khóa bí mật quá ngắn.", field: "secret", value: path)
        }
        return f
    }

    public func write(path: String) throws {
        // The file holds the replica's secret: readable by its owner only.
        try UserFile.write(try JSONEncoder.canonical.encode(self), to: path, field: "out", permissions: 0o600)
    }
}

/// A replica's own credentials at its hub.
public struct HubCredentials: Sendable, Equatable {
    public var hubURL: String?
    public var replica: ReplicaID
    public var unit: String
    public var secret: String
    /// The HMAC key K = SHA-256(secret).
    public var key: Data { SyncAuth.key(fromSecret: secret) }

    public init(hubURL: String?, replica: ReplicaID, unit: String, secret: String) {
        self.hubURL = hubURL
        self.replica = replica
        self.unit = unit
        self.secret = secret
    }
}

/// Sync-side storage: enrolments, nonces and credentials (migration v2-hub), and the two halves
/// of one sync exchange, each in one transaction with the vector advance.
extension ReplicaStore {
    static func isoNow(_ now: Int64) -> String {
        ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(now)))
    }

    static func decodeVector(_ s: String?) -> VersionVector {
        guard let s else { return VersionVector() }
        return (try? JSONDecoder().decode(VersionVector.self, from: Data(s.utf8))) ?? VersionVector()
    }

    static func encodeVector(_ vv: VersionVector) throws -> String {
        String(decoding: try JSONEncoder.canonical.encode(vv), as: UTF8.self)
    }

    // MARK: Hub: enrolments

    /// Registers a new replica for `unit` and returns the enrolment file's content (with the secret).
    public func enrol(unit: String, hubURL: String?, replica: ReplicaID? = nil, now: Int64 = Int64(Date().timeIntervalSince1970)) throws
        -> EnrolmentFile
    {
        _ = try catalog.requireUnit(unit, field: "unit")
        let secret = SyncAuth.newSecret()
        let key = SyncAuth.key(fromSecret: secret)
        let time = Self.isoNow(now)
        let id: ReplicaID = try write { db in
            var candidate = replica ?? ReplicaID.random()
            while try Bool.fetchOne(db, sql: "SELECT 1 FROM enrolment WHERE replica = ?", arguments: [candidate.rawValue]) ?? false {
                if replica != nil {
                    throw SyncError(.conflict, "Bản sao «\(candidate)» đã được ghi danh.", field: "replica", value: candidate.rawValue)
                }
                candidate = ReplicaID.random()
            }
            try db.execute(
                sql: "INSERT INTO enrolment(replica, unit, key_hash, enrolled_at) VALUES (?, ?, ?, ?)",
                arguments: [candidate.rawValue, unit, key, time])
            return candidate
        }
        return EnrolmentFile(hubURL: hubURL, unit: unit, replicaID: id, secret: secret, issuedAt: time)
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
                db, sql: "SELECT replica, unit, enrolled_at, revoked_at, last_sync, last_vv, syncs FROM enrolment ORDER BY unit, replica"
            )
            .compactMap(Self.enrolmentRow)
        }
    }

    static func enrolmentRow(_ r: Row) -> Enrolment? {
        guard let id = ReplicaID(r[0] as String) else { return nil }
        return Enrolment(
            replica: id, unit: r[1], enrolledAt: r[2], revokedAt: r[3], lastSync: r[4], lastVersionVector: decodeVector(r[5]), syncs: r[6])
    }

    static func enrolment(_ db: Database, _ replica: ReplicaID) throws -> Enrolment? {
        try Row.fetchOne(
            db, sql: "SELECT replica, unit, enrolled_at, revoked_at, last_sync, last_vv, syncs FROM enrolment WHERE replica = ?",
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
                throw SyncError(.unauthorized, "Bản sao «\(replica)» chưa được ghi danh ở hub.", field: "replica", value: replica.rawValue)
            }
            if let revoked: String = row[2] {
                throw SyncError(
                    .forbidden, "Bản sao «\(replica)» đã bị thu hồi lúc \(revoked); hãy xin ghi danh mới.", field: "replica", value: replica.rawValue)
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

    /// The hub's half of an exchange. One write transaction remembers the nonce, applies the
    /// request's ops as the authenticated replica (a batch breaking a rule is refused whole) and
    /// records the replica's vector; the answer page is then read outside the write lock (WAL
    /// readers run beside the next writer), so concurrent replicas wait only for each other's
    /// applies, not for each other's downloads.
    public func receive(
        _ request: SyncRequest, unit: String, nonce: String, nonceExpiresAt: Int64, now: Int64, pageLimit: Int? = nil
    ) throws -> SyncResponse {
        let limit = max(1, min(pageLimit ?? request.pageLimit, SyncProtocol.maxPageOps))
        let report = try write { db in
            try Self.rememberNonce(db, replica: request.replica.rawValue, nonce: nonce, expiresAt: nonceExpiresAt, now: now)
            let report = try self.apply(request.ops, source: .peer(authenticated: request.replica, unit: unit), in: db)
            try db.execute(
                sql: "UPDATE enrolment SET last_sync = ?, last_vv = ?, syncs = syncs + 1 WHERE replica = ?",
                arguments: [Self.isoNow(now), try Self.encodeVector(request.versionVector), request.replica.rawValue])
            return report
        }
        var known = request.versionVector
        for op in request.ops where op.dot.counter > known[op.dot.origin] { known[op.dot.origin] = op.dot.counter }
        let after = known
        return try read { db in
            var page = try Self.ops(db, after: after, limit: limit + 1)
            let more = page.count > limit
            if more { page.removeLast() }
            return SyncResponse(
                hubVersionVector: try Self.versionVector(db), ops: page, more: more, applied: report.applied, duplicates: report.duplicates)
        }
    }

    /// Everything the hub holds that `replica` lacks, by the vector it last reported.
    public func everythingLackedBy(_ replica: ReplicaID) throws -> SyncResponse {
        try read { db in
            guard let e = try Self.enrolment(db, replica) else { throw SyncError.notFound("bản sao đã ghi danh", replica.rawValue, field: "replica") }
            if e.revokedAt != nil {
                throw SyncError(.forbidden, "Bản sao «\(replica)» đã bị thu hồi.", field: "replica", value: replica.rawValue)
            }
            return SyncResponse(
                hubVersionVector: try Self.versionVector(db), ops: try Self.ops(db, after: e.lastVersionVector, limit: .max), more: false)
        }
    }

    // MARK: Client

    public func saveCredentials(_ c: HubCredentials) throws {
        try write { db in
            try db.execute(
                sql: """
                    INSERT INTO credential(id, hub_url, replica, unit, secret) VALUES (1, ?, ?, ?, ?)
                    ON CONFLICT(id) DO UPDATE SET hub_url = excluded.hub_url, replica = excluded.replica, unit = excluded.unit, secret = excluded.secret
                    """, arguments: [c.hubURL, c.replica.rawValue, c.unit, c.secret])
            if let url = c.hubURL { try Self.recordPeer(db, name: "hub", url: url, acked: VersionVector(), at: nil) }
        }
    }

    public func credentials() throws -> HubCredentials? {
        try read { db in
            guard let r = try Row.fetchOne(db, sql: "SELECT hub_url, replica, unit, secret FROM credential WHERE id = 1"),
                let id = ReplicaID(r[1] as String)
            else { return nil }
            return HubCredentials(hubURL: r[0], replica: id, unit: r[2], secret: r[3])
        }
    }

    /// This replica's credentials, or an error saying how to get them.
    public func requireCredentials() throws -> HubCredentials {
        guard let c = try credentials() else {
            throw SyncError(
                .unauthorized, "Bản sao chưa được ghi danh ở hub; hãy tạo bằng «unit-client init --enrolment TỆP» với tệp do «hub enrol» cấp.",
                field: "enrolment")
        }
        return c
    }

    /// The ops of `origin` after `counter`, in counter order, at most `limit`.
    public func ops(of origin: ReplicaID, after counter: UInt64, limit: Int) throws -> [Op] {
        try read { db in
            var vv = VersionVector()
            vv[origin] = counter
            return try Self.ops(db, after: vv, limit: limit, only: origin)
        }
    }

    /// The client's half of an exchange, in one transaction: applies the hub's page and records
    /// what the hub acknowledged; with `nonce` (a bundle), refuses one already imported.
    @discardableResult
    public func accept(_ response: SyncResponse, hubURL: String?, nonce: String? = nil, nonceExpiresAt: Int64 = 0, now: Int64) throws -> ApplyReport {
        try write { db in
            if let nonce { try Self.rememberNonce(db, replica: "hub", nonce: nonce, expiresAt: nonceExpiresAt, now: now) }
            let r = try self.apply(response.ops, source: .peer(authenticated: nil, unit: nil), in: db)
            try Self.recordPeer(db, name: "hub", url: hubURL, acked: response.hubVersionVector, at: Self.isoNow(now))
            return r
        }
    }

    /// An online copy of the database to `path` through SQLite's backup API, while others keep
    /// reading and writing.
    public func backup(to path: String) throws {
        do {
            let dest = try DatabaseQueue(path: path)
            try dbPool.backup(to: dest)
            try dest.close()
        } catch {
            throw Self.map(error)
        }
    }

    /// Copies the write-ahead log into the database and truncates it (as after a restart), so
    /// measurements do not pay for a log left behind by a bulk load.
    public func checkpoint() throws {
        do {
            try dbPool.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
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

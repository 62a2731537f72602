import Foundation
import GRDB

/// What `hub enrol` writes and `unit-client init --enrolment` reads. Holds the secret S: the hub
/// keeps only SHA-256(S), so this file is the one copy; it is written readable by its owner only.
///
/// Formats: `cchc-enrolment/1` (an http hub, or none) and `cchc-enrolment/2`, the same with
/// `hub_tls_sha256`, the pinned fingerprint of an https hub's certificate (`TLSPin`). A file with a
/// pin is written as /2 so that a release that cannot pin refuses it by name instead of ignoring
/// the pin; files without one stay /1, readable by every release.
public struct EnrolmentFile: Codable, Sendable, Equatable {
    public static let currentFormat = "cchc-enrolment/1"
    public static let pinnedFormat = "cchc-enrolment/2"
    public var format: String
    public var hubURL: String?
    public var unit: String
    public var replicaID: ReplicaID
    public var secret: String
    public var issuedAt: String
    /// SHA-256 of the hub's TLS certificate (64 hex digits), for an https hub.
    public var hubTLSSHA256: String?
    /// The revoked replica this enrolment replaces (`hub enrol --replaces`), and what the hub
    /// holds of it: `unit-client rehome` on that replica's machine keeps those ops as they are
    /// and writes again only the rest.
    public var replaces: Replacement?

    /// A revoked replica and the hub's copy of its ops when the replacement was issued. The
    /// revocation makes it final: the hub takes no op of that replica after it.
    public struct Replacement: Codable, Sendable, Equatable {
        public var replica: ReplicaID
        /// How many of its ops the hub holds (its counter in the hub's vector).
        public var held: UInt64
        /// The hub's chain hash over them (64 hex digits; empty when `held` is 0).
        public var head: String
        /// The first 8 bytes of the hub's chain hash after each of those ops, 1…`held`, one
        /// after the other, base64: a machine put back to an old copy after it synced finds
        /// there the last op its copy shares with the hub's (8 bytes an op: 40 KB for 5,000).
        public var digests: String

        public init(replica: ReplicaID, held: UInt64, head: String, digests: String = "") {
            self.replica = replica
            self.held = held
            self.head = head
            self.digests = digests
        }

        /// The digests as numbers, index k for op k + 1 (`EnrolmentFile.read` checked that there
        /// are `held` of them).
        public var digestList: [UInt64] {
            let d = Data(base64Encoded: digests) ?? Data()
            return stride(from: 0, to: d.count - d.count % 8, by: 8).map { at in d[at..<at + 8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) } }
        }
    }

    public init(
        hubURL: String?, unit: String, replicaID: ReplicaID, secret: String, issuedAt: String, hubTLSSHA256: String? = nil,
        replaces: Replacement? = nil
    ) {
        self.format = hubTLSSHA256 == nil ? Self.currentFormat : Self.pinnedFormat
        self.hubURL = hubURL
        self.unit = unit
        self.replicaID = replicaID
        self.secret = secret
        self.issuedAt = issuedAt
        self.hubTLSSHA256 = hubTLSSHA256
        self.replaces = replaces
    }

    enum CodingKeys: String, CodingKey {
        case format, unit, secret, replaces
        case hubURL = "hub_url"
        case replicaID = "replica_id"
        case issuedAt = "issued_at"
        case hubTLSSHA256 = "hub_tls_sha256"
    }

    public static func read(path: String) throws -> EnrolmentFile {
        let data = try UserFile.read(path, field: "enrolment", what: "tệp ghi danh")
        var f: EnrolmentFile
        do {
            f = try JSONDecoder().decode(EnrolmentFile.self, from: data)
        } catch {
            throw SyncError(.corrupt, "Tệp «\(path)» không phải tệp ghi danh hợp lệ.", field: "enrolment", value: path, cause: error)
        }
        guard f.format == currentFormat || f.format == pinnedFormat else {
            throw SyncError(
                .corrupt, "Tệp ghi danh có định dạng «\(f.format)», cần «\(currentFormat)» hoặc «\(pinnedFormat)».", field: "format", value: f.format)
        }
        if let pin = f.hubTLSSHA256 {
            guard let ok = TLSPin.normalised(pin) else {
                throw SyncError(
                    .corrupt, "Tệp ghi danh «\(path)» có dấu vân tay chứng chỉ «\(pin)» không hợp lệ (cần 64 chữ số hex của SHA-256).",
                    field: "hub_tls_sha256", value: pin)
            }
            f.hubTLSSHA256 = ok
        }
        guard f.secret.utf8.count >= 32 else {
            throw SyncError(.corrupt, "Tệp ghi danh «\(path)» có khóa bí mật quá ngắn.", field: "secret", value: path)
        }
        if let r = f.replaces {
            // What `rehome` keeps rests on these: a file whose count, hash and digests disagree
            // is refused, not half used.
            let headOK = r.held == 0 ? r.head.isEmpty : (r.head.count == 64 && r.head.allSatisfy(\.isHexDigit))
            guard headOK, Data(base64Encoded: r.digests)?.count == Int(clamping: r.held) * 8 else {
                throw SyncError(
                    .corrupt,
                    "Tệp ghi danh «\(path)» có phần «replaces» hỏng (bản sao \(r.replica), \(r.held) thao tác): mã băm hoặc dãy tóm lược không khớp số thao tác. Hãy xin hub cấp lại («hub enrol --replaces \(r.replica)»).",
                    field: "replaces", value: path)
            }
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
    /// The pinned SHA-256 of the hub's TLS certificate (`TLSPin`), for an https hub.
    public var tlsPin: String?
    /// The HMAC key K = SHA-256(secret).
    public var key: Data { SyncAuth.key(fromSecret: secret) }

    public init(hubURL: String?, replica: ReplicaID, unit: String, secret: String, tlsPin: String? = nil) {
        self.hubURL = hubURL
        self.replica = replica
        self.unit = unit
        self.secret = secret
        self.tlsPin = tlsPin
    }

    public init(enrolment e: EnrolmentFile) {
        self.init(hubURL: e.hubURL, replica: e.replicaID, unit: e.unit, secret: e.secret, tlsPin: e.hubTLSSHA256)
    }
}

extension ReplicaStore {
    /// Enrols a new replica for `unit` and returns the enrolment file's content (with the secret;
    /// the hub keeps only its hash).
    ///
    /// With `replacing`, the new enrolment replaces that replica of the same unit (`hub enrol
    /// --replaces`): it is revoked first, if it was not, and the file records how many of its ops
    /// this hub holds and their chain hash, final from the revocation on, so that its machine's
    /// `unit-client rehome` writes again exactly the work the hub never received.
    public func enrol(
        unit: String, hubURL: String?, replica: ReplicaID? = nil, tlsPin: String? = nil, now: Int64 = Int64(Date().timeIntervalSince1970),
        secret: String = SyncAuth.newSecret(), replacing old: ReplicaID? = nil
    ) throws -> EnrolmentFile {
        _ = try catalog.requireUnit(unit, field: "unit")
        let time = Self.isoNow(now)
        let replaces = try old.map { try revokeForReplacement($0, unit: unit, now: now) }
        let id = try addEnrolment(unit: unit, keyHash: SyncAuth.key(fromSecret: secret), replica: replica, at: time)
        return EnrolmentFile(hubURL: hubURL, unit: unit, replicaID: id, secret: secret, issuedAt: time, hubTLSSHA256: tlsPin, replaces: replaces)
    }

    /// Revokes `old` (kept revoked if it was) and reads what this hub holds of it, in one
    /// transaction: after it no op of `old` is taken, so the count and hash are final.
    func revokeForReplacement(_ old: ReplicaID, unit: String, now: Int64) throws -> EnrolmentFile.Replacement {
        try write { db in
            guard let e = try Self.enrolment(db, old) else {
                throw SyncError(
                    .notFound, "Hub này không có bản sao «\(old)» đã ghi danh để thay thế (--replaces); xem «hub status».", field: "replaces",
                    value: old.rawValue)
            }
            guard e.unit == unit else {
                throw SyncError.invalid(
                    "replaces", old.rawValue,
                    "bản sao này thuộc đơn vị \(e.unit), không phải \(unit): tệp ghi danh mới chỉ thay cho bản sao cùng đơn vị.")
            }
            try db.execute(
                sql: "UPDATE enrolment SET revoked_at = coalesce(revoked_at, ?) WHERE replica = ?", arguments: [Self.isoNow(now), old.rawValue])
            let held = try Self.versionVector(db)[old]
            let chain = try Self.chainHashes(db, of: old, through: held)
            var digests = Data()
            digests.reserveCapacity(chain.count * 8)
            for h in chain { withUnsafeBytes(of: h.prefix64.bigEndian) { digests.append(contentsOf: $0) } }
            return EnrolmentFile.Replacement(
                replica: old, held: held, head: chain.count == Int(held) ? chain.last.map { SyncAuth.hex($0.bytes) } ?? "" : "",
                digests: digests.base64EncodedString())
        }
    }

    /// Enrols again, from its file, a replica this hub enrolled and then lost: the hub was put
    /// back from a backup made before the enrolment (`hub enrol --restore FILE`). The replica
    /// keeps its id and secret, so its next sync is accepted and gives back what the restored hub
    /// lacks; its machine key is bound again at that sync. Returns false when the hub already
    /// holds this very enrolment (nothing changed); an id enrolled with another secret is refused.
    @discardableResult
    public func restoreEnrolment(_ file: EnrolmentFile, path: String) throws -> Bool {
        _ = try catalog.requireUnit(file.unit, field: "unit")
        let key = SyncAuth.key(fromSecret: file.secret)
        return try write { db in
            if let row = try Row.fetchOne(
                db, sql: "SELECT unit, key_hash FROM enrolment WHERE replica = ?", arguments: [file.replicaID.rawValue])
            {
                guard (row[0] as String) == file.unit, (row[1] as Data) == key else {
                    throw SyncError(
                        .conflict,
                        "Hub đã có bản sao «\(file.replicaID)» với khóa hoặc đơn vị khác tệp «\(path)»; không ghi danh lại (tệp này không phải của hub này, hoặc đã bị sửa).",
                        field: "replica", value: file.replicaID.rawValue)
                }
                return false
            }
            try db.execute(
                sql: "INSERT INTO enrolment(replica, unit, key_hash, enrolled_at) VALUES (?, ?, ?, ?)",
                arguments: [file.replicaID.rawValue, file.unit, key, file.issuedAt])
            return true
        }
    }

    /// The pin is kept in `local_state` (key `hub_tls_sha256`) beside the credential row, so
    /// databases of earlier releases need no migration; saving credentials without a pin drops
    /// an earlier one.
    public func saveCredentials(_ c: HubCredentials) throws {
        try saveCredential(hubURL: c.hubURL, replica: c.replica, unit: c.unit, secret: c.secret)
        let pin = c.tlsPin
        try write { db in
            try db.execute(sql: "DELETE FROM local_state WHERE key = 'hub_tls_sha256'")
            if let pin { try db.execute(sql: "INSERT INTO local_state(key, value) VALUES ('hub_tls_sha256', ?)", arguments: [pin]) }
        }
    }

    public func credentials() throws -> HubCredentials? {
        guard let c = try credential() else { return nil }
        let pin = try read { db in try String.fetchOne(db, sql: "SELECT value FROM local_state WHERE key = 'hub_tls_sha256'") }
        return HubCredentials(hubURL: c.hubURL, replica: c.replica, unit: c.unit, secret: c.secret, tlsPin: pin)
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
}

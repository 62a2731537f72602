import Foundation

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

extension ReplicaStore {
    /// Enrols a new replica for `unit` and returns the enrolment file's content (with the secret;
    /// the hub keeps only its hash).
    public func enrol(unit: String, hubURL: String?, replica: ReplicaID? = nil, now: Int64 = Int64(Date().timeIntervalSince1970)) throws
        -> EnrolmentFile
    {
        _ = try catalog.requireUnit(unit, field: "unit")
        let secret = SyncAuth.newSecret()
        let time = Self.isoNow(now)
        let id = try addEnrolment(unit: unit, keyHash: SyncAuth.key(fromSecret: secret), replica: replica, at: time)
        return EnrolmentFile(hubURL: hubURL, unit: unit, replicaID: id, secret: secret, issuedAt: time)
    }

    public func saveCredentials(_ c: HubCredentials) throws {
        try saveCredential(hubURL: c.hubURL, replica: c.replica, unit: c.unit, secret: c.secret)
    }

    public func credentials() throws -> HubCredentials? {
        try credential().map { HubCredentials(hubURL: $0.hubURL, replica: $0.replica, unit: $0.unit, secret: $0.secret) }
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

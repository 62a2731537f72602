import Foundation

/// The hub's side of the protocol, independent of HTTP: the server and `hub bundle` are thin
/// drivers around it. Every check happens before anything is written, in this order: protocol
/// version, who the sender is (enrolled, not revoked), the signature and clock, the body, the
/// nonce; then the ops go through the same authority rules as every write.
public struct HubSyncService: Sendable {
    public let store: ReplicaStore

    public init(store: ReplicaStore) { self.store = store }

    /// What one handled request produced.
    public struct Outcome: Sendable {
        public var body: Data
        /// HMAC of the answer for the requesting replica.
        public var signature: String
        public var replica: ReplicaID
        public var received: Int
        public var applied: Int
        public var sent: Int
        public var more: Bool
    }

    /// Handles one `POST /v1/sync`; `headers` keys are lower-case. Throws `SyncError` whose
    /// `httpStatus` is the answer.
    public func handle(headers: [String: String], body: Data, now: Int64) throws -> Outcome {
        let claims = try SyncAuth.claims(headers)
        let sender = try store.sender(claims.replica)
        try SyncAuth.verify(claims, body: body, key: sender.key, now: now)
        let request = try WireCodec.decodeRequest(body)
        guard request.replica == claims.replica else {
            throw SyncError(
                .forbidden, "Thông điệp ghi bản sao «\(request.replica)» nhưng được ký bởi «\(claims.replica)».", field: "replica",
                value: request.replica.rawValue)
        }
        let response = try store.receive(
            request, unit: sender.unit, nonce: claims.nonce, nonceExpiresAt: claims.timestamp + SyncProtocol.nonceLifetime, now: now)
        FaultHook.passed(.hubCommit)  // test only (CCHC_FAULT): SIGKILL after the K-th commit, before replying
        // A client of the release before schema versions (no `x-cchc-schema`) refuses plan
        // entries, and would refuse the whole page: its ops are kept (committed above), and it is
        // told to upgrade instead of meeting an error it cannot explain.
        if headers[SyncProtocol.Header.schema] == nil, response.ops.contains(where: { $0.record.hasPrefix("KH.") }) {
            throw SyncError(
                .invalidInput,
                "Máy này dùng phiên bản chương trình cũ, chưa nhận được Kế hoạch dạng dữ liệu mà Văn phòng đã sửa đổi. Hub đã nhận \(response.applied) thao tác mới của máy (không mất gì); hãy nâng cấp chương trình trên máy này (scripts/install.sh) rồi đồng bộ lại.",
                field: "protocol", value: "x-cchc-schema")
        }
        let out = try WireCodec.encode(response)
        return Outcome(
            body: out, signature: SyncAuth.signResponse(body: out, nonce: claims.nonce, key: sender.key), replica: claims.replica,
            received: request.ops.count, applied: response.applied, sent: response.ops.count, more: response.more)
    }

    /// What importing a bundle did.
    public struct BundleImport: Sendable, Codable {
        public var replica: ReplicaID
        public var unit: String
        public var received: Int
        public var applied: Int
        public var duplicates: Int
    }

    /// A bundle (either version) imported at the hub must be one a replica wrote for it.
    static func checkToHub(path: String, direction: SyncBundle.Direction, replica: ReplicaID) throws {
        guard direction == .toHub else {
            throw SyncError(
                .invalidInput, "Gói tin «\(path)» là gói hub gửi cho bản sao \(replica), không phải gói gửi hub.", field: "direction",
                value: direction.rawValue)
        }
    }

    /// The replica a bundle's payload names and the unit its header names must be its enrolment's.
    static func checkSender(path: String, named: ReplicaID, unit: String, replica: ReplicaID, enrolledUnit: String) throws {
        guard named == replica, unit == enrolledUnit else {
            throw SyncError(
                .forbidden, "Gói tin «\(path)» ghi bản sao/đơn vị không khớp với ghi danh (\(replica)/\(enrolledUnit)).", field: "replica",
                value: named.rawValue)
        }
    }

    /// Runs a bundle's import; when the replica's own ops clash with what this hub holds (it was
    /// restored from an old copy), its next bundle from here carries its own ops back so it can
    /// recover, and the message says what to do.
    private func recoveringRestored<T>(_ replica: ReplicaID, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch var e as SyncError where e.code == .fork && e.value?.hasPrefix("\(replica):") == true {
            if let c = e.value.flatMap({ $0.split(separator: ":").last }).flatMap({ UInt64($0) }) {
                try store.resendOwnOps(of: replica, from: c)
            }
            e.message +=
                " Hãy xuất gói mới cho bản sao này («hub bundle export --replica \(replica)»), nhập gói đó vào máy của đơn vị («unit-client bundle import»): máy đó tự khôi phục và ghi lại công việc dưới số mới; rồi gửi gói mới của nó về hub."
            throw e
        }
    }

    /// Imports a replica's bundle: the same checks as a request, with the bundle's own lifetime.
    public func importBundle(_ data: Data, path: String, now: Int64) throws -> BundleImport {
        let (bundle, hmac) = try SyncBundle.parse(data, path: path)
        try Self.checkToHub(path: path, direction: bundle.direction, replica: bundle.replica)
        let sender = try store.sender(bundle.replica)
        try bundle.verify(hmac: hmac, key: sender.key, now: now, path: path)
        let request = try WireCodec.decodeRequest(bundle.payload)
        try Self.checkSender(path: path, named: request.replica, unit: bundle.unit, replica: bundle.replica, enrolledUnit: sender.unit)
        let response = try recoveringRestored(bundle.replica) {
            try store.receive(
                request, unit: sender.unit, nonce: bundle.nonce, nonceExpiresAt: bundle.created + SyncProtocol.bundleLifetime, now: now,
                pageLimit: 1, source: "bundle")
        }
        return BundleImport(
            replica: bundle.replica, unit: sender.unit, received: request.ops.count, applied: response.applied, duplicates: response.duplicates)
    }

    /// Imports the bundle in the file at `path`: one of version 2 is read, checked and applied page
    /// by page in one transaction (`BundleStream`): its HMAC first, its SHA-256 by the last page,
    /// before anything is committed. One of version 1 is read whole (`importBundle(_:path:now:)`).
    public func importBundle(path: String, now: Int64) throws -> BundleImport {
        guard try BundleStream.isStreamed(path: path) else {
            return try importBundle(UserFile.read(path, field: "file"), path: path, now: now)
        }
        let reader = try BundleStream.Reader(path: path)
        try Self.checkToHub(path: path, direction: reader.direction, replica: reader.replica)
        let sender = try store.sender(reader.replica)
        try reader.verify(key: sender.key, now: now)
        let fields = try reader.requestFields()
        try Self.checkSender(path: path, named: fields.replica, unit: reader.unit, replica: reader.replica, enrolledUnit: sender.unit)
        let report = try recoveringRestored(reader.replica) {
            try store.applyFromEnrolled(
                pages: { try reader.next() }, replica: reader.replica, unit: sender.unit, machineKey: fields.machineKey,
                reportedVector: fields.versionVector, nonce: reader.nonce, nonceExpiresAt: reader.created + SyncProtocol.bundleLifetime, now: now,
                source: "bundle")
        }
        return BundleImport(
            replica: reader.replica, unit: sender.unit, received: reader.opsRead, applied: report.applied, duplicates: report.duplicates)
    }

    /// Writes to `path` a bundle (version 2) with everything `replica` lacks, page by page from one
    /// snapshot, signed with that replica's key, and where each revoked replica's ops end here
    /// (`ClosedOrigin`: a laptop holding more of them sets the rest aside at import).
    public func exportBundle(for replica: ReplicaID, to path: String, now: Int64, nonce: String = SyncAuth.newNonce()) throws -> (
        ops: Int, bytes: Int
    ) {
        let sender = try store.sender(replica)
        return try BundleStream.write(
            to: path, direction: .toReplica, replica: replica, unit: sender.unit, created: now, nonce: nonce, key: sender.key,
            kind: WireCodec.responseKind, closed: try store.closedOrigins(excluding: replica)
        ) { sink in
            try store.forEachPageLacked(
                by: replica, start: { vv in try sink.begin(fields: BundleStream.responseFields(hubVersionVector: vv)) }, { try sink.add($0) })
        }
    }

    /// A bundle with everything `replica` lacks, signed with that replica's key.
    public func exportBundle(for replica: ReplicaID, now: Int64) throws -> (data: Data, ops: Int) {
        let sender = try store.sender(replica)
        let response = try store.everythingLackedByResponse(replica)
        let bundle = SyncBundle(direction: .toReplica, replica: replica, unit: sender.unit, created: now, payload: try WireCodec.encode(response))
        return (try bundle.encoded(key: sender.key), response.ops.count)
    }
}

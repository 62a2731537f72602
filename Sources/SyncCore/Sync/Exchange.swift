import Foundation
import GRDB

/// The two halves of one sync exchange in protocol terms (`SyncRequest`, `SyncResponse`), over the
/// store's transactions (`HubTables.swift`).
extension ReplicaStore {
    /// The hub's half. One write transaction remembers the nonce, applies the request's ops as the
    /// authenticated replica and records the replica's vector; the answer page is then read outside
    /// the write lock (WAL readers run beside the next writer), so concurrent replicas wait only for
    /// each other's applies, not for each other's downloads.
    func receive(
        _ request: SyncRequest, unit: String, nonce: String, nonceExpiresAt: Int64, now: Int64, pageLimit: Int? = nil, source: String = "sync"
    ) throws -> SyncResponse {
        if pageLimit == nil {
            var own = 0
            for op in request.ops where op.dot.origin == request.replica { own += 1 }
            let others = request.ops.count - own
            guard others <= SyncProtocol.maxPageOps + Int(SignedHead.spacing), own <= SyncProtocol.maxOwnOps else {
                throw SyncError(
                    .invalidInput,
                    "Trang có \(request.ops.count) thao tác (\(own) của chính bản sao gửi), quá giới hạn của giao thức: \(SyncProtocol.maxOwnOps) thao tác của chính bản sao, \(SyncProtocol.maxPageOps) của bản sao khác.",
                    field: "ops", value: String(request.ops.count))
            }
        }
        let limit = max(1, min(pageLimit ?? request.pageLimit, SyncProtocol.maxPageOps))
        try refuseClosedOrigins(request.versionVector)
        let report = try applyFromEnrolled(
            request.batch, replica: request.replica, unit: unit, machineKey: request.machineKey, reportedVector: request.versionVector,
            nonce: nonce, nonceExpiresAt: nonceExpiresAt, now: now, source: source)
        var known = request.versionVector
        for op in request.ops where op.dot.counter > known[op.dot.origin] { known[op.dot.origin] = op.dot.counter }
        // An origin whose ops differ from this hub's under the same dots is sent again from its
        // start: the replica meets the real ops and reports the fork.
        for o in try divergentOrigins(vector: request.versionVector, digests: request.digests) where o != request.replica { known[o] = 0 }
        let (batch, more, vector) = try page(after: known, limit: limit)
        var response = SyncResponse(hubVersionVector: vector, batch: batch, more: more, applied: report.applied, duplicates: report.duplicates)
        let at = min(request.versionVector[request.replica], vector[request.replica])
        if at > 0, let h = try read({ db in try Self.chainHash(db, origin: request.replica, at: at) }) {
            response.yourCounter = at
            response.yourDigest = h.prefix64
        }
        return response
    }

    /// Everything the hub holds that `replica` lacks, by the vector it last reported (a bundle).
    func everythingLackedByResponse(_ replica: ReplicaID) throws -> SyncResponse {
        let (batch, vector) = try everythingLackedBy(replica)
        return SyncResponse(hubVersionVector: vector, batch: batch, more: false)
    }

    /// The client's half: applies the hub's page and records what the hub acknowledged; with
    /// `nonce` (a bundle), refuses one already imported.
    @discardableResult
    func accept(_ response: SyncResponse, hubURL: String?, nonce: String? = nil, nonceExpiresAt: Int64 = 0, now: Int64) throws -> ApplyReport {
        try applyFromHub(
            response.batch, hubVector: response.hubVersionVector, hubURL: hubURL, nonce: nonce, nonceExpiresAt: nonceExpiresAt, now: now)
    }
}

extension ReplicaStore {
    /// A revoked replica's ops end where this hub's copy of them ends: ops of it the hub does
    /// not hold (carried to the sender by an ops file, or received before the hub was put back
    /// to a backup) will never reach the hub, and the replica's replacement writes its unsent
    /// work again. A sender that holds more of a revoked origin than this hub is refused, before
    /// anything is taken, as a fork at the first op the hub lacks (field `closed`): it sets those
    /// ops aside (`SyncClient.runRecovering`) and syncs again, and every replica converges on the
    /// hub's copy.
    func refuseClosedOrigins(_ vector: VersionVector) throws {
        let closed = try read { db -> (ReplicaID, UInt64, String)? in
            let revoked = try Row.fetchAll(db, sql: "SELECT replica, revoked_at FROM enrolment WHERE revoked_at IS NOT NULL ORDER BY replica")
            guard !revoked.isEmpty else { return nil }
            let hub = try Self.versionVector(db)
            for row in revoked {
                guard let id = ReplicaID(row[0] as String), vector[id] > hub[id] else { continue }
                return (id, hub[id], row[1])
            }
            return nil
        }
        guard let (origin, held, revokedAt) = closed else { return }
        throw SyncError(
            .fork,
            "Máy này giữ thao tác của bản sao \(origin) đến \(origin):\(vector[origin]), nhưng bản sao đó đã bị thu hồi lúc \(revokedAt) và hub chỉ giữ đến \(origin):\(held); các thao tác sau đó sẽ không bao giờ đến hub (công việc chưa gửi của nó được ghi lại dưới bản sao thay thế). «unit-client sync» để riêng chúng (giữ trong tệp cũ) rồi đồng bộ lại.",
            field: "closed", value: "\(origin):\(held + 1)")
    }

    func divergentOrigins(vector: VersionVector, digests: [ReplicaID: UInt64]) throws -> [ReplicaID] {
        guard !digests.isEmpty else { return [] }
        return try read { db in try Self.divergentOrigins(db, vector: vector, digests: digests) }
    }
}

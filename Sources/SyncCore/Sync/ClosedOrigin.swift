import Foundation
import GRDB

/// Where a revoked replica's ops end at the hub (docs/PROTOCOL.md, "Bundles"): the hub's count of
/// them, its chain head there and the author's signature of that head (empty for a legacy head,
/// or none at count 0). Ops of that replica beyond the count will never reach the hub (its
/// replacement writes its unsent work again), so a replica holding more of them sets them aside.
/// An HTTP sync learns it from the hub's refusal (409, field `closed`); the hub's bundles carry
/// one entry per revoked replica, inside what their HMAC covers, for a laptop that syncs only by
/// files.
public struct ClosedOrigin: Sendable, Equatable {
    public var origin: ReplicaID
    public var counter: UInt64
    public var hash: ChainHash
    public var signature: Data

    public init(origin: ReplicaID, counter: UInt64, hash: ChainHash, signature: Data) {
        self.origin = origin
        self.counter = counter
        self.hash = hash
        self.signature = signature
    }

    /// As the bundle's header line holds it.
    struct Entry: Codable, Equatable {
        var o: String
        var c: UInt64
        var h: String
        var sig: String
    }

    var entry: Entry { Entry(o: origin.rawValue, c: counter, h: hash.hex, sig: signature.base64EncodedString()) }

    /// An entry read from a bundle's header; a malformed one is damage, named.
    static func parse(_ e: Entry, path: String) throws -> ClosedOrigin {
        guard let origin = ReplicaID(e.o) else { throw SyncBundle.damaged(path, "mã bản sao đã thu hồi «\(e.o)» không hợp lệ") }
        guard e.c <= OpKey.maxCounter else { throw SyncBundle.damaged(path, "số thao tác \(e.c) của bản sao đã thu hồi \(e.o) vượt giới hạn") }
        guard let raw = SyncAuth.unhex(e.h), let hash = ChainHash([UInt8](raw)) else {
            throw SyncBundle.damaged(path, "mã băm đầu chuỗi «\(e.h)» của bản sao đã thu hồi \(e.o) không hợp lệ")
        }
        guard let signature = Data(base64Encoded: e.sig), signature.isEmpty || signature.count == 64 else {
            throw SyncBundle.damaged(path, "chữ ký đầu chuỗi của bản sao đã thu hồi \(e.o) không hợp lệ")
        }
        guard e.c > 0 || (hash == .zero && signature.isEmpty) else {
            throw SyncBundle.damaged(path, "bản sao đã thu hồi \(e.o): đầu chuỗi ở số 0 phải rỗng")
        }
        return ClosedOrigin(origin: origin, counter: e.c, hash: hash, signature: signature)
    }
}

extension ReplicaStore {
    /// The hub's: every revoked replica but `excluded`, where its ops end here, by replica id.
    func closedOrigins(excluding excluded: ReplicaID) throws -> [ClosedOrigin] {
        try read { db in
            let revoked = try String.fetchAll(db, sql: "SELECT replica FROM enrolment WHERE revoked_at IS NOT NULL ORDER BY replica")
            guard !revoked.isEmpty else { return [] }
            let vv = try Self.versionVector(db)
            let origins = try OriginTable.load(db)
            var out: [ClosedOrigin] = []
            for raw in revoked {
                guard let id = ReplicaID(raw), id != excluded else { continue }
                let counter = vv[id]
                guard counter > 0, let index = origins.indexOf[id] else {
                    out.append(ClosedOrigin(origin: id, counter: 0, hash: .zero, signature: Data()))
                    continue
                }
                guard let hash = try Self.chainHash(db, origin: id, at: counter) else {
                    throw SyncError(
                        .internal, "Không tính được đầu chuỗi của bản sao \(id) ở số \(counter).", field: "origin", value: "\(id):\(counter)")
                }
                let signature =
                    try Data.fetchOne(
                        db, sql: "SELECT signature FROM signed_head WHERE origin = ? AND counter = ?", arguments: [index, Int64(counter)]) ?? Data()
                out.append(ClosedOrigin(origin: id, counter: counter, hash: hash, signature: signature.count == 64 ? signature : Data()))
            }
            return out
        }
    }
}

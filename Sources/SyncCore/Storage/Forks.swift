import Foundation
import GRDB

/// Two different ops met under one dot: a replica restored from an old copy that wrote on, one
/// enrolment used on two machines, or a forged file. Never deduplicated: the batch that brings
/// the second one is refused and the evidence kept (table `fork`) for `status` to show.
public struct ForkRecord: Sendable, Codable, Equatable {
    public var id: Int64
    public var origin: ReplicaID
    public var counter: UInt64
    public var detectedAt: String
    /// Where the second op came from: `sync`, `bundle`, `ops-file`, `hub`.
    public var source: String
    /// The op this store holds under the dot, and the one refused, summarised.
    public var ours: String
    public var theirs: String
    /// Both sides' signed heads covering the dot, as JSON (`SignedHead`s; absent when none).
    public var evidence: String
    public var closedAt: String?
    public var closedWhy: String?

    enum CodingKeys: String, CodingKey {
        case id, origin, counter, source, ours, theirs, evidence
        case detectedAt = "detected_at"
        case closedAt = "closed_at"
        case closedWhy = "closed_why"
    }
}

/// Thrown inside a write transaction when a fork is met; the store records the evidence after
/// the transaction is rolled back and throws `error`.
struct ForkDetected: Error {
    var origin: ReplicaID
    var counter: UInt64
    var ours: String
    var theirs: String
    var ourHead: SignedHead?
    var theirHead: SignedHead?

    var error: SyncError {
        SyncError(
            .fork,
            "Phát hiện hai thao tác khác nhau cùng mang số \(origin):\(counter) (bản sao bị khôi phục từ bản sao lưu cũ, một tệp ghi danh dùng trên hai máy, hoặc tệp giả mạo). Đang có: \(ours). Nhận được: \(theirs). Lô thao tác bị từ chối, không thay đổi gì; bằng chứng được lưu, xem «status».",
            field: "origin", value: "\(origin):\(counter)")
    }

    static func summary(_ op: Op) -> String {
        let value: String
        switch op.value {
        case .null: value = "∅"
        case .int(let i): value = String(i)
        case .text(let s): value = "«\(s.count > 60 ? String(s.prefix(60)) + "…" : s)»"
        }
        return "\(op.record).\(op.field) = \(value) lúc \(HistoryTime.local(op.hlc))"
    }
}

/// How times of ops are shown to people: the HLC's physical part as local time.
enum HistoryTime {
    static func local(_ hlc: HLC) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "vi_VN")
        f.timeZone = TimeZone(identifier: "Asia/Ho_Chi_Minh")
        f.dateFormat = "dd/MM/yyyy HH:mm:ss"
        return f.string(from: Date(timeIntervalSince1970: TimeInterval(hlc.millis) / 1000))
    }
}

extension ReplicaStore {
    /// A write that applies ops from elsewhere: a fork met inside it rolls it back, is recorded
    /// in its own transaction, and is thrown as a `SyncError`.
    func writeVerifying<T: Sendable>(source: String, _ body: @Sendable (Database) throws -> T) throws -> T {
        do {
            return try write(body)
        } catch let fork as ForkDetected {
            try? record(fork, source: source)
            throw fork.error
        }
    }

    private func record(_ f: ForkDetected, source: String) throws {
        let enc = JSONEncoder.canonical
        struct Evidence: Encodable {
            var ours: SignedHead?
            var theirs: SignedHead?
        }
        let evidence = String(decoding: try enc.encode(Evidence(ours: f.ourHead, theirs: f.theirHead)), as: UTF8.self)
        try write { db in
            // One open record per dot and content is enough: a retried sync does not add more.
            let exists =
                try Bool.fetchOne(
                    db, sql: "SELECT 1 FROM fork WHERE origin = ? AND counter = ? AND theirs = ? AND closed_at IS NULL",
                    arguments: [f.origin.rawValue, Int64(f.counter), f.theirs]) ?? false
            guard !exists else { return }
            try db.execute(
                sql: "INSERT INTO fork(origin, counter, detected_at, source, ours, theirs, evidence) VALUES (?, ?, ?, ?, ?, ?, ?)",
                arguments: [
                    f.origin.rawValue, Int64(f.counter), Self.isoNow(Int64(Date().timeIntervalSince1970)), source, f.ours, f.theirs, evidence,
                ])
        }
    }

    /// Forks met by this store; `open` only those not closed.
    public func forks(open: Bool = true) throws -> [ForkRecord] {
        try read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT id, origin, counter, detected_at, source, ours, theirs, evidence, closed_at, closed_why FROM fork"
                    + (open ? " WHERE closed_at IS NULL" : "") + " ORDER BY id"
            ).compactMap { r in
                guard let o = ReplicaID(r[1] as String) else { return nil }
                return ForkRecord(
                    id: r[0], origin: o, counter: UInt64(r[2] as Int64), detectedAt: r[3], source: r[4], ours: r[5], theirs: r[6], evidence: r[7],
                    closedAt: r[8], closedWhy: r[9])
            }
        }
    }

    /// Closes the open forks of `origin` at or below `counter` with a reason (the author has
    /// since continued on this store's branch, or a recovery re-issued the other branch's work).
    static func closeForks(_ db: Database, origin: ReplicaID, through counter: UInt64, why: String, now: Int64) throws {
        try db.execute(
            sql: "UPDATE fork SET closed_at = ?, closed_why = ? WHERE origin = ? AND counter <= ? AND closed_at IS NULL",
            arguments: [isoNow(now), why, origin.rawValue, Int64(counter)])
    }
}

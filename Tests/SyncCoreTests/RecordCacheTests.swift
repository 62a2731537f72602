import Foundation
import GRDB
import Testing

@testable import SyncCore

/// The records a store keeps between write transactions (`RecordCache`) must never stand in for
/// what the database holds: a commit by another connection, or a transaction that rolled back
/// after its session wrote the records, leaves the next write reading the database.
@Suite struct RecordCacheTests {
    static let me = ReplicaID("aaaa0001")!

    static func store(_ dir: URL) throws -> ReplicaStore {
        let s = try ReplicaStore.open(path: dir.appendingPathComponent("r.sqlite").path, create: true)
        try s.initialise(identity: .init(replica: me, unit: "TTQLCK"), label: "r")
        return s
    }

    static func activity(_ s: ReplicaStore) throws -> RecordID {
        try s.createRecord(
            kind: .activity, owner: "TTQLCK",
            changes: [
                ("unit", .text("TTQLCK")), ("date", .text("2026-03-02")), ("form", .text("HT02")), ("content", .text("ND05")),
                ("title", .text("Đối thoại")), ("recorded", .text("2026-03-02T08:00:00Z")), ("deleted", .int(0)),
            ])
    }

    static func title(_ s: ReplicaStore, _ id: RecordID) throws -> Value? {
        try s.dump().records[id.rawValue]?["title"]?.value
    }

    static func temporaryDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("record-cache-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test("Một kết nối khác ghi vào tệp: lần ghi sau đọc lại bản ghi / another connection's commit is not hidden by the cache")
    func anotherConnectionsCommit() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // Given a store that has just written a record (so it keeps it), and a second store on the
        // same file (another process, as `unit-client` beside a running command) that retitles it.
        let a = try Self.store(dir)
        let id = try Self.activity(a)
        #expect(a.recordCache.count > 0, "the first write kept its records")
        let b = try ReplicaStore.open(path: dir.appendingPathComponent("r.sqlite").path)
        try b.writeRecord(id, changes: [("title", .text("Hội nghị"))])
        try b.close()
        // When the first store retitles it again.
        try a.writeRecord(id, changes: [("title", .text("Tọa đàm"))])
        // Then its write superseded the second store's (it read the record again): one title, no
        // conflict, and the typed tables agree with the op log.
        let conflicts = try a.conflicts()
        #expect(conflicts.isEmpty, "the write over a stale copy left a conflict: \(conflicts)")
        #expect(try Self.title(a, id) == .text("Tọa đàm"))
        let report = try a.verify()
        #expect(report.problems.isEmpty, "\(report.problems)")
        try a.close()
    }

    @Test("Giao dịch bị hủy sau khi phiên ghi xong: không giữ bản ghi của nó / a transaction rolled back after its session keeps nothing")
    func rolledBackAfterFinish() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // Given a second replica's retitle of a record this store holds.
        let a = try Self.store(dir)
        let id = try Self.activity(a)
        let other = try ReplicaStore.inMemory()
        try other.initialise(identity: .init(replica: ReplicaID("bbbb0002")!, unit: "TTQLCK"), label: "b")
        try other.apply(try a.ops(after: try other.versionVector()), source: .peer(authenticated: nil, unit: nil))
        try other.writeRecord(id, changes: [("title", .text("Hội nghị"))])
        let retitle = try other.ops(after: try a.versionVector())
        // When a transaction applies it through a whole session and then fails (as the hub's does
        // when the sender's machine key does not match, after the ops were applied).
        struct Refused: Error {}
        #expect(throws: SyncError.self) {
            try a.write { db in
                _ = try a.apply(retitle, source: .peer(authenticated: nil, unit: nil), in: db)
                throw Refused()
            }
        }
        // Then the record is as the database holds it: the next local write supersedes only the
        // original title, so the store's vector lacks the retitle and it is applied later once.
        #expect(try Self.title(a, id) == .text("Đối thoại"))
        try a.writeRecord(id, changes: [("title", .text("Tọa đàm"))])
        #expect(try a.verify().problems.isEmpty)
        let report = try a.apply(retitle, source: .peer(authenticated: nil, unit: nil))
        #expect(report.applied == retitle.ops.count)
        // The two retitles are concurrent: both kept, as in a store that never cached anything.
        let fresh = try ReplicaStore.inMemory()
        try fresh.initialise(identity: nil)
        try fresh.apply(try a.ops(after: VersionVector()), source: .peer(authenticated: nil, unit: nil))
        #expect(try a.dump().json() == fresh.dump().json())
        #expect(try a.conflicts().map(\.field) == ["title"])
        try a.close()
    }
}

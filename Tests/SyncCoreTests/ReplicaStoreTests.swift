import Foundation
import Testing

@testable import SyncCore

/// Focused cases of `ReplicaStore.apply` found by the convergence property tests.
@Suite struct ReplicaStoreTests {
    static let peer = OpSource.peer(authenticated: nil, unit: nil)

    func replica(_ id: String, _ unit: String) throws -> ReplicaStore {
        let s = try ReplicaStore.inMemory()
        try s.initialise(identity: .init(replica: ReplicaID(id)!, unit: unit), label: id)
        return s
    }

    func activity(in s: ReplicaStore, title: String) throws -> RecordID {
        try s.createRecord(
            kind: .activity, owner: "TTQLCK",
            changes: [
                ("unit", .text("TTQLCK")), ("date", .text("2026-03-02")), ("form", .text("HT02")), ("content", .text("ND05")),
                ("title", .text(title)), ("recorded", .text("2026-03-02T08:00:00Z")), ("deleted", .int(0)),
            ])
    }

    /// A copy put back from a backup hears that the hub holds more of its own origin than it
    /// does: the cursor must not record that, or its next sync sends only what lies beyond and
    /// never the reused counters (cchc-sim seed 20261300; `SimulatorRegressionTests`).
    @Test("Con trỏ xác nhận của hub không vượt quá thao tác của chính bản sao / the hub's ack cursor stays within a replica's own ops")
    func ackCursorStaysWithinOwnOps() throws {
        let s = try replica("aaaa0001", "TTQLCK")
        _ = try activity(in: s, title: "Đối thoại")
        let me = ReplicaID("aaaa0001")!
        let mine = try s.versionVector()[me]
        let other = ReplicaID("bbbb0002")!
        #expect(mine > 0)
        var hub = VersionVector()
        hub[me] = mine + 9
        hub[other] = 4
        try s.accept(SyncResponse(hubVersionVector: hub, batch: OpBatch(), more: false), hubURL: "http://127.0.0.1:1", now: 1_780_000_000)
        let acked = try #require(try s.peer("hub")?.acked)
        #expect(acked[me] == mine, "acked \(acked) while this replica holds \(mine) of its own ops")
        #expect(acked[other] == 4, "other origins are recorded as the hub said: \(acked)")
        // Once it holds more of its own (it wrote on), the hub's figure is taken as it comes.
        _ = try activity(in: s, title: "Hội nghị")
        var later = VersionVector()
        later[me] = mine + 2
        try s.accept(SyncResponse(hubVersionVector: later, batch: OpBatch(), more: false), hubURL: "http://127.0.0.1:1", now: 1_780_000_001)
        #expect(try s.peer("hub")?.acked[me] == mine + 2)
    }

    @Test("Xóa đồng thời với sửa: bản kết xuất chuẩn liệt kê phần sửa / the dump lists an edit concurrent with a delete")
    func dumpListsEditConcurrentWithDelete() throws {
        // Given two replicas of TTQLCK that both know an activity.
        let a = try replica("aaaa0001", "TTQLCK")
        let b = try replica("bbbb0002", "TTQLCK")
        let id = try activity(in: a, title: "Đối thoại")
        try b.apply(try a.ops(after: try b.versionVector()), source: Self.peer)
        // When A retitles it while B, not having seen that, deletes it, and they sync.
        let edit = try a.writeRecord(id, changes: [("title", .text("Hội nghị đối thoại"))])
        try b.writeRecord(id, changes: [], delete: true)
        try a.apply(try b.ops(after: try a.versionVector()), source: Self.peer)
        try b.apply(try a.ops(after: try b.versionVector()), source: Self.peer)
        // Then both list the delete as a conflict with the edit, in `conflicts` and in the dump.
        let conflicts = try a.conflicts()
        let conflictsB = try b.conflicts()
        #expect(conflicts.map(\.field) == ["deleted"] && conflicts == conflictsB)
        #expect(conflicts.first?.candidates.contains { $0.dot == edit[0].dot.description } == true)
        let deleted = try a.dump().records[id.rawValue]?["deleted"]
        #expect(deleted?.value == .int(1))
        #expect(deleted?.concurrentEdits == ["title@\(edit[0].dot)"])
        #expect(try a.dump().json() == b.dump().json())
    }

    @Test("Thao tác đến trước khoảng trống, thay thế giá trị của bản sao chưa biết: được giữ lại / a held-back op may name an unknown origin")
    func heldBackOpNamingAnUnknownOrigin() throws {
        // Given A records an activity and B, having seen it, retitles it (superseding A's value).
        let a = try replica("aaaa0001", "TTQLCK")
        let b = try replica("bbbb0002", "TTQLCK")
        let c = try replica("cccc0003", "VP")
        let id = try activity(in: a, title: "Đối thoại")
        try b.apply(try a.ops(after: try b.versionVector()), source: Self.peer)
        let retitle = try b.writeRecord(id, changes: [("title", .text("Hội nghị đối thoại"))])
        #expect(retitle.count == 1 && retitle[0].supersedes.map(\.origin) == [ReplicaID("aaaa0001")!])

        // When C, which has never heard of A, receives B's edit before B's earlier ops (a gap),
        let report = try c.apply(OpBatch(ops: retitle), source: Self.peer)

        // Then the edit is held back until the gap fills, not refused.
        #expect(report.heldBack == 1 && report.applied == 0)
        #expect(try c.pendingCount() == 1)
        // And once everything arrives, C converges with B.
        try c.apply(try a.ops(after: try c.versionVector()), source: Self.peer)
        try c.apply(try b.ops(after: try c.versionVector()), source: Self.peer)
        #expect(try c.pendingCount() == 0)
        try b.apply(try c.ops(after: try b.versionVector()), source: Self.peer)
        #expect(try c.dump().json() == b.dump().json())
        #expect(try c.activity(id.rawValue)?.title == "Hội nghị đối thoại")
    }
}

extension ReplicaStoreTests {
    @Test("Mọi dạng HLC qua kho và xuất lại y nguyên; HLC quá xa bị từ chối / every timestamp form survives the store")
    func timestampFormsSurviveTheStore() throws {
        // Given ops of one replica whose timestamps take every storage form: before 2025, a large
        // logical part, the compact form, and the latest accepted, with concurrent survivors far apart.
        let a = try replica("aaaa0001", "TTQLCK")
        let id = try activity(in: a, title: "Đối thoại")
        let me = ReplicaID("aaaa0001")!
        let baseBatch = try a.ops(of: me, after: 0, limit: .max)
        let base = baseBatch.ops
        let stamps: [HLC] = [
            HLC(millis: 1_600_000_000_000, logical: 0), HLC(millis: 1_772_000_000_000, logical: 4_000),
            HLC(millis: 1_772_000_000_001, logical: 3), .latestAccepted,
        ]
        var next = base.last!.dot.counter
        var ops: [Op] = []
        for (i, t) in stamps.enumerated() {
            next += 1
            // Alternately supersede nothing (concurrent-looking survivors) and the previous op.
            let supersedes = i % 2 == 1 ? [ops.last!.dot] : []
            ops.append(Op(dot: Dot(me, next), hlc: t, record: id.rawValue, field: "title", value: .text("Tiêu đề \(i)"), supersedes: supersedes))
        }
        let b = try replica("bbbb0002", "TTQLCK")
        let signed = try a.signOwnOpsUnchecked(ops)
        try b.apply(OpBatch(ops: base + ops, heads: baseBatch.heads + signed.heads), source: Self.peer)
        // Then the ops read back exactly, and a third replica fed from B has the same dump.
        let back = try b.ops(after: VersionVector())
        #expect(back.ops.filter { $0.dot.origin == me } == base + ops)
        let c = try replica("cccc0003", "TTQLCK")
        try c.apply(back, source: Self.peer)
        try b.apply(try c.ops(after: try b.versionVector()), source: Self.peer)
        #expect(try c.dump().json() == b.dump().json())

        // And an op stamped beyond the latest accepted time is refused, naming the field, changing nothing.
        let far = Op(
            dot: Dot(me, next + 1), hlc: HLC(rawValue: UInt64(Int64.max) + 1), record: id.rawValue, field: "title", value: .text("Tương lai"),
            supersedes: [])
        let before = try b.dump().json()
        expectSyncError(field: "hlc", value: String(UInt64(Int64.max) + 1)) { try b.apply(OpBatch(ops: [far]), source: Self.peer) }
        // Also when it would be held back behind a gap.
        var gap = far
        gap.dot = Dot(me, next + 5)
        expectSyncError(field: "hlc", value: String(UInt64(Int64.max) + 1)) { try b.apply(OpBatch(ops: [gap]), source: Self.peer) }
        #expect(try b.dump().json() == before && b.pendingCount() == 0)
    }
}

extension ReplicaStoreTests {
    @Test("Bộ đếm ngoài phạm vi bị từ chối, không làm hỏng gì / counters out of range are refused, nothing changes")
    func countersOutOfRange() throws {
        // Given a replica that knows an activity of A.
        let a = try replica("aaaa0001", "TTQLCK")
        let id = try activity(in: a, title: "Đối thoại")
        let b = try replica("bbbb0002", "TTQLCK")
        try b.apply(try a.ops(after: try b.versionVector()), source: Self.peer)
        let me = ReplicaID("aaaa0001")!
        let before = try b.dump().json()
        let next = try b.versionVector()[me] + 1
        func op(_ counter: UInt64, supersedes: [Dot] = []) -> Op {
            Op(
                dot: Dot(me, counter), hlc: HLC(millis: 1_772_000_000_000, logical: 0), record: id.rawValue, field: "title",
                value: .text("Tiêu đề mới"), supersedes: supersedes)
        }
        // When ops arrive with a counter beyond 2^28 - 1 (also beyond Int64), or superseding one,
        // Then each batch is refused naming the counter, and the replica is unchanged.
        for (bad, value) in [
            (op(OpKey.maxCounter + 1), OpKey.maxCounter + 1), (op(UInt64.max), UInt64.max),
            (op(next, supersedes: [Dot(ReplicaID("bbbb0002")!, 1 << 40)]), 1 << 40),
        ] {
            expectSyncError(field: "counter", value: String(value)) { try b.apply(OpBatch(ops: [op(next), bad]), source: Self.peer) }
        }
        // A supersedes naming a later op of the op's own origin is refused, naming that dot.
        expectSyncError(field: "supersedes", value: "aaaa0001:\(next + 1)") {
            try b.apply(OpBatch(ops: [op(next, supersedes: [Dot(me, next + 1)])]), source: Self.peer)
        }
        #expect(try b.dump().json() == before && b.pendingCount() == 0)
        // And the largest counter is accepted (held back behind the gap).
        #expect(try b.apply(OpBatch(ops: [op(OpKey.maxCounter)]), source: Self.peer).heldBack == 1)
    }

    @Test("Closing a store twice does nothing the second time (it trapped inside SQLite before), on a queue and a pool")
    func closeTwice() throws {
        for concurrentReaders in [false, true] {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cchc-close-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: dir) }
            let path = dir.appendingPathComponent("r.sqlite").path
            let s = try ReplicaStore.open(path: path, create: true, concurrentReaders: concurrentReaders)
            try s.initialise(identity: nil)
            let before = try s.dump()
            try s.close()
            try s.close()
            #expect(try ReplicaStore.open(path: path).dump() == before)
        }
    }
}

/// Durability is a property of the connection that writes: `synchronous = FULL` (2), also in WAL
/// mode, so a commit the store reported survives a power cut.
@Suite("Durable commits")
struct DurableCommitTests {
    @Test("The writing connection runs with synchronous = FULL, for a command and for the server", arguments: [false, true])
    func synchronousFull(concurrentReaders: Bool) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cchc-durable-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("r.sqlite").path
        let store = try ReplicaStore.open(path: path, create: true, concurrentReaders: concurrentReaders)
        try store.initialise(identity: .init(replica: ReplicaID("dura0001")!, unit: "TTQLCK"))
        let level = try store.write { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") }
        #expect(level == 2, "synchronous = \(String(describing: level)) on the writer")
        let mode = try store.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
        #expect(mode == "wal")
        // Reopened the other way, the file keeps WAL and the writer stays FULL.
        let again = try ReplicaStore.open(path: path, concurrentReaders: !concurrentReaders)
        #expect(try again.write { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") } == 2)
        #expect(try again.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") } == "wal")
    }
}

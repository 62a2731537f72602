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

    @Test("Thao tác đến trước khoảng trống, thay thế giá trị của bản sao chưa biết: được giữ lại / a held-back op may name an unknown origin")
    func heldBackOpNamingAnUnknownOrigin() throws {
        // Given A records an activity and B, having seen it, retitles it (superseding A's value).
        let a = try replica("aaaa0001", "TTQLCK")
        let b = try replica("bbbb0002", "TTQLCK")
        let c = try replica("cccc0003", "VP")
        let id = try a.createRecord(
            kind: .activity, owner: "TTQLCK",
            changes: [
                ("unit", .text("TTQLCK")), ("date", .text("2026-03-02")), ("form", .text("HT02")), ("content", .text("ND05")),
                ("title", .text("Đối thoại")), ("recorded", .text("2026-03-02T08:00:00Z")), ("deleted", .int(0)),
            ])
        try b.apply(try a.ops(after: try b.versionVector()), source: Self.peer)
        let retitle = try b.writeRecord(id, changes: [("title", .text("Hội nghị đối thoại"))])
        #expect(retitle.count == 1 && retitle[0].supersedes.map(\.origin) == [ReplicaID("aaaa0001")!])

        // When C, which has never heard of A, receives B's edit before B's earlier ops (a gap),
        let report = try c.apply(retitle, source: Self.peer)

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

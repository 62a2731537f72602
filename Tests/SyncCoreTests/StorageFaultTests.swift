import Foundation
import Testing

@testable import SyncCore

/// The time stamps the hub writes, and a full disk during a local write and a sync's apply.
@Suite struct StorageFaultTests {
    @Test("isoNow viết như ISO8601DateFormatter / the hub's time stamps are ISO 8601 UTC")
    func isoNowMatchesTheFormatter() {
        let f = ISO8601DateFormatter()
        var g = SplitMix64(seed: 13)
        let fixed: [Int64] = [0, 59, 86_399, 86_400, 951_782_400, 1_772_409_600, 4_102_444_799, 4_107_542_400, -1, -86_401]
        for t in fixed + (0..<2_000).map({ _ in Int64(g.below(5_000_000_000)) }) {
            #expect(ReplicaStore.isoNow(t) == f.string(from: Date(timeIntervalSince1970: TimeInterval(t))), "\(t)")
        }
    }

    @Test("Đĩa đầy khi ghi: lỗi nêu tên, cơ sở dữ liệu như trước; có chỗ lại thì ghi được / a full disk refuses a write by name and keeps the store")
    func fullDiskRefusesAWrite() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cchc-full-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let s = try ReplicaStore.open(path: dir + "/a.sqlite", create: true)
        defer { try? s.close() }
        try s.initialise(identity: .init(replica: ReplicaID("0000000a")!, unit: "TTQLCK"), label: "a")
        try s.limitGrowth(pages: 0)
        var refused: SyncError?
        var before = try s.versionVector()
        var dump = try s.dump().json()
        for k in 0..<200 {
            before = try s.versionVector()
            dump = try s.dump().json()
            do {
                _ = try s.createRecord(
                    kind: .activity, owner: "TTQLCK",
                    changes: [
                        ("unit", .text("TTQLCK")), ("date", .text("2026-03-02")), ("form", .text("HT02")), ("content", .text("ND05")),
                        ("title", .text(String(repeating: "Hoạt động rất dài \(k) ", count: 20))), ("quantity", .int(1)),
                        ("participants", .int(10)), ("recorded", .text("2026-03-02T08:00:00Z")), ("deleted", .int(0)),
                    ])
            } catch let e as SyncError {
                refused = e
                break
            }
        }
        let e = try #require(refused)
        #expect(e.field == "db" && e.value == "SQLITE_FULL", "\(e)")
        // What fitted in the free pages was written; the refused write left nothing.
        let after = try s.versionVector()
        #expect(after == before)
        #expect(try s.dump().json() == dump)
        #expect(UInt64(try s.opCount()) == after.total)
        try s.limitGrowth(pages: nil)
        _ = try s.createRecord(
            kind: .activity, owner: "TTQLCK",
            changes: [
                ("unit", .text("TTQLCK")), ("date", .text("2026-03-02")), ("form", .text("HT02")), ("content", .text("ND05")),
                ("title", .text("Sau khi có chỗ")), ("quantity", .int(1)), ("participants", .int(10)),
                ("recorded", .text("2026-03-02T08:00:00Z")), ("deleted", .int(0)),
            ])
        #expect(try s.versionVector().total > after.total)
    }
}

import Foundation
import Testing

@testable import SyncCore

/// A laptop holding another branch of an origin (from an ops file of a machine put back to an old
/// copy) whose first ops equal the hub's. The hub resends that origin from its start; when the
/// shared part is longer than a page, every request got the same page of ops the laptop already
/// held and the sync stopped, "the hub takes no more ops" (found by cchc-sim, seed 20263123). Now
/// the client compares the whole copies at once and keeps the hub's.
@Suite("Nhánh khác của một bản sao, phần chung dài hơn một trang / another branch sharing more than a page")
struct ResentBranchTests {
    @Test("Đồng bộ trang nhỏ vẫn xong và giữ bản của hub / a sync in small pages completes and keeps the hub's copy", arguments: [4, 9])
    func sharedPrefixLongerThanAPage(page: Int) async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cchc-resent-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let hub = try Fixture.hub()
        let (x, xc) = try Fixture.replica(hub, unit: "TTQLCK")
        for n in 1...4 { try Fixture.activity(x, unit: "TTQLCK", title: "Chung \(n)", day: n) }
        _ = try await Fixture.client(x, xc, hub).run()
        // The machine's database is copied; the machine writes on and syncs; the copy, put back
        // elsewhere, writes other work under the same counters.
        let copyPath = dir.appendingPathComponent("x-copy.sqlite").path
        try x.backup(to: copyPath)
        try Fixture.activity(x, unit: "TTQLCK", title: "Nhánh của hub", day: 10)
        _ = try await Fixture.client(x, xc, hub).run()
        let copy = try ReplicaStore.open(path: copyPath)
        try Fixture.activity(copy, unit: "TTQLCK", title: "Nhánh khác", day: 11)
        let shared = try hub.versionVector()[xc.replica] - 9

        // The laptop gets the copy's ops by file before it ever syncs.
        let e = try hub.enrol(unit: "VP", hubURL: "http://hub.invalid")
        let laptop = try ReplicaStore.open(path: dir.appendingPathComponent("laptop.sqlite").path, create: true)
        try laptop.initialise(identity: .init(replica: e.replicaID, unit: "VP"), label: "laptop")
        let lc = HubCredentials(hubURL: e.hubURL, replica: e.replicaID, unit: "VP", secret: e.secret)
        try laptop.saveCredentials(lc)
        try laptop.apply(try copy.ops(of: xc.replica, after: 0, limit: .max), source: .peer(authenticated: nil, unit: nil))
        #expect(shared > UInt64(page), "the shared part must be longer than a page for this test to mean anything")
        #expect(try laptop.chainHash(of: xc.replica, at: shared) == (try hub.chainHash(of: xc.replica, at: shared)))

        let (_, recovered, store) = try await Fixture.client(laptop, lc, hub, page: page).runRecovering()
        #expect(recovered.setAside.map(\.replica) == [xc.replica])
        #expect(try store.ops(of: xc.replica, after: 0, limit: .max).ops == (try hub.ops(of: xc.replica, after: 0, limit: .max).ops))
        #expect(try store.dump() == (try hub.dump()))
    }
}

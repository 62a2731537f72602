import Foundation
import Testing

@testable import SyncCore

/// A replica's signed heads are checked with the key it registered in one of its own ops. Found
/// by the simulator's soak (history 1461165254220806375): a replica of the previous release,
/// upgraded, registered its key as the last op of its first commit since, after a head signed at
/// a multiple of `SignedHead.spacing`; a page cut at that head reached no key, and every sync was
/// refused "no signing key of replica … to check op …:64" for good.
@Suite("Khóa ký và trang thao tác / the key a page is checked with")
struct KeyRegistrationTests {
    /// Copies of the previous release's hub and border-gate replica (Tests/EndToEndTests/Fixtures/previous-main).
    static func previousRelease() throws -> (dir: URL, hub: ReplicaStore, replica: ReplicaStore) {
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("EndToEndTests/Fixtures/previous-main")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cchc-key-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for name in ["hub.sqlite", "TTQLCK.sqlite"] {
            try FileManager.default.copyItem(at: fixtures.appendingPathComponent(name), to: dir.appendingPathComponent(name))
        }
        return (
            dir, try ReplicaStore.open(path: dir.appendingPathComponent("hub.sqlite").path),
            try ReplicaStore.open(path: dir.appendingPathComponent("TTQLCK.sqlite").path)
        )
    }

    static func activity(_ n: Int) -> [(String, Value)] {
        [
            ("date", .text("2026-03-1\(n % 10)")), ("form", .text("HT01")), ("content", .text("ND01")),
            ("title", .text("Hoạt động \(n)")), ("quantity", .int(1)), ("participants", .int(Int64(10 + n))),
        ]
    }

    /// The counter of the op that registered `replica`'s key.
    static func keyCounter(_ store: ReplicaStore, of replica: ReplicaID) throws -> UInt64? {
        try store.read { db in try ReplicaStore.keyRegistration(db, of: replica, origins: try OriginTable.load(db)) }
    }

    @Test("Bản sao của phiên bản trước đăng ký khóa trước lần ghi đầu tiên / an upgraded replica registers its key before its first write")
    func upgradedReplicaRegistersKeyFirst() throws {
        let (dir, _, replica) = try Self.previousRelease()
        defer { try? FileManager.default.removeItem(at: dir) }
        let me = try #require(try replica.credentials()).replica
        let before = try replica.versionVector()[me]
        #expect(try Self.keyCounter(replica, of: me) == nil)
        try replica.localWrites { batch in
            for n in 1...6 { _ = try batch.create(kind: .activity, owner: "TTQLCK", changes: Self.activity(n), nowMillis: nil) }
        }
        #expect(try replica.versionVector()[me] > SignedHead.spacing, "the commit must cross a signed head for this test to mean anything")
        #expect(try Self.keyCounter(replica, of: me) == before + 1)
    }

    @Test(
        "Khóa đăng ký sau đầu chuỗi đã ký: mọi cỡ trang vẫn đồng bộ đủ / a key registered after a signed head: every page size syncs in full",
        arguments: [1, 7, 16, 31])
    func keyAfterSignedHead(page: Int) async throws {
        let (dir, hub, replica) = try Self.previousRelease()
        defer { try? FileManager.default.removeItem(at: dir) }
        let credentials = try #require(try replica.credentials())
        let me = credentials.replica
        // The order the release before this one wrote in: the commit's ops, then the key.
        try replica.writeKeyLast { batch in
            for n in 1...6 { _ = try batch.create(kind: .activity, owner: "TTQLCK", changes: Self.activity(n), nowMillis: nil) }
        }
        let registered = try #require(try Self.keyCounter(replica, of: me))
        let head = try replica.versionVector()[me]
        #expect(registered > SignedHead.spacing && registered == head)

        var client = SyncClient(
            store: replica, credentials: credentials, hubURL: nil, transport: InProcessTransport(service: HubSyncService(store: hub)))
        client.pageLimit = page
        client.retry = RetryPolicy(attempts: 1, baseDelay: 0, maxDelay: 0)
        _ = try await client.run()
        #expect(try hub.versionVector() == (try replica.versionVector()))
        #expect(try hub.dump() == (try replica.dump()))

        // And on from the hub, in pages of the same size, to a machine that holds nothing of it.
        let (other, otherCredentials) = try Fixture.replica(hub, unit: "VP")
        var otherClient = SyncClient(
            store: other, credentials: otherCredentials, hubURL: nil, transport: InProcessTransport(service: HubSyncService(store: hub)))
        otherClient.pageLimit = page
        otherClient.retry = RetryPolicy(attempts: 1, baseDelay: 0, maxDelay: 0)
        _ = try await otherClient.run()
        #expect(try other.versionVector()[me] == registered)
        #expect(try other.dump() == (try hub.dump()))
    }
}

extension ReplicaStore {
    /// A local write as the release before this one made it: `body`'s ops, then (a replica
    /// without a registered key whose unit is known) the key registration as the commit's last op.
    fileprivate func writeKeyLast(_ body: (inout LocalWriteBatch) throws -> Void) throws {
        nonisolated(unsafe) let body = body
        try write { db in
            let me = try #require(try Self.identity(db))
            var (batch, key) = try self.signingBatch(db, me: me)
            try body(&batch)
            #expect(try batch.session.machineKey(of: me.replica) == nil)
            try batch.write(RecordID.replica(me.replica), changes: [("key", .text(key.publicKey.base64))], nowMillis: batch.session.hlc.millis)
            try batch.session.finish()
        }
    }
}

import Foundation
import Testing

@testable import SyncCore

/// The hub's bundles list the revoked replicas and where their ops end at the hub (`ClosedOrigin`);
/// a laptop that syncs only by files sets aside what it holds beyond that, after checking that its
/// own copy up to there is the hub's (docs/PROTOCOL.md, "Bundles").
@Suite("Bản sao đã thu hồi trong gói của hub / revoked replicas in the hub's bundles")
struct ClosedOriginTests {
    struct Setup {
        let dir: URL
        let hub: ReplicaStore
        let revoked: ReplicaID
        let laptop: ReplicaStore
        let credentials: HubCredentials
    }

    /// Machine x syncs one activity and writes a second; its ops reach a laptop (on disk, which a
    /// set-aside needs) by file; then x is revoked.
    static func setup() async throws -> Setup {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cchc-closed-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let hub = try Fixture.hub()
        let (x, xc) = try Fixture.replica(hub, unit: "TTQLCK")
        try Fixture.activity(x, unit: "TTQLCK", title: "Đã gửi hub", day: 2)
        _ = try await Fixture.client(x, xc, hub).run()
        let e = try hub.enrol(unit: "TTQLCK", hubURL: "http://hub.invalid")
        let laptop = try ReplicaStore.open(path: dir.appendingPathComponent("laptop.sqlite").path, create: true)
        try laptop.initialise(identity: .init(replica: e.replicaID, unit: "TTQLCK"), label: "laptop")
        let lc = HubCredentials(hubURL: e.hubURL, replica: e.replicaID, unit: "TTQLCK", secret: e.secret)
        try laptop.saveCredentials(lc)
        _ = try await Fixture.client(laptop, lc, hub).run()
        try Fixture.activity(x, unit: "TTQLCK", title: "Chưa gửi hub", day: 3)
        try laptop.apply(try x.ops(of: xc.replica, after: 0, limit: .max), source: .peer(authenticated: nil, unit: nil))
        _ = try hub.revoke(xc.replica)
        return Setup(dir: dir, hub: hub, revoked: xc.replica, laptop: laptop, credentials: lc)
    }

    @Test("Gói của hub liệt kê bản sao đã thu hồi; máy để riêng phần hub không có / the bundle lists it; the laptop sets the rest aside")
    func listedAndSetAside() async throws {
        let s = try await Self.setup()
        defer { try? FileManager.default.removeItem(at: s.dir) }
        let held = try s.hub.versionVector()[s.revoked]
        let closed = try s.hub.closedOrigins(excluding: s.credentials.replica)
        #expect(closed.map(\.origin) == [s.revoked] && closed.first?.counter == held)
        #expect(closed.first?.hash == (try s.hub.chainHash(of: s.revoked, at: held)))
        #expect(closed.first?.signature.count == 64, "the replica's own signature on the head")
        #expect(try s.hub.closedOrigins(excluding: s.revoked).map(\.origin) == [], "not listed in its own bundle")

        let onLaptop = try s.laptop.versionVector()[s.revoked]
        #expect(onLaptop > held, "the laptop holds more of the revoked replica than the hub")
        let now = Int64(Date().timeIntervalSince1970)
        let path = s.dir.appendingPathComponent("down.cchc").path
        _ = try HubSyncService(store: s.hub).exportBundle(for: s.credentials.replica, to: path, now: now)
        #expect(try BundleStream.Reader(path: path).closed == closed)
        let done = try SyncClient.importBundle(path: path, store: s.laptop, credentials: s.credentials, now: now)
        #expect(done.setAside.map(\.replica) == [s.revoked])
        #expect(done.setAside.first?.from == held + 1 && done.setAside.first?.setAside == Int(onLaptop - held))
        #expect(try done.store.ops(of: s.revoked, after: 0, limit: .max).ops == (try s.hub.ops(of: s.revoked, after: 0, limit: .max).ops))
        #expect(try done.store.dump() == (try s.hub.dump()))
        #expect(try done.store.verify().problems.isEmpty)
        try done.store.close()
    }

    @Test(
        "Đầu chuỗi hoặc chữ ký sai: không thay đổi gì / a head or a signature that does not match the laptop's copy changes nothing",
        arguments: ["hash", "signature"])
    func mismatchChangesNothing(part: String) async throws {
        let s = try await Self.setup()
        defer { try? FileManager.default.removeItem(at: s.dir) }
        var closed = try #require(try s.hub.closedOrigins(excluding: s.credentials.replica).first)
        if part == "hash" {
            closed.hash = try #require(try s.hub.chainHash(of: s.revoked, at: closed.counter - 1))
        } else {
            var sig = [UInt8](closed.signature)
            sig[7] ^= 0x20
            closed.signature = Data(sig)
        }
        let before = try s.laptop.dump()
        let vv = try s.laptop.versionVector()
        #expect {
            _ = try Recovery.setAsideClosed(closed, store: s.laptop)
        } throws: { error in
            guard let e = error as? SyncError else { return false }
            return part == "hash"
                ? e.code == .fork && e.field == "closed" && e.value == "\(s.revoked):\(closed.counter)"
                : e.code == .unauthorized && e.field == "signature" && e.value == "\(s.revoked):\(closed.counter)"
        }
        #expect(try s.laptop.dump() == before && s.laptop.versionVector() == vv)
        #expect(try FileManager.default.contentsOfDirectory(atPath: s.dir.path).allSatisfy { !$0.contains("bo-nhanh") }, "no file left beside it")

        // The same entry in a bundle the hub signed: the bundle itself is imported, and the
        // refusal says so (importing it again is refused as a replay).
        let now = Int64(Date().timeIntervalSince1970)
        let path = s.dir.appendingPathComponent("down.cchc").path
        let sender = try s.hub.sender(s.credentials.replica)
        _ = try BundleStream.write(
            to: path, direction: .toReplica, replica: s.credentials.replica, unit: sender.unit, created: now, key: sender.key,
            kind: WireCodec.responseKind, closed: [closed]
        ) { sink in
            try s.hub.forEachPageLacked(
                by: s.credentials.replica, start: { v in try sink.begin(fields: BundleStream.responseFields(hubVersionVector: v)) },
                { try sink.add($0) })
        }
        #expect {
            _ = try SyncClient.importBundle(path: path, store: s.laptop, credentials: s.credentials, now: now)
        } throws: { error in
            guard let e = error as? SyncError else { return false }
            return e.field == (part == "hash" ? "closed" : "signature") && e.message.hasPrefix("Đã nhập gói «\(path)»")
                && e.message.contains(s.revoked.rawValue)
        }
        #expect(try s.laptop.versionVector()[s.revoked] == vv[s.revoked], "the revoked replica's ops stay as they were")
        try s.laptop.close()
    }
}

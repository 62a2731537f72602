import Foundation
import Testing

@testable import SyncCore

/// A hub in the same process: the transport calls `HubSyncService` directly, so the protocol is
/// tested without sockets. Errors become the JSON bodies the HTTP server would send.
struct InProcessTransport: SyncTransport {
    let service: HubSyncService
    var clock: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }
    /// The schema version the hub's replies declare, as `hub serve` does (nil: a hub of the release before schema versions).
    var schema: Int? = SchemaVersion.current.version
    /// Whether requests lose their schema header, as a client of the release before schema versions sends them.
    var asPreviousRelease = false

    func post(body: Data, headers: [String: String]) async throws -> TransportResponse {
        do {
            var headers = headers
            if asPreviousRelease { headers[SyncProtocol.Header.schema] = nil }
            let o = try service.handle(headers: headers, body: body, now: clock())
            var h = [SyncProtocol.Header.signature: o.signature]
            if let schema { h[SyncProtocol.Header.schema] = String(schema) }
            return TransportResponse(status: 200, headers: h, body: o.body)
        } catch let e as SyncError {
            return TransportResponse(status: e.httpStatus, headers: [:], body: e.httpBody)
        }
    }
}

enum Fixture {
    static func hub() throws -> ReplicaStore {
        let h = try ReplicaStore.inMemory()
        try h.initialise(identity: nil)
        return h
    }

    /// A replica enrolled at `hub` for `unit`, with its credentials stored.
    static func replica(_ hub: ReplicaStore, unit: String) throws -> (ReplicaStore, HubCredentials) {
        let e = try hub.enrol(unit: unit, hubURL: "http://hub.invalid")
        let s = try ReplicaStore.inMemory()
        try s.initialise(identity: .init(replica: e.replicaID, unit: unit), label: "test")
        let c = HubCredentials(hubURL: e.hubURL, replica: e.replicaID, unit: unit, secret: e.secret)
        try s.saveCredentials(c)
        return (s, c)
    }

    @discardableResult
    static func activity(_ s: ReplicaStore, unit: String, title: String, day: Int = 2) throws -> RecordID {
        try s.createRecord(
            kind: .activity, owner: unit,
            changes: [
                ("unit", .text(unit)), ("date", .text(String(format: "2026-03-%02d", day))), ("form", .text("HT01")), ("content", .text("ND05")),
                ("title", .text(title)), ("quantity", .int(1)), ("participants", .int(40)), ("deleted", .int(0)),
            ])
    }

    static func client(_ s: ReplicaStore, _ c: HubCredentials, _ hub: ReplicaStore, page: Int = SyncProtocol.maxPageOps) -> SyncClient {
        var client = SyncClient(store: s, credentials: c, hubURL: c.hubURL, transport: InProcessTransport(service: HubSyncService(store: hub)))
        client.pageLimit = page
        client.retry = RetryPolicy(attempts: 2, baseDelay: 0, maxDelay: 0)
        return client
    }

    /// Heads for random ops as the wire carries them: some signed (random bytes), some legacy.
    static func randomHeads(_ rng: inout SeededRandom, ops: [Op]) -> OpBatch {
        var heads: [SignedHead] = []
        for (i, op) in ops.enumerated() where i + 1 == ops.count || ops[i + 1].dot.origin != op.dot.origin || rng.next() % 5 == 0 {
            let sig = rng.next() % 4 == 0 ? Data() : Data((0..<64).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
            heads.append(SignedHead(origin: op.dot.origin, counter: op.dot.counter, signature: sig))
        }
        return OpBatch(ops: ops, heads: heads)
    }

    static func randomOps(_ rng: inout SeededRandom, count: Int) -> [Op] {
        let origins = ["a1b2c3d4", "genesis", "ffff0000", "replica42"].compactMap(ReplicaID.init)
        var counters: [ReplicaID: UInt64] = [:]
        return (0..<count).map { _ in
            let o = origins[Int(rng.next() % UInt64(origins.count))]
            counters[o, default: 0] += UInt64(1 + rng.next() % 3)
            let value: Value =
                switch rng.next() % 3 {
                case 0: .null
                case 1: .int(Int64(bitPattern: rng.next()) >> Int64(rng.next() % 60))
                default: .text("Tuyên truyền \(rng.next() % 1000) về CCHC — đối thoại doanh nghiệp")
                }
            let sup = (0..<Int(rng.next() % 3)).map { _ in Dot(origins[Int(rng.next() % 4)], 1 + rng.next() % 100) }
            return Op(
                dot: Dot(o, counters[o] ?? 1), hlc: HLC(rawValue: rng.next() >> 1), record: "HD.TTQLCK.a1b2c3d4.\(rng.next() % 50)",
                field: ["title", "date", "quantity", "note"][Int(rng.next() % 4)], value: value, supersedes: sup)
        }
    }
}

@Suite("Sync protocol")
struct ProtocolTests {
    @Test("Given random messages, when encoded and decoded, then they round-trip exactly")
    func wireRoundTrip() throws {
        let seed = ProcessInfo.processInfo.environment["CCHC_SEED"].flatMap { UInt64($0) } ?? UInt64.random(in: 0...UInt64.max)
        print("wireRoundTrip seed \(seed)")
        var rng = SeededRandom(seed: seed)
        for n in [0, 1, 7, 300] {
            let ops = Fixture.randomOps(&rng, count: n)
            let vv = VersionVector([ReplicaID.genesis: 30, ReplicaID("a1b2c3d4")!: UInt64(n)])
            let batch = Fixture.randomHeads(&rng, ops: ops)
            var key = OpSigner(seed: rng.next())
            let req = SyncRequest(
                replica: ReplicaID("a1b2c3d4")!, versionVector: vv, batch: batch, pageLimit: 77,
                machineKey: n % 2 == 0 ? key.key(for: ReplicaID("a1b2c3d4")!).publicKey : nil)
            #expect(try WireCodec.decodeRequest(try WireCodec.encode(req)) == req)
            let resp = SyncResponse(hubVersionVector: vv, batch: batch, more: n % 2 == 0, applied: n, duplicates: 3)
            #expect(try WireCodec.decodeResponse(try WireCodec.encode(resp)) == resp)
        }
    }

    @Test("Given an encoded request, when any byte is flipped or the body cut, then decoding fails cleanly or yields a valid message")
    func damagedBodies() throws {
        let seed = ProcessInfo.processInfo.environment["CCHC_SEED"].flatMap { UInt64($0) } ?? UInt64.random(in: 0...UInt64.max)
        print("damagedBodies seed \(seed)")
        var rng = SeededRandom(seed: seed)
        let ops = Fixture.randomOps(&rng, count: 40)
        let req = SyncRequest(replica: ReplicaID("a1b2c3d4")!, versionVector: VersionVector(), batch: Fixture.randomHeads(&rng, ops: ops))
        let body = try WireCodec.encode(req)
        for cut in stride(from: 0, to: body.count, by: max(1, body.count / 50)) {
            #expect(throws: SyncError.self) { try WireCodec.decodeRequest(body.prefix(cut)) }
        }
        for _ in 0..<200 {
            var b = [UInt8](body)
            let i = Int(rng.next() % UInt64(b.count))
            b[i] ^= UInt8(1 << (rng.next() % 8))
            // Must never crash; an error is a SyncError, and a body that still decodes is a valid
            // message (it encodes and decodes back to itself).
            do {
                let m = try WireCodec.decodeRequest(Data(b))
                #expect(try WireCodec.decodeRequest(WireCodec.encode(m)) == m)
            } catch { #expect(error is SyncError) }
        }
    }

    /// The order of a dictionary's keys follows each process's hash seed: unsorted, a simulated
    /// reply's flipped byte landed elsewhere on each run and a history did not replay.
    @Test("Given an error, then its HTTP body is the same bytes in every process: keys sorted")
    func errorBodyBytes() throws {
        let e = SyncError(.unavailable, "Hub quá tải.", field: "hub", value: "503")
        let expected = #"{"error":{"code":"unavailable","field":"hub","message":"Hub quá tải.","value":"503"}}"#
        #expect(String(decoding: e.httpBody, as: UTF8.self) == expected)
    }

    @Test("Given a body of another protocol version, when decoded, then it is refused naming the version")
    func unknownVersion() throws {
        var b = [UInt8](try WireCodec.encode(SyncRequest(replica: ReplicaID("a1b2c3d4")!, versionVector: VersionVector())))
        b[5] = 9
        let e = #expect(throws: SyncError.self) { try WireCodec.decodeRequest(Data(b)) }
        #expect(e?.field == "protocol" && e?.value == "9" && e?.httpStatus == 400)
    }

    @Test("Given a signed request, then it verifies; with another key, a changed body or an old timestamp it is refused")
    func requestSignatures() throws {
        let key = SyncAuth.key(fromSecret: SyncAuth.newSecret())
        let body = Data("hello".utf8)
        let me = ReplicaID("a1b2c3d4")!
        let h = SyncAuth.signRequest(body: body, replica: me, key: key, now: 1_000_000)
        let c = try SyncAuth.claims(h)
        try SyncAuth.verify(c, body: body, key: key, now: 1_000_100)
        #expect(throws: SyncError.self) { try SyncAuth.verify(c, body: body, key: SyncAuth.key(fromSecret: "x"), now: 1_000_000) }
        #expect(throws: SyncError.self) { try SyncAuth.verify(c, body: Data("hellO".utf8), key: key, now: 1_000_000) }
        #expect(throws: SyncError.self) { try SyncAuth.verify(c, body: body, key: key, now: 1_000_000 + SyncProtocol.clockWindow + 1) }
        let hostile = SyncAuth.Claims(replica: me, timestamp: .min, nonce: c.nonce, signature: c.signature)
        #expect(throws: SyncError.self) { try SyncAuth.verify(hostile, body: body, key: key, now: 1_000_000) }
        var v2 = h
        v2[SyncProtocol.Header.protocolVersion] = String(SyncProtocol.version + 1)
        #expect(throws: SyncError.self) { try SyncAuth.claims(v2) }
    }

    @Test("Given a signed bundle, when one byte anywhere is flipped or the file cut, then it is refused")
    func bundleTampering() throws {
        let key = SyncAuth.key(fromSecret: SyncAuth.newSecret())
        let payload = try WireCodec.encode(SyncRequest(replica: ReplicaID("a1b2c3d4")!, versionVector: VersionVector()))
        let now: Int64 = 1_800_000_000
        let file = try SyncBundle(direction: .toHub, replica: ReplicaID("a1b2c3d4")!, unit: "TTQLCK", created: now, payload: payload).encoded(
            key: key)
        let (ok, mac) = try SyncBundle.parse(file, path: "b")
        try ok.verify(hmac: mac, key: key, now: now, path: "b")
        #expect(throws: SyncError.self) { try ok.verify(hmac: mac, key: SyncAuth.key(fromSecret: "other"), now: now, path: "b") }
        for i in 0..<file.count {
            var b = [UInt8](file)
            b[i] ^= 0x01
            #expect(throws: SyncError.self, "byte \(i)") {
                let (x, m) = try SyncBundle.parse(Data(b), path: "b")
                try x.verify(hmac: m, key: key, now: now, path: "b")
            }
        }
        #expect(throws: SyncError.self) { try SyncBundle.parse(file.dropLast(), path: "b") }
    }

    @Test("Given three replicas editing concurrently, when they sync in small pages through the hub, then all dumps are identical")
    func convergence() async throws {
        let hub = try Fixture.hub()
        let (a, ca) = try Fixture.replica(hub, unit: "TTQLCK")
        let (b, cb) = try Fixture.replica(hub, unit: "TTQLCK")
        let (c, cc) = try Fixture.replica(hub, unit: "CPCM-QLDTDN")
        let shared = try Fixture.activity(a, unit: "TTQLCK", title: "Đối thoại doanh nghiệp")
        for i in 0..<30 { try Fixture.activity(c, unit: "CPCM-QLDTDN", title: "Tin bài \(i)") }
        _ = try await Fixture.client(a, ca, hub, page: 7).run()
        _ = try await Fixture.client(b, cb, hub, page: 7).run()
        // Concurrent edits of one field on two replicas of the same unit: a conflict.
        try a.writeRecord(shared, changes: [("title", .text("Đối thoại doanh nghiệp quý I"))])
        try b.writeRecord(shared, changes: [("title", .text("Đối thoại với doanh nghiệp"))])
        for (s, cr) in [(a, ca), (b, cb), (c, cc), (a, ca), (b, cb)] {
            let summary = try await Fixture.client(s, cr, hub, page: 7).run()
            // Pages of 7, cut only where an author signed (at most `SignedHead.spacing` ops beyond
            // the size asked for): at least one round trip, and enough of them to carry what moved.
            let perPage = 7 + Int(SignedHead.spacing)
            #expect(summary.roundTrips >= max(1, (max(summary.sent, summary.received) + perPage - 1) / perPage), "\(summary)")
        }
        let hubDump = try hub.dump().json()
        for s in [a, b, c] { #expect(try s.dump().json() == hubDump) }
        #expect(try hub.conflicts().count == 1)
        #expect(try a.conflicts() == hub.conflicts())
        // Nothing left: one round trip.
        let again = try await Fixture.client(a, ca, hub).run()
        #expect(again.roundTrips == 1 && again.sent == 0 && again.received == 0)
    }

    @Test("Given a unit writing another unit's activity, when it syncs, then the batch is refused whole and the hub is unchanged")
    func authorityRefusal() async throws {
        let hub = try Fixture.hub()
        let (a, ca) = try Fixture.replica(hub, unit: "TTQLCK")
        let (b, cb) = try Fixture.replica(hub, unit: "CPCM-QLDTDN")
        let theirs = try Fixture.activity(b, unit: "CPCM-QLDTDN", title: "Hội nghị")
        _ = try await Fixture.client(b, cb, hub).run()
        _ = try await Fixture.client(a, ca, hub).run()
        let before = try hub.dump().json()
        // Forge an op on replica a, as if it bypassed its own checks.
        let vv = try a.versionVector()
        let forged = Op(
            dot: Dot(ca.replica, vv[ca.replica] + 1), hlc: HLC(millis: 1_800_000_000_000, logical: 0), record: theirs.rawValue, field: "title",
            value: .text("Sửa trộm"), supersedes: [])
        // Signed with a's own key, so only the hub's authority check can refuse it.
        let service = HubSyncService(store: hub)
        let now = Int64(Date().timeIntervalSince1970)
        let body = try WireCodec.encode(
            SyncRequest(replica: ca.replica, versionVector: vv, batch: try a.signOwnOpsUnchecked([forged]), machineKey: try a.machineKey()))
        let e = #expect(throws: SyncError.self) {
            try service.handle(headers: SyncAuth.signRequest(body: body, replica: ca.replica, key: ca.key, now: now), body: body, now: now)
        }
        #expect(e?.code == .forbidden)
        #expect(try hub.dump().json() == before)
    }

    @Test(
        "Given an enrolled replica signing different content under counters the hub holds, then it is refused as a fork, evidence kept, hub unchanged"
    )
    func reusedCounters() async throws {
        let hub = try Fixture.hub()
        let (a, ca) = try Fixture.replica(hub, unit: "TTQLCK")
        let id = try Fixture.activity(a, unit: "TTQLCK", title: "Đối thoại doanh nghiệp")
        _ = try await Fixture.client(a, ca, hub).run()
        let before = try hub.dump().json()
        // The replica's own key signs another op under its last counter (a restored copy would).
        let counter = try a.versionVector()[ca.replica]
        let (key, previous) = try a.read { db in
            (try ReplicaStore.signingKey(db)!, try ReplicaStore.chainHash(db, origin: ca.replica, at: counter - 1)!)
        }
        let other = Op(
            dot: Dot(ca.replica, counter), hlc: HLC(millis: 1_800_000_000_000, logical: 0), record: id.rawValue, field: "title",
            value: .text("Nội dung khác cùng số"), supersedes: [])
        let head = try key.sign(origin: ca.replica, counter: counter, hash: OpChain.next(previous, other))
        let body = try WireCodec.encode(
            SyncRequest(
                replica: ca.replica, versionVector: try a.versionVector(), batch: OpBatch(ops: [other], heads: [head]),
                machineKey: try a.machineKey()))
        let now = Int64(Date().timeIntervalSince1970)
        let e = #expect(throws: SyncError.self) {
            try HubSyncService(store: hub).handle(
                headers: SyncAuth.signRequest(body: body, replica: ca.replica, key: ca.key, now: now), body: body, now: now)
        }
        #expect(e?.code == .fork && e?.httpStatus == 409 && e?.value == "\(ca.replica):\(counter)", "\(String(describing: e))")
        #expect(e?.message.contains("Nội dung khác cùng số") == true)
        #expect(try hub.dump().json() == before)
        let forks = try hub.forks()
        #expect(forks.count == 1 && forks[0].origin == ca.replica && forks[0].counter == counter)
        #expect(forks[0].evidence.contains("\"theirs\"") && forks[0].evidence.contains("\"ours\""))
    }

    @Test("Given a replayed or revoked request, then the hub refuses it")
    func replayAndRevocation() throws {
        let hub = try Fixture.hub()
        let (a, ca) = try Fixture.replica(hub, unit: "VP")
        let service = HubSyncService(store: hub)
        let now = Int64(Date().timeIntervalSince1970)
        let body = try WireCodec.encode(
            SyncRequest(
                replica: ca.replica, versionVector: try a.versionVector(), batch: try a.ops(of: ca.replica, after: 0, limit: 100),
                machineKey: try a.machineKey()))
        let h = SyncAuth.signRequest(body: body, replica: ca.replica, key: ca.key, now: now)
        _ = try service.handle(headers: h, body: body, now: now)
        let replay = #expect(throws: SyncError.self) { try service.handle(headers: h, body: body, now: now) }
        #expect(replay?.httpStatus == 401)
        try hub.revoke(ca.replica)
        let h2 = SyncAuth.signRequest(body: body, replica: ca.replica, key: ca.key, now: now)
        let revoked = #expect(throws: SyncError.self) { try service.handle(headers: h2, body: body, now: now) }
        #expect(revoked?.httpStatus == 403)
    }

    @Test("Given bundles both ways, then a bundle-only replica converges and a bundle imported twice is refused and changes nothing")
    func bundles() async throws {
        let hub = try Fixture.hub()
        let (a, ca) = try Fixture.replica(hub, unit: "TTQLCK")
        let (u, cu) = try Fixture.replica(hub, unit: "VP")
        try Fixture.activity(a, unit: "TTQLCK", title: "Phát tờ rơi")
        _ = try await Fixture.client(a, ca, hub).run()
        try Fixture.activity(u, unit: "VP", title: "Hội nghị trực tuyến")
        let now = Int64(Date().timeIntervalSince1970)
        let service = HubSyncService(store: hub)
        let up = try SyncClient.exportBundle(store: u, credentials: cu, now: now)
        let imported = try service.importBundle(up.data, path: "up", now: now)
        #expect(imported.applied == up.ops)
        #expect(throws: SyncError.self) { try service.importBundle(up.data, path: "up", now: now) }
        let down = try service.exportBundle(for: cu.replica, now: now)
        try SyncClient.importBundle(down.data, path: "down", store: u, credentials: cu, now: now)
        let snapshot = try u.dump().json()
        #expect(throws: SyncError.self) { try SyncClient.importBundle(down.data, path: "down", store: u, credentials: cu, now: now) }
        #expect(try u.dump().json() == snapshot)
        _ = try await Fixture.client(a, ca, hub).run()
        #expect(try u.dump().json() == hub.dump().json())
        #expect(try a.dump().json() == hub.dump().json())
        // A bundle for another replica is refused.
        #expect(throws: SyncError.self) { try SyncClient.importBundle(down.data, path: "down", store: a, credentials: ca, now: now) }
    }
}

import Foundation
import SyncCore
import Testing

@Suite("Hub faults and bad input", .serialized)
struct HubFaultTests {
    /// A hub serving two replicas that have synced some activities.
    static func scenario(_ name: String) throws -> HubHarness {
        let h = try HubHarness.serving(name, replicas: [("a", "TTQLCK"), ("b", "CPCM-QLDTDN")])
        try h.addActivity("a", title: "Phát tờ rơi thủ tục hải quan")
        try h.addActivity("b", title: "Tập huấn dịch vụ công trực tuyến")
        try h.clientOK("a", "sync")
        try h.clientOK("b", "sync")
        try h.clientOK("a", "sync")
        return h
    }

    /// Writes `count` activities straight into a replica's database (fast, same code as the CLI).
    static func bulk(_ h: HubHarness, _ name: String, unit: String, count: Int) throws {
        let s = try ReplicaStore.open(path: h.db(name))
        for i in 0..<count {
            try Fixtures.writeActivity(
                s, unit: unit, date: "2026-04-0\(1 + i % 9)", form: "HT02", content: "ND0\(1 + i % 9)",
                title: "Tuyên truyền cải cách hành chính đợt \(i)", quantity: i % 7)
        }
    }

    func signedHeaders(_ h: HubHarness, _ name: String, body: Data, now: Int64 = Int64(Date().timeIntervalSince1970)) throws -> [String: String] {
        let e = try h.enrolment(name)
        return SyncAuth.signRequest(body: body, replica: e.replicaID, key: SyncAuth.key(fromSecret: e.secret), now: now)
    }

    @Test("Given bad requests, then each gets its 4xx JSON error, the hub's dump is unchanged and it keeps serving")
    func badRequests() async throws {
        let h = try Self.scenario("badreq")
        let before = try h.hubDump()
        let a = try h.enrolment("a")
        let s = try ReplicaStore.open(path: h.db("a"))
        let vv = try s.versionVector()
        let good = try WireCodec.encode(SyncRequest(replica: a.replicaID, versionVector: vv, machineKey: try s.machineKey()))

        // Unsigned, bad signature, old timestamp, unknown protocol version.
        var (status, json) = try await h.post(body: good, headers: ["x-cchc-protocol": String(SyncProtocol.version)])
        #expect(status == 401 && (json["error"] as? [String: Any])?["code"] as? String == "unauthorized")
        var headers = try signedHeaders(h, "a", body: good)
        headers[SyncProtocol.Header.signature] = String(repeating: "ab", count: 32)
        (status, json) = try await h.post(body: good, headers: headers)
        #expect(status == 401 && (json["error"] as? [String: Any])?["field"] as? String == "signature")
        (status, json) = try await h.post(body: good, headers: try signedHeaders(h, "a", body: good, now: Int64(Date().timeIntervalSince1970) - 3600))
        #expect(status == 401 && (json["error"] as? [String: Any])?["field"] as? String == "timestamp")
        headers = try signedHeaders(h, "a", body: good)
        headers[SyncProtocol.Header.protocolVersion] = "7"
        (status, json) = try await h.post(body: good, headers: headers)
        #expect(status == 400 && (json["error"] as? [String: Any])?["field"] as? String == "protocol")

        // Replay of a request that was accepted.
        headers = try signedHeaders(h, "a", body: good)
        (status, _) = try await h.post(body: good, headers: headers)
        #expect(status == 200)
        (status, json) = try await h.post(body: good, headers: headers)
        #expect(status == 401 && (json["error"] as? [String: Any])?["field"] as? String == "nonce")

        // Malformed (signed garbage) and oversized bodies.
        let garbage = Data("{\"not\": \"a sync message\"}".utf8)
        (status, json) = try await h.post(body: garbage, headers: try signedHeaders(h, "a", body: garbage))
        #expect(status == 400 && (json["error"] as? [String: Any])?["code"] as? String == "corrupt")
        let huge = Data(count: SyncProtocol.maxBodyBytes + 1024)
        (status, json) = try await h.post(body: huge, headers: try signedHeaders(h, "a", body: huge))
        #expect(status == 413 && json["error"] != nil, "oversized: \(status) \(json)")

        // A unit writing another unit's activity: refused whole, nothing applied.
        let theirs = try #require(try s.activities(unit: "CPCM-QLDTDN").first?.id)
        let mineNext = vv[a.replicaID] + 1
        let forged = [
            Op(
                dot: Dot(a.replicaID, mineNext), hlc: HLC(millis: UInt64(Date().timeIntervalSince1970 * 1000), logical: 0), record: theirs,
                field: "title", value: .text("Sửa hoạt động của đơn vị khác"), supersedes: [])
        ]
        let bad = try WireCodec.encode(
            SyncRequest(replica: a.replicaID, versionVector: vv, batch: try s.signOwnOpsUnchecked(forged), machineKey: try s.machineKey()))
        (status, json) = try await h.post(body: bad, headers: try signedHeaders(h, "a", body: bad))
        #expect(status == 403 && (json["error"] as? [String: Any])?["code"] as? String == "forbidden")
        // Ops signed by A but claiming to be B's.
        let b = try h.enrolment("b")
        let spoof = try WireCodec.encode(SyncRequest(replica: b.replicaID, versionVector: vv, machineKey: try s.machineKey()))
        (status, _) = try await h.post(body: spoof, headers: try signedHeaders(h, "a", body: spoof))
        #expect(status == 401 || status == 403)

        // A page over the protocol's op limit (5,000, plus at most one signed segment): a 400 JSON
        // error naming «ops», nothing applied.
        let oversized = (1...(SyncProtocol.maxPageOps + Int(SignedHead.spacing) + 1)).map { c in
            Op(
                dot: Dot(a.replicaID, UInt64(c) + vv[a.replicaID]), hlc: HLC(millis: 1_772_000_000_000, logical: 0),
                record: "HD.TTQLCK.\(a.replicaID).\(c)", field: "title", value: .text("Trang quá lớn"), supersedes: [])
        }
        let tooMany = try WireCodec.encode(
            SyncRequest(replica: a.replicaID, versionVector: vv, batch: OpBatch(ops: oversized), machineKey: try s.machineKey()))
        (status, json) = try await h.post(body: tooMany, headers: try signedHeaders(h, "a", body: tooMany))
        #expect(status == 400 && (json["error"] as? [String: Any])?["field"] as? String == "ops", "\(status) \(json)")

        // Unknown path: JSON 404.
        (status, json) = try await h.post(path: "/v1/nope", body: good, headers: [:])
        #expect(status == 404 && json["error"] != nil)

        // Revoked replica.
        try h.hubOK("revoke", a.replicaID.rawValue)
        (status, json) = try await h.post(body: good, headers: try signedHeaders(h, "a", body: good))
        #expect(status == 403)
        let r = try h.client("a", ["sync"])
        #expect(r.status == 4, "revoked sync exit: \(r.stderr)")

        #expect(try h.hubDump() == before)
        #expect(try await h.health() == 200)
        h.killHub(signal: SIGTERM)
    }

    @Test("Given damaged, cut, replayed, forged and revoked bundles, then each is refused with a non-zero exit and the hub's dump is unchanged")
    func badBundles() async throws {
        let h = try Self.scenario("badbundle")
        try h.addActivity("a", title: "Bài đăng Zalo về thủ tục mới")
        try h.clientOK("a", "bundle", "export", "--out", h.path("a.bundle"))
        let original = try Data(contentsOf: URL(fileURLWithPath: h.path("a.bundle")))
        let before = try h.hubDump()

        func refused(_ data: Data, _ why: String, exit: Int32) throws {
            let p = h.path("bad-\(UUID().uuidString.prefix(6)).bundle")
            try data.write(to: URL(fileURLWithPath: p))
            let r = try h.hub("bundle", "import", p)
            #expect(r.status == exit, "\(why): exit \(r.status) \(r.stderr)")
            #expect(r.stderr.hasPrefix("Lỗi:"), "\(why): \(r.stderr)")
            #expect(try h.hubDump() == before, "\(why)")
        }
        var flipped = [UInt8](original)
        flipped[flipped.count / 2] ^= 0x20
        try refused(Data(flipped), "one byte flipped in the payload", exit: 7)
        var header = [UInt8](original)
        if let i = header.firstIndex(of: UInt8(ascii: "T")) { header[i] = UInt8(ascii: "X") }
        try refused(Data(header), "one byte flipped in the signed header (unit)", exit: 4)
        try refused(original.prefix(original.count - 10), "truncated", exit: 7)
        // Forged: the same content under an HMAC made without the replica's key.
        let text = String(decoding: original, as: UTF8.self)
        let mac = try #require(text.range(of: #""hmac":"[0-9a-f]{64}""#, options: .regularExpression))
        let forgedMAC = (0..<64).map { _ in String("0123456789abcdef".randomElement()!) }.joined()
        var forged = original
        let macStart = text.utf8.distance(from: text.startIndex, to: mac.lowerBound) + 8
        forged.replaceSubrange(macStart..<(macStart + 64), with: Data(forgedMAC.utf8))
        try refused(forged, "forged", exit: 4)

        // The genuine bundle goes in once; the replay is refused.
        try h.hubOK("bundle", "import", h.path("a.bundle"))
        let after = try h.hubDump()
        #expect(after != before)
        let replay = try h.hub("bundle", "import", h.path("a.bundle"))
        #expect(replay.status == 4)
        #expect(try h.hubDump() == after)

        // A revoked replica's bundle.
        try h.addActivity("b", title: "Hội thảo")
        try h.clientOK("b", "bundle", "export", "--out", h.path("b.bundle"))
        try h.hubOK("revoke", try h.enrolment("b").replicaID.rawValue)
        let revoked = try h.hub("bundle", "import", h.path("b.bundle"))
        #expect(revoked.status == 4)
        #expect(try h.hubDump() == after)

        // A hub bundle imported twice on the replica: refused, nothing changes.
        try h.hubOK("bundle", "export", "--replica", try h.enrolment("a").replicaID.rawValue, "--out", h.path("a-down.bundle"))
        try h.clientOK("a", "bundle", "import", h.path("a-down.bundle"))
        let mine = try h.clientDump("a")
        #expect(try h.client("a", ["bundle", "import", h.path("a-down.bundle")]).status == 4)
        #expect(try h.clientDump("a") == mine)
        #expect(try await h.health() == 200)
        h.killHub(signal: SIGTERM)
    }

    @Test(
        "Given a hub SIGKILLed in the middle of a multi-page upload, when it restarts, then the client's retries finish and nothing is lost or duplicated"
    )
    func hubKilledMidSync() async throws {
        let h = try Self.scenario("hubkill")
        try Self.bulk(h, "a", unit: "TTQLCK", count: 300)
        let port = h.port
        let sync = try h.start(.unitClient, ["sync", "--page-size", "20", "--db", h.db("a")])
        // Wait until some pages have landed, then kill the hub hard.
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, !sync.stderrSoFar.contains("trang 3") { usleep(20_000) }
        h.killHub(signal: SIGKILL)
        usleep(300_000)
        try h.startHub(port: port)
        let done = sync.wait()
        #expect(done.status == 0, "sync after hub restart: \(done.stderr)")
        // The kill landed mid-sync: the client had to retry.
        let summary = done.out
        #expect(!summary.contains(", 0 lần thử lại"), "\(summary)")
        try h.clientOK("b", "sync")
        let hubDump = try h.hubDump()
        #expect(try h.clientDump("a") == hubDump)
        #expect(try h.clientDump("b") == hubDump)
        let hubOps = try ReplicaStore.open(path: h.hubDB).opCount()
        #expect(try ReplicaStore.open(path: h.db("a")).opCount() == hubOps)
        h.killHub(signal: SIGTERM)
    }

    @Test("Given a client SIGKILLed in the middle of a multi-page download, when it syncs again, then it resumes and converges")
    func clientKilledMidSync() async throws {
        let h = try Self.scenario("clientkill")
        try Self.bulk(h, "a", unit: "TTQLCK", count: 300)
        try h.clientOK("a", "sync")
        let sync = try h.start(.unitClient, ["sync", "--page-size", "30", "--db", h.db("b")])
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, !sync.stderrSoFar.contains("trang 4") { usleep(10_000) }
        sync.stop(signal: SIGKILL)
        let partial = try ReplicaStore.open(path: h.db("b")).opCount()
        let full = try ReplicaStore.open(path: h.hubDB).opCount()
        #expect(partial < full, "the kill came before the end of the download")
        try h.clientOK("b", "sync")
        #expect(try h.clientDump("b") == h.hubDump())
        #expect(try ReplicaStore.open(path: h.db("b")).opCount() == full)
        h.killHub(signal: SIGTERM)
    }

    @Test("Given the hub unreachable, when a client syncs, then it retries, fails with exit 8 and changes nothing; later it syncs normally")
    func connectionRefused() async throws {
        let h = try Self.scenario("down")
        try h.addActivity("a", title: "Niêm yết thủ tục")
        let port = h.port
        h.killHub(signal: SIGKILL)
        let mine = try h.clientDump("a")
        let r = try h.client("a", ["sync", "--attempts", "2"])
        #expect(r.status == 8, "\(r.stderr)")
        #expect(try h.clientDump("a") == mine)
        try h.startHub(port: port)
        try h.clientOK("a", "sync")
        #expect(try h.clientDump("a") == h.hubDump())
        h.killHub(signal: SIGTERM)
    }
}

@Suite("Hub link cut", .serialized)
struct HubLinkCutTests {
    @Test("Given a link that drops in the middle of answers, when a replica downloads many pages, then retries finish the sync with nothing lost")
    func connectionCut() async throws {
        let h = try HubFaultTests.scenario("linkcut")
        try HubFaultTests.bulk(h, "a", unit: "TTQLCK", count: 200)
        try h.clientOK("a", "sync")
        let proxy = try CuttingProxy(target: h.port, cutAfter: 2_000, cuts: 3)
        let r = try h.client("b", ["sync", "--hub", "http://127.0.0.1:\(proxy.port)", "--page-size", "50"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(proxy.cutsMade == 3)
        #expect(!r.out.contains(", 0 lần thử lại"), "\(r.out)")
        #expect(try h.clientDump("b") == h.hubDump())
        h.killHub(signal: SIGTERM)
    }
}

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

        // A page over the protocol's op limit for ops of another origin than the sender's (5,000,
        // plus at most one signed segment): a 400 JSON error naming «ops», nothing applied.
        let oversized = (1...(SyncProtocol.maxPageOps + Int(SignedHead.spacing) + 1)).map { c in
            Op(
                dot: Dot(b.replicaID, UInt64(c)), hlc: HLC(millis: 1_772_000_000_000, logical: 0),
                record: "HD.TTQLCK.\(b.replicaID).\(c)", field: "title", value: .text("Trang quá lớn"), supersedes: [])
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

    // MARK: Kills placed by the test-only fault hook (CCHC_FAULT), checked by what is transferred

    /// `--page-size` of the kill tests: a page holds at most this many of the bulk activities' ops
    /// (a page is cut only at a signed head: 64 to 90 ops measured), so 300 activities (2,100 ops)
    /// are about 30 pages, and "one page more" in a resumed sync is at most this many ops.
    static let pageSize = 100

    /// The environment that arms the test-only fault hook in one process.
    static func fault(_ value: String) -> [String: String] { [FaultHook.variable: value] }

    static func opCount(_ path: String) throws -> Int { try ReplicaStore.open(path: path).opCount() }

    /// `unit-client sync --json` on replica `name` (which must succeed): its summary's figures.
    static func syncJSON(_ h: HubHarness, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Int] {
        let r = try h.client(name, ["sync", "--json", "--page-size", String(pageSize)])
        #expect(r.status == 0, "sync --json: \(r)", sourceLocation: sourceLocation)
        let json = (try? JSONSerialization.jsonObject(with: r.stdout)) as? [String: Any] ?? [:]
        return json.compactMapValues { $0 as? Int }
    }

    /// The figures of the last progress line (`… trang N: đã gửi S, đã nhận R`) a sync wrote.
    static func lastPage(_ stderr: String) -> (page: Int, sent: Int, received: Int)? {
        stderr.split(separator: "\n").compactMap { line -> (page: Int, sent: Int, received: Int)? in
            guard let m = line.firstMatch(of: /trang (\d+): đã gửi (\d+), đã nhận (\d+)/), let p = Int(m.1), let s = Int(m.2), let r = Int(m.3)
            else { return nil }
            return (p, s, r)
        }.last
    }

    /// After a resumed sync and one more of the other replica: nothing lost, nothing twice. The
    /// hub holds exactly the ops written (`written`: the writer's own count, which has every op),
    /// and every replica's op count and dump are the hub's.
    static func checkConverged(_ h: HubHarness, written: Int, sourceLocation: SourceLocation = #_sourceLocation) throws {
        try h.clientOK("a", "sync", sourceLocation: sourceLocation)
        try h.clientOK("b", "sync", sourceLocation: sourceLocation)
        let hubOps = try opCount(h.hubDB)
        #expect(hubOps == written, "hub holds \(hubOps) ops, \(written) were written", sourceLocation: sourceLocation)
        let hubDump = try h.hubDump()
        for name in ["a", "b"] {
            #expect(try opCount(h.db(name)) == hubOps, "\(name)'s op count", sourceLocation: sourceLocation)
            #expect(try h.clientDump(name) == hubDump, "\(name)'s dump", sourceLocation: sourceLocation)
        }
        let activities = try JSONSerialization.jsonObject(with: Data(try h.clientOK("b", "activity", "list", "--json").utf8)) as? [Any]
        #expect(activities?.count == 302, "302 activities, each once: \(activities?.count ?? -1)", sourceLocation: sourceLocation)
    }

    @Test(
        "Given a client SIGKILLed right after committing download page 5 (CCHC_FAULT), when it syncs again, then it receives only what was left and converges"
    )
    func clientKilledAfterDownloadPage() async throws {
        let h = try Self.scenario("clientkill-down")
        try Self.bulk(h, "a", unit: "TTQLCK", count: 300)
        try h.clientOK("a", "sync")
        let written = try Self.opCount(h.db("a"))
        let before = try Self.opCount(h.db("b"))
        let lacked = written - before
        let killed = try h.client(
            "b", ["sync", "--page-size", String(Self.pageSize)], environment: Self.fault("client-kill-after-page:5"))
        #expect(killed.signal == SIGKILL && killed.stderr.contains("CCHC_FAULT=client-kill-after-page:5:"), "killed by its hook: \(killed)")
        // Exactly five pages were committed, and what they brought is in the database.
        let got = try Self.opCount(h.db("b")) - before
        let last = try #require(Self.lastPage(killed.stderr), "\(killed.stderr)")
        #expect(last.page == 5 && last.received == got, "\(killed.stderr)")
        #expect(got > 0 && got <= 5 * Self.pageSize, "five pages: \(got) ops")
        // What was left is measured from what the client said it had committed.
        let left = lacked - last.received
        let resumed = try Self.syncJSON(h, "b")
        let received = try #require(resumed["ops_received"], "\(resumed)")
        #expect(
            received >= left && received <= left + Self.pageSize,
            "resumed download: \(received) ops received, \(left) were left (at most one page more allowed): \(resumed)")
        #expect(resumed["received"] == left, "\(resumed)")
        #expect(resumed["ops_sent"] == 0, "\(resumed)")
        print("client killed after download page 5: \(got) ops committed, \(left) left; the resumed sync received \(received) ops: \(resumed)")
        try Self.checkConverged(h, written: written)
        h.killHub(signal: SIGTERM)
    }

    @Test(
        "Given a client SIGKILLed right after committing upload page 8 (CCHC_FAULT), when it syncs again, then it sends only what was left and nothing is lost or duplicated"
    )
    func clientKilledAfterUploadPage() async throws {
        let h = try Self.scenario("clientkill-up")
        try Self.bulk(h, "a", unit: "TTQLCK", count: 300)
        let written = try Self.opCount(h.db("a"))
        let hubBefore = try Self.opCount(h.hubDB)
        let unsent = written - hubBefore
        let killed = try h.client(
            "a", ["sync", "--page-size", String(Self.pageSize)], environment: Self.fault("client-kill-after-page:8"))
        #expect(killed.signal == SIGKILL, "killed by its hook: \(killed)")
        let atHub = try Self.opCount(h.hubDB) - hubBefore
        let last = try #require(Self.lastPage(killed.stderr), "\(killed.stderr)")
        #expect(last.page == 8 && last.sent == atHub, "\(killed.stderr)")
        #expect(atHub > 0 && atHub <= 8 * Self.pageSize, "eight pages: \(atHub) ops")
        // What was left is measured from what the client said the hub had acknowledged.
        let left = unsent - last.sent
        let resumed = try Self.syncJSON(h, "a")
        let sent = try #require(resumed["ops_sent"], "\(resumed)")
        #expect(
            sent >= left && sent <= left + Self.pageSize,
            "resumed upload: \(sent) ops sent, \(left) were left (at most one page more allowed): \(resumed)")
        #expect(resumed["sent"] == left, "\(resumed)")
        print("client killed after upload page 8: \(atHub) ops at the hub, \(left) left; the resumed sync sent \(sent) ops: \(resumed)")
        try Self.checkConverged(h, written: written)
        h.killHub(signal: SIGTERM)
    }

    /// Restarts the scenario's hub on its port with the fault hook armed.
    static func restartHub(_ h: HubHarness, fault value: String) throws {
        let port = h.port
        h.killHub(signal: SIGTERM)
        try h.startHub(port: port, environment: fault(value))
    }

    /// The client's run that meets the hub killed by its hook: with one attempt it fails at once
    /// with exit 8 (hub unreachable); the hub ended by SIGKILL. The test then restarts the hub.
    static func runIntoHubKill(_ h: HubHarness, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> ProcessResult {
        let port = h.port
        let r = try h.client(name, ["sync", "--page-size", String(pageSize), "--attempts", "1"])
        #expect(r.status == 8, "the sync whose reply was lost: \(r)", sourceLocation: sourceLocation)
        #expect(r.stderr.contains("Lỗi: ") && r.stderr.contains("hub"), "\(r.stderr)", sourceLocation: sourceLocation)
        let hub = h.waitForHubExit()
        #expect(
            hub?.signal == SIGKILL && hub?.stderr.contains("CCHC_FAULT=hub-kill-after-commit:") == true,
            "hub killed by its hook: \(hub.map { "\($0)" } ?? "not running")", sourceLocation: sourceLocation)
        try h.startHub(port: port)
        return r
    }

    @Test(
        "Given a hub SIGKILLed right after committing upload request 6, before replying (CCHC_FAULT), when it restarts and the client syncs again, then only what was left plus the lost page is sent"
    )
    func hubKilledAfterUploadCommit() async throws {
        let h = try Self.scenario("hubkill-up")
        try Self.bulk(h, "a", unit: "TTQLCK", count: 300)
        let written = try Self.opCount(h.db("a"))
        let hubBefore = try Self.opCount(h.hubDB)
        let unsent = written - hubBefore
        try Self.restartHub(h, fault: "hub-kill-after-commit:6")
        let failed = try Self.runIntoHubKill(h, "a")
        // The client committed five answers; the hub committed a sixth page whose answer was lost.
        let acked = try #require(Self.lastPage(failed.stderr), "\(failed.stderr)")
        let atHub = try Self.opCount(h.hubDB) - hubBefore
        #expect(acked.page == 5 && atHub > acked.sent, "hub has \(atHub) ops, the client saw \(acked.sent) acknowledged: \(failed.stderr)")
        #expect(atHub <= 6 * Self.pageSize, "six pages: \(atHub) ops")
        let left = unsent - atHub
        let resumed = try Self.syncJSON(h, "a")
        let sent = try #require(resumed["ops_sent"], "\(resumed)")
        #expect(
            sent >= left && sent <= left + Self.pageSize,
            "resumed upload: \(sent) ops sent, \(left) were left at the hub (at most the lost page more allowed): \(resumed)")
        #expect(resumed["sent"] == left, "the lost page is not applied twice: \(resumed)")
        print(
            "hub killed after upload request 6: the client saw \(acked.sent) ops acknowledged, the hub holds \(atHub), \(left) left; the resumed sync sent \(sent) ops: \(resumed)"
        )
        try Self.checkConverged(h, written: written)
        h.killHub(signal: SIGTERM)
    }

    @Test(
        "Given a hub SIGKILLed right after committing download request 6, before replying (CCHC_FAULT), when it restarts and the client syncs again, then it receives only what was left"
    )
    func hubKilledAfterDownloadCommit() async throws {
        let h = try Self.scenario("hubkill-down")
        try Self.bulk(h, "a", unit: "TTQLCK", count: 300)
        try h.clientOK("a", "sync")
        let written = try Self.opCount(h.db("a"))
        let before = try Self.opCount(h.db("b"))
        try Self.restartHub(h, fault: "hub-kill-after-commit:6")
        let failed = try Self.runIntoHubKill(h, "b")
        let got = try Self.opCount(h.db("b")) - before
        let last = try #require(Self.lastPage(failed.stderr), "\(failed.stderr)")
        #expect(last.page == 5 && last.received == got && got > 0, "five pages applied, the sixth lost: \(failed.stderr)")
        // What was left is measured from what the client said it had committed.
        let left = written - before - last.received
        let resumed = try Self.syncJSON(h, "b")
        let received = try #require(resumed["ops_received"], "\(resumed)")
        #expect(
            received >= left && received <= left + Self.pageSize,
            "resumed download: \(received) ops received, \(left) were left (at most one page more allowed): \(resumed)")
        #expect(resumed["received"] == left, "\(resumed)")
        print(
            "hub killed after download request 6: \(got) ops committed by the client, \(left) left; the resumed sync received \(received) ops: \(resumed)"
        )
        try Self.checkConverged(h, written: written)
        h.killHub(signal: SIGTERM)
    }

    @Test("Given a malformed CCHC_FAULT, then unit-client and hub refuse to run with exit 2 naming the variable and the value")
    func malformedFaultHook() async throws {
        let dir = try TempDir("fault-env")
        for bad in [
            "client-kill-after-page", "client-kill-after-page:0", "client-kill-after-page:-1", "client-kill-after-page:2x",
            "hub-kill-after-commit: 3", "hub-kill-after-commit:+3", "kill-after:3", "hub-kill-after-commit:3:1",
        ] {
            let c = try Run.unitClient(["init", "--unit", "TTQLCK", "--db", dir.path("u.sqlite")], in: dir.url, environment: Self.fault(bad))
            #expect(c.status == 2 && c.stderr.contains("CCHC_FAULT") && c.stderr.contains("«\(bad)»"), "unit-client with \(bad): \(c)")
            #expect(!FileManager.default.fileExists(atPath: dir.path("u.sqlite")), "nothing ran with \(bad)")
            let hub = try Run.hub(["init", "--db", dir.path("h.sqlite")], in: dir.url, environment: Self.fault(bad))
            #expect(hub.status == 2 && hub.stderr.hasPrefix("Lỗi: ") && hub.stderr.contains("«\(bad)»"), "hub with \(bad): \(hub)")
        }
        // A well-formed value for the other program is harmless; an empty one is off.
        let ok = try Run.unitClient(
            ["init", "--unit", "TTQLCK", "--db", dir.path("u.sqlite")], in: dir.url, environment: Self.fault("hub-kill-after-commit:1"))
        #expect(ok.status == 0, "\(ok)")
        #expect(try Run.hub(["init", "--db", dir.path("h.sqlite")], in: dir.url, environment: Self.fault("")).status == 0)
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

import Foundation
import SyncCore
import TestSupport
import Testing

/// A hub that accepts the connection and never answers (issue 13: "sync --timeout against a
/// stalled hub", "SIGTERM during a sync"): the client gives up with exit 8 after its timeout and
/// retries, or stops on SIGTERM, its replica intact; the next sync to the real hub sends everything.
@Suite("Hub treo: hết thời gian chờ, SIGTERM giữa lúc đồng bộ / a stalled hub", .serialized)
struct StalledHubTests {
    /// A listener on 127.0.0.1 that accepts every connection, reads nothing, answers nothing, and
    /// prints "accepted N" for each, so a test acts after the client is connected (not after a sleep).
    static func stalledListener() throws -> (process: RunningProcess, port: Int) {
        let python = try #require(Run.which("python3"), "python3 (CI installs it)")
        let script = """
            import socket, sys
            s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", 0)); s.listen(64)
            print("port", s.getsockname()[1], flush=True)
            held = []
            while True:
                c, _ = s.accept(); held.append(c)
                print("accepted", len(held), flush=True)
            """
        let p = try Run.start(python, ["-c", script])
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if let line = p.outSoFar.split(separator: "\n").first(where: { $0.hasPrefix("port ") }), let port = Int(line.dropFirst(5)) {
                return (p, port)
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        _ = p.stop(signal: SIGKILL)
        throw SyncError(.unavailable, "the stalled listener did not start", field: "listener")
    }

    static func waitForAccept(_ p: RunningProcess, count: Int) -> Bool {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if p.outSoFar.contains("accepted \(count)\n") { return true }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return false
    }

    @Test("sync --timeout: exit 8 naming the hub, nothing changed; then the real hub receives everything")
    func timeout() throws {
        let h = try HubHarness.serving("stalled", replicas: [("tt", "TTQLCK")])
        try Fixtures.addActivity(db: h.db("tt"), in: h.dir, form: "HT04", content: "ND05", date: "2026-02-10", title: "Tờ rơi", quantity: 100)
        let before = try h.clientOK("tt", "dump")
        let (listener, port) = try Self.stalledListener()
        defer { _ = listener.stop(signal: SIGKILL) }
        let stalled = "http://127.0.0.1:\(port)"
        let started = Date()
        let r = try h.client("tt", ["sync", "--hub", stalled, "--timeout", "1", "--attempts", "2"])
        let took = Date().timeIntervalSince(started)
        #expect(r.status == 8, "exit \(r.status): \(r.stderr)")
        #expect(r.stderr.hasPrefix("Lỗi: ") && r.stderr.contains("127.0.0.1:\(port)"), "\(r.stderr)")
        // It did wait for the hub (two attempts reached the listener) and did not hang (a bound far above 2 × 1 s).
        #expect(listener.outSoFar.contains("accepted 2"), "\(listener.outSoFar)")
        #expect(took < 120, "sync --timeout 1 took \(took) s")
        #expect(try h.clientOK("tt", "dump") == before)
        let good = try h.client("tt", ["sync", "--json"])
        #expect(good.status == 0, "\(good.stderr)")
        #expect(try h.hubOK("dump") == (try h.clientOK("tt", "dump")))
    }

    @Test("SIGTERM while a sync waits for the hub: the program stops, the replica verifies, the next sync completes")
    func sigtermDuringSync() throws {
        let h = try HubHarness.serving("sigterm", replicas: [("tt", "TTQLCK")])
        for i in 0..<5 {
            try Fixtures.addActivity(db: h.db("tt"), in: h.dir, form: "HT02", content: "ND01", date: "2026-03-0\(i + 1)", title: "Hội nghị \(i)")
        }
        let (listener, port) = try Self.stalledListener()
        defer { _ = listener.stop(signal: SIGKILL) }
        let sync = try Run.start(.unitClient, ["sync", "--db", h.db("tt"), "--hub", "http://127.0.0.1:\(port)", "--timeout", "120"], in: h.dir)
        // The client is connected and waiting for an answer: now, not after a guessed delay.
        #expect(Self.waitForAccept(listener, count: 1), "the client never reached the listener")
        let r = sync.stop(signal: SIGTERM)
        #expect(r.status != 0, "a sync stopped by SIGTERM must not report success: \(r.out)")
        let verify = try h.client("tt", ["verify"])
        #expect(verify.status == 0, "\(verify.out) \(verify.stderr)")
        let good = try h.client("tt", ["sync"])
        #expect(good.status == 0, "\(good.stderr)")
        #expect(try h.hubOK("dump") == (try h.clientOK("tt", "dump")))
    }
}

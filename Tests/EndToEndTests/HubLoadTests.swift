import Foundation
import SyncCore
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Posts over HTTP to the real server and records each exchange's latency.
final class TimedTransport: SyncTransport, @unchecked Sendable {
    let url: URL
    let session: URLSession
    private let lock = NSLock()
    private var samples: [Double] = []

    init(port: Int, session: URLSession) {
        url = URL(string: "http://127.0.0.1:\(port)\(SyncProtocol.path)")!
        self.session = session
    }

    var latencies: [Double] { lock.withLock { samples } }

    func post(body: Data, headers: [String: String]) async throws -> TransportResponse {
        var req = URLRequest(url: url)
        req.httpMethod = "POST"
        req.httpBody = body
        req.timeoutInterval = 120
        for (k, v) in headers { req.setValue(v, forHTTPHeaderField: k) }
        let t0 = Date()
        let (data, resp) = try await session.data(for: req)
        let dt = Date().timeIntervalSince(t0)
        lock.withLock { samples.append(dt) }
        let http = resp as? HTTPURLResponse
        var h: [String: String] = [:]
        for (k, v) in http?.allHeaderFields ?? [:] { if let k = k as? String, let v = v as? String { h[k.lowercased()] = v } }
        return TransportResponse(status: http?.statusCode ?? 0, headers: h, body: data)
    }
}

@Suite("Hub load", .serialized)
struct HubLoadTests {
    @Test("Given 50 replicas with fresh work, when all sync at once against one real hub, then there are zero errors and all converge")
    func fiftyReplicasAtOnce() async throws {
        let h = try HubHarness("load")
        try h.startHub()
        let hubStore = try ReplicaStore.open(path: h.hubDB)
        let units = ["VP", "CPCM-QLDTDN", "CPCM-QHXDMT", "TTQLCK"]
        var replicas: [(ReplicaStore, HubCredentials)] = []
        for i in 0..<50 {
            let unit = units[i % units.count]
            let (s, credentials) = try Fixtures.enrolledInMemory(by: hubStore, unit: unit, hubURL: h.url, label: "load\(i)")
            for k in 0..<3 {
                try Fixtures.writeActivity(
                    s, unit: unit, date: "2026-05-1\(k)", form: "HT03", content: "ND02", title: "Hoạt động \(k) của bản sao \(i)", quantity: 2)
            }
            replicas.append((s, credentials))
        }
        let config = URLSessionConfiguration.ephemeral
        config.httpMaximumConnectionsPerHost = 64
        let transport = TimedTransport(port: h.port, session: URLSession(configuration: config))
        let started = Date()
        let failures = await withTaskGroup(of: String?.self) { group in
            for (s, c) in replicas {
                group.addTask {
                    var client = SyncClient(store: s, credentials: c, hubURL: c.hubURL, transport: transport)
                    client.retry = RetryPolicy(attempts: 1)
                    do {
                        _ = try await client.run()
                        return nil
                    } catch {
                        return "\(c.replica): \(error)"
                    }
                }
            }
            var out: [String] = []
            for await f in group { if let f { out.append(f) } }
            return out
        }
        let wall = Date().timeIntervalSince(started)
        #expect(failures.isEmpty, "\(failures)")
        let l = transport.latencies.sorted()
        let p50 = l[l.count / 2] * 1000
        let p99 = l[min(l.count - 1, Int(Double(l.count) * 0.99))] * 1000
        let server = h.serverLatencies().sorted()
        let s50 = server.isEmpty ? 0 : server[server.count / 2] * 1000
        let s99 = server.isEmpty ? 0 : server[min(server.count - 1, Int(Double(server.count) * 0.99))] * 1000
        // Client-observed latency includes waiting for this test process's own threads, busy
        // applying 50 answers; the hub's own time per page is the server-side figure.
        print(
            String(
                format:
                    "load: 50 replicas, %d requests in %.2f s, zero errors; client-observed p50 %.1f ms, p99 %.1f ms; hub p50 %.1f ms, p99 %.1f ms",
                l.count, wall, p50, p99, s50, s99))
        #expect(server.count == l.count)
        // A second round brings everyone everything; then all agree with the hub.
        for (s, c) in replicas {
            _ = try await SyncClient(store: s, credentials: c, hubURL: c.hubURL, transport: transport).run()
        }
        let hubDump = try hubStore.dump().json()
        for (s, _) in replicas { #expect(try s.dump().json() == hubDump) }
        #expect(try await h.health() == 200)
        h.killHub(signal: SIGTERM)
    }
}

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
    @Test(
        "Given 50 replicas with fresh work, when all sync at once against one real hub (retrying what may pass), then every sync succeeds, no op is lost and all converge"
    )
    func fiftyReplicasAtOnce() async throws {
        let h = try HubHarness("load")
        try h.startHub()
        let hubStore = try ReplicaStore.open(path: h.hubDB)
        let hubBefore = try hubStore.opCount()
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
        // What each replica wrote: its own ops, all of which must reach the hub.
        var written: [ReplicaID: UInt64] = [:]
        for (s, c) in replicas { written[c.replica] = try s.versionVector()[c.replica] }
        let started = Date()
        // The default retry policy: a 503 from the hub's sync gate or a dropped connection is
        // retried with backoff, as `unit-client sync` does; a sync that still fails is an error.
        let outcomes = await withTaskGroup(of: (String?, Int).self) { group in
            for (s, c) in replicas {
                group.addTask {
                    let client = SyncClient(store: s, credentials: c, hubURL: c.hubURL, transport: transport)
                    do {
                        return (nil, try await client.run().retries)
                    } catch {
                        return ("\(c.replica): \(error)", 0)
                    }
                }
            }
            var out: [(String?, Int)] = []
            for await o in group { out.append(o) }
            return out
        }
        let wall = Date().timeIntervalSince(started)
        let failures = outcomes.compactMap(\.0)
        let retries = outcomes.map(\.1).reduce(0, +)
        #expect(failures.isEmpty, "\(failures)")
        // Zero ops lost: the hub holds every op each replica wrote, and nothing else.
        let hubVector = try hubStore.versionVector()
        for (replica, count) in written.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            #expect(hubVector[replica] == count, "hub holds \(replica):\(hubVector[replica]) of \(count)")
        }
        let expected = hubBefore + written.values.reduce(0) { $0 + Int($1) }
        let hubOps = try hubStore.opCount()
        #expect(hubOps == expected, "hub op count: \(hubOps), written \(expected)")
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
                    "load: 50 replicas, %d requests (%d retries) in %.2f s, %d errors; client-observed p50 %.1f ms, p99 %.1f ms; hub p50 %.1f ms, p99 %.1f ms",
                l.count, retries, wall, failures.count, p50, p99, s50, s99))
        // A second round brings everyone everything; then all agree with the hub.
        for (s, c) in replicas {
            _ = try await SyncClient(store: s, credentials: c, hubURL: c.hubURL, transport: transport).run()
        }
        let hubDump = try hubStore.dump().json()
        for (s, c) in replicas {
            #expect(try s.dump().json() == hubDump, "\(c.replica)'s dump")
            #expect(try s.opCount() == expected, "\(c.replica)'s op count")
        }
        #expect(try await h.health() == 200)
        h.killHub(signal: SIGTERM)
    }
}

import Foundation
import SyncCore
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Connection hardening of `hub serve`, against the real executable on 127.0.0.1: idle and
/// half-sent connections are closed, a full hub makes room by closing its oldest idle connection,
/// and concurrent maximum-size pages keep the hub's memory bounded. Loops are bounded in count
/// and time; waits are generous (a 2-core machine), the assertions are on behaviour.
@Suite("Connection hardening", .serialized)
struct HubHardeningTests {
    /// A TCP connection to 127.0.0.1:`port` that sent `bytes` and nothing more (nil if it could not
    /// connect within 10 s).
    static func rawConnection(port: Int, sending bytes: String) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var tv = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let ok = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard ok == 0 else {
            close(fd)
            return nil
        }
        if !bytes.isEmpty { _ = bytes.withCString { send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) } }
        return fd
    }

    /// Whether the peer closed `fd` (EOF or reset) within `seconds`.
    static func closedByPeer(_ fd: Int32, within seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        var buf = [UInt8](repeating: 0, count: 4096)
        while Date() < deadline {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&p, 1, 500)
            if ready > 0 {
                let n = recv(fd, &buf, buf.count, Int32(MSG_DONTWAIT))
                if n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) { return true }
            }
        }
        return false
    }

    /// The test process needs more descriptors than the hub it loads.
    static func raiseOwnFileLimit(to wanted: rlim_t) {
        var l = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &l) == 0, l.rlim_cur < wanted else { return }
        l.rlim_cur = min(wanted, l.rlim_max)
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &l)
    }

    /// `/proc/PID/status` field (kB), e.g. VmHWM (peak RSS), VmRSS.
    static func procStatus(_ pid: Int32, _ field: String) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        let line = text.split(separator: "\n").first { $0.hasPrefix(field + ":") }
        return line.flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") }
    }

    static func openFiles(_ pid: Int32) -> Int { (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? -1 }

    /// GET /health on a new raw connection (no client library in the way); (status, seconds),
    /// status 0 when no answer came within 20 s.
    static func timedHealth(port: Int) -> (Int, Double) {
        let started = Date()
        guard let fd = rawConnection(port: port, sending: "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n") else {
            return (0, Date().timeIntervalSince(started))
        }
        defer { close(fd) }
        var tv = timeval(tv_sec: 20, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var answer = [UInt8]()
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = recv(fd, &buf, buf.count, 0)
            if n <= 0 { break }
            answer += buf[0..<n]
            if answer.count > 12, String(decoding: answer, as: UTF8.self).contains("\"status\"") { break }
        }
        let seconds = Date().timeIntervalSince(started)
        let line = String(decoding: answer.prefix(12), as: UTF8.self)
        return (line.hasPrefix("HTTP/1.1 ") ? Int(line.dropFirst(9).prefix(3)) ?? 0 : 0, seconds)
    }

    @Test(
        "Given a hub limited to 1024 open files and 1,100 connections that sent half a header, then /health answers at once and a real unit-client sync succeeds; the hub stays under its file limit"
    )
    func halfSentConnectionsUnderLowFileLimit() async throws {
        Self.raiseOwnFileLimit(to: 4096)
        let h = try HubHarness("idle")
        try h.startHub(fileLimit: 1024)
        try h.replica("a", unit: "TTQLCK")
        let id = try h.addActivity("a", title: "Đồng bộ khi hub bị nhiều kết nối treo")
        let pid = try #require(h.server?.processIdentifier)
        // The hub itself is the process started through `sh -c '…; exec hub'`.
        let limits = try String(contentsOfFile: "/proc/\(pid)/limits", encoding: .utf8)
        #expect(limits.split(separator: "\n").contains { $0.hasPrefix("Max open files") && $0.contains(" 1024 ") }, "\(limits)")

        var fds: [Int32] = []
        defer { for fd in fds { close(fd) } }
        let opening = Date()
        for _ in 0..<1100 where Date().timeIntervalSince(opening) < 120 {
            if let fd = Self.rawConnection(port: h.port, sending: "POST /v1/sync HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le") { fds.append(fd) }
        }
        #expect(fds.count == 1100, "connected \(fds.count) of 1100")
        #expect(h.server?.isRunning == true, "hub: \(h.server?.stderrSoFar.suffix(2000) ?? "")")

        // Right after the burst (the hub may still be accepting it), then once it has settled.
        let (status, seconds) = Self.timedHealth(port: h.port)
        #expect(status == 200, "/health right after 1,100 half-sent connections: \(status) after \(seconds) s")
        usleep(1_000_000)
        let (settledStatus, settled) = Self.timedHealth(port: h.port)
        #expect(settledStatus == 200, "/health beside 1,100 half-sent connections: \(settledStatus) after \(settled) s")
        #expect(seconds < 5 && settled < 5, "/health took \(seconds) s, then \(settled) s")
        print(
            "halfSent: /health answered \(status) in \(String(format: "%.3f", seconds)) s right after 1,100 half-sent connections, \(settledStatus) in \(String(format: "%.3f", settled)) s a second later"
        )

        let synced = try h.client("a", ["sync", "--attempts", "3", "--timeout", "20"])
        #expect(synced.status == 0, "\(synced)")
        #expect(try h.hubDump().contains(id))
        let open = Self.openFiles(pid)
        #expect(open > 0 && open < 1024, "hub has \(open) open files")
        print("halfSent: hub holds \(open) open files (limit 1024); sync exit \(synced.status)")
        // The oldest idle connections were closed to make room: some of ours see their end.
        let closedEarly = fds.prefix(200).filter { Self.closedByPeer($0, within: 0.01) }.count
        #expect(closedEarly > 0, "no early connection was closed to make room")
    }

    @Test(
        "Given --idle-timeout 3, then a silent connection, one with half a header and one with half a body are closed by the hub, which keeps serving"
    )
    func idleTimeout() async throws {
        let h = try HubHarness("idle-timeout")
        try h.startHub(extra: ["--idle-timeout", "3"])
        let started = Date()
        let silent = try #require(Self.rawConnection(port: h.port, sending: ""))
        let halfHeader = try #require(Self.rawConnection(port: h.port, sending: "GET /health HTTP/1.1\r\nHo"))
        let halfBody = try #require(
            Self.rawConnection(port: h.port, sending: "POST /v1/sync HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\nabc"))
        defer { for fd in [silent, halfHeader, halfBody] { close(fd) } }
        for (name, fd) in [("silent", silent), ("half header", halfHeader), ("half body", halfBody)] {
            #expect(Self.closedByPeer(fd, within: 60), "\(name) connection still open after 60 s")
        }
        let elapsed = Date().timeIntervalSince(started)
        #expect(elapsed >= 2, "closed after \(elapsed) s, before the 3 s timeout")
        print("idleTimeout: three stalled connections closed after \(String(format: "%.1f", elapsed)) s (--idle-timeout 3)")
        // The hub still serves.
        #expect(Self.timedHealth(port: h.port).0 == 200)
        let bad = try h.hub("serve", "--port", "0", "--idle-timeout", "0")
        #expect(bad.status == 2 && bad.stderr.contains("«idle_timeout»"), "\(bad)")
    }

    /// A signed page of `SyncProtocol.maxPageOps` ops that inflates to about 60 MB (the protocol
    /// allows 64) and is sent as about 6.5 MB (it allows 8): the most a sender can make the hub
    /// read and decode. It names another replica than the signer, so the hub decodes all of it and
    /// then refuses it (403) without writing anything.
    static func maximumPage(signer: ReplicaID, vector: VersionVector, key: MachineKey?) throws -> Data {
        var rng = SystemRandomNumberGenerator()
        let filler = String(repeating: "Phát tờ rơi tại cửa khẩu Hữu Nghị. ", count: 220)
        let hex = Array("0123456789abcdef".utf8)
        let ops = (1...SyncProtocol.maxPageOps).map { c in
            // 2,000 random hex digits (what deflate cannot shrink much) and 10 KB it can.
            var digits = [UInt8](repeating: 0, count: 2_000)
            for i in stride(from: 0, to: digits.count, by: 16) {
                var r = rng.next()
                for j in 0..<16 {
                    digits[i + j] = hex[Int(r & 15)]
                    r >>= 4
                }
            }
            let noise = String(decoding: digits, as: UTF8.self)
            return Op(
                dot: Dot(signer, UInt64(c)), hlc: HLC(millis: 1_772_000_000_000, logical: 0), record: "HD.TTQLCK.\(signer).\(c)", field: "title",
                value: .text(noise + filler), supersedes: [])
        }
        return try WireCodec.encode(SyncRequest(replica: .random(), versionVector: vector, batch: OpBatch(ops: ops), machineKey: key))
    }

    @Test(
        "Given 48 concurrent maximum-size pages, then the hub's peak RSS stays at most 300 MB, each page gets a JSON answer (403 refused or 503 busy), and a real sync succeeds after"
    )
    func concurrentMaximumPages() async throws {
        Self.raiseOwnFileLimit(to: 4096)
        let h = try HubHarness("rss")
        try h.startHub()
        try h.replica("a", unit: "TTQLCK")
        let e = try h.enrolment("a")
        let s = try ReplicaStore.open(path: h.db("a"))
        let body = try Self.maximumPage(signer: e.replicaID, vector: try s.versionVector(), key: try s.machineKey())
        try s.close()
        #expect(body.count <= SyncProtocol.maxBodyBytes && body.count > SyncProtocol.maxBodyBytes / 2, "page of \(body.count) bytes")
        let pid = try #require(h.server?.processIdentifier)
        let idleRSS = Self.procStatus(pid, "VmHWM") ?? 0

        let config = URLSessionConfiguration.ephemeral
        config.httpMaximumConnectionsPerHost = 64
        config.timeoutIntervalForRequest = 240
        config.timeoutIntervalForResource = 240
        let session = URLSession(configuration: config)
        let url = URL(string: h.url + SyncProtocol.path)!
        let key = HubCredentials(enrolment: e).key
        let started = Date()
        let statuses: [(Int, String)] = await withTaskGroup(of: (Int, String).self) { group in
            for _ in 0..<48 {
                group.addTask {
                    var req = URLRequest(url: url)
                    req.httpMethod = "POST"
                    req.httpBody = body
                    req.setValue(SyncProtocol.mediaType, forHTTPHeaderField: "Content-Type")
                    for (k, v) in SyncAuth.signRequest(body: body, replica: e.replicaID, key: key, now: Int64(Date().timeIntervalSince1970)) {
                        req.setValue(v, forHTTPHeaderField: k)
                    }
                    guard let (data, resp) = try? await session.data(for: req) else { return (0, "") }
                    let code = ((try? JSONSerialization.jsonObject(with: data)) as? [String: Any]).flatMap {
                        ($0["error"] as? [String: Any])?["code"] as? String
                    }
                    return ((resp as? HTTPURLResponse)?.statusCode ?? 0, code ?? "")
                }
            }
            var out: [(Int, String)] = []
            for await r in group { out.append(r) }
            return out
        }
        let seconds = Date().timeIntervalSince(started)
        let peak = Self.procStatus(pid, "VmHWM") ?? 0
        let refused: Int = statuses.filter { $0.0 == 403 && $0.1 == "forbidden" }.count
        let busy: Int = statuses.filter { $0.0 == 503 && $0.1 == "unavailable" }.count
        print(
            "concurrentMaximumPages: 48 pages of \(body.count) bytes in \(String(format: "%.1f", seconds)) s: \(refused) refused (403), \(busy) busy (503), others \(statuses.filter { $0.0 != 403 && $0.0 != 503 }); hub VmHWM \(idleRSS / 1024) MB before, \(peak / 1024) MB after"
        )
        #expect(refused + busy == 48, "answers: \(statuses)")
        #expect(refused > 0, "no page was decoded at all: \(statuses)")
        #expect(peak > 0 && peak <= 300 * 1024, "hub peak RSS \(peak / 1024) MB")
        #expect(h.server?.isRunning == true)
        #expect(Self.timedHealth(port: h.port).0 == 200)
        let id = try h.addActivity("a", title: "Đồng bộ sau tải lớn")
        #expect(try h.client("a", ["sync"]).status == 0)
        #expect(try h.hubDump().contains(id))
    }
}

import Foundation
import SyncCore
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Runs the built `hub` and `unit-client` executables in a scratch folder: real processes on
/// 127.0.0.1, as an operator would run them.
final class HubHarness: @unchecked Sendable {
    let dir: URL
    var server: Process?
    var serverTag = ""
    var port = 0
    var hubDB: String { dir.appendingPathComponent("hub.sqlite").path }
    var url: String { "http://127.0.0.1:\(port)" }

    init(_ name: String) throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("cchc-\(name)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try hubOK("init")
    }

    deinit {
        if let server, server.isRunning { kill(server.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(at: dir)
    }

    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    struct Result {
        var status: Int32
        var out: String
        var err: String
    }

    /// Starts `exe` with stdout and stderr going to files (no pipe can fill up and block it).
    func start(_ exe: String, _ args: [String], tag: String) throws -> Process {
        let p = Process()
        p.executableURL = Executables.url(exe)
        p.arguments = args
        p.currentDirectoryURL = dir
        _ = FileManager.default.createFile(atPath: path("\(tag).out"), contents: nil)
        _ = FileManager.default.createFile(atPath: path("\(tag).err"), contents: nil)
        p.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: path("\(tag).out")))
        p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: path("\(tag).err")))
        try p.run()
        return p
    }

    func read(_ tag: String) -> (String, String) {
        (
            (try? String(contentsOfFile: path("\(tag).out"), encoding: .utf8)) ?? "",
            (try? String(contentsOfFile: path("\(tag).err"), encoding: .utf8)) ?? ""
        )
    }

    @discardableResult
    func run(_ exe: String, _ args: [String]) throws -> Result {
        let tag = "run-\(UUID().uuidString.prefix(8))"
        let p = try start(exe, args, tag: tag)
        p.waitUntilExit()
        let (o, e) = read(tag)
        return Result(status: p.terminationStatus, out: o, err: e)
    }

    func hub(_ args: String...) throws -> Result { try run("hub", args + ["--db", hubDB]) }

    @discardableResult
    func hubOK(_ args: String...) throws -> String {
        let r = try run("hub", args + ["--db", hubDB])
        #expect(r.status == 0, "hub \(args): \(r.err)")
        return r.out
    }

    func client(_ replica: String, _ args: [String]) throws -> Result {
        try run("unit-client", args + ["--db", path("\(replica).sqlite")])
    }

    @discardableResult
    func clientOK(_ replica: String, _ args: String...) throws -> String {
        let r = try client(replica, args)
        #expect(r.status == 0, "unit-client \(replica) \(args): \(r.err)")
        return r.out
    }

    /// `hub serve` on 127.0.0.1; port 0 lets the system choose, read back from stdout.
    func startHub(port wanted: Int = 0) throws {
        let tag = "serve-\(UUID().uuidString.prefix(6))"
        serverTag = tag
        server = try start("hub", ["serve", "--host", "127.0.0.1", "--port", String(wanted), "--db", hubDB], tag: tag)
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            let (out, err) = read(tag)
            if let line = out.split(separator: "\n").first(where: { $0.hasPrefix("listening on ") }), let p = line.split(separator: ":").last,
                let n = Int(p)
            {
                port = n
                return
            }
            if server?.isRunning == false { throw HarnessError("hub serve exited: \(err)") }
            usleep(50_000)
        }
        throw HarnessError("hub serve did not report its port")
    }

    /// The hub's own time per sync page (the `ms=` of its `sync.page` log lines), in seconds.
    func serverLatencies() -> [Double] {
        read(serverTag).1.split(separator: "\n").filter { $0.contains("sync.page") }.compactMap { line in
            guard let r = line.range(of: "ms=") else { return nil }
            return Double(line[r.upperBound...].prefix { $0.isNumber }).map { $0 / 1000 }
        }
    }

    /// Stops the hub with `signal` and returns how it ended (its exit status, or the signal).
    @discardableResult
    func killHub(signal: Int32 = SIGKILL) -> Int32 {
        guard let server else { return -1 }
        kill(server.processIdentifier, signal)
        server.waitUntilExit()
        self.server = nil
        return server.terminationStatus
    }

    /// Enrols and initialises a replica named `name` for `unit`; returns its replica id.
    @discardableResult
    func replica(_ name: String, unit: String) throws -> String {
        try hubOK("enrol", "--unit", unit, "--out", path("\(name).enrol"), "--url", url)
        try clientOK(name, "init", "--enrolment", path("\(name).enrol"), "--label", name)
        return try enrolment(name).replicaID.rawValue
    }

    func enrolment(_ name: String) throws -> EnrolmentFile { try EnrolmentFile.read(path: path("\(name).enrol")) }

    @discardableResult
    func addActivity(_ name: String, title: String, date: String = "2026-03-02", form: String = "HT01") throws -> String {
        let out = try clientOK(name, "activity", "add", "--form", form, "--content", "ND05", "--date", date, "--title", title, "--quantity", "1")
        return String(out.split(separator: "\n").last ?? "")
    }

    func hubDump() throws -> String { try hubOK("dump") }
    func clientDump(_ name: String) throws -> String { try clientOK(name, "dump") }

    /// One raw HTTP exchange, for requests no honest client would send.
    func post(path p: String = SyncProtocol.path, body: Data, headers: [String: String]) async throws -> (Int, [String: Any]) {
        var req = URLRequest(url: URL(string: url + p)!)
        req.httpMethod = "POST"
        req.httpBody = body
        for (k, v) in headers { req.setValue(v, forHTTPHeaderField: k) }
        let (data, resp) = try await URLSession.shared.data(for: req)
        let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        return ((resp as? HTTPURLResponse)?.statusCode ?? 0, json)
    }

    func health() async throws -> Int {
        let (_, resp) = try await URLSession.shared.data(from: URL(string: url + "/health")!)
        return (resp as? HTTPURLResponse)?.statusCode ?? 0
    }
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

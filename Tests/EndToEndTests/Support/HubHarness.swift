import Foundation
import SyncCore
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A hub and its replicas in a scratch folder, run through the built `hub` and `unit-client`
/// (with `Run`): real processes on 127.0.0.1, as an operator would run them. Replica `name`
/// lives in `name.sqlite`, its enrolment in `name.enrol`.
final class HubHarness: @unchecked Sendable {
    let folder: TempDir
    var dir: URL { folder.url }
    var server: RunningProcess?
    var port = 0
    var hubDB: String { path("hub.sqlite") }
    /// `https` once `startHub` was given a certificate.
    var scheme = "http"
    var url: String { "\(scheme)://127.0.0.1:\(port)" }

    /// A hub database (`hub init`), not yet serving.
    init(_ name: String) throws {
        folder = try TempDir(name)
        try hubOK("init")
    }

    /// A copy of the hub database `file` (e.g. the previous release's), not yet serving.
    init(_ name: String, copyingHub file: URL) throws {
        folder = try TempDir(name)
        try FileManager.default.copyItem(at: file, to: URL(fileURLWithPath: hubDB))
    }

    /// The fixture most hub tests start from: a hub serving on 127.0.0.1 with one replica per
    /// `(name, unit)`, each enrolled and initialised through the CLIs.
    static func serving(_ name: String, replicas: [(name: String, unit: String)]) throws -> HubHarness {
        let h = try HubHarness(name)
        try h.startHub()
        for r in replicas { try h.replica(r.name, unit: r.unit) }
        return h
    }

    deinit { server?.stop(signal: SIGKILL) }

    func path(_ name: String) -> String { folder.path(name) }
    func db(_ replica: String) -> String { path("\(replica).sqlite") }

    /// Starts `tool args…` in the scratch folder without waiting; `environment` adds to the test's.
    func start(_ tool: Run.Tool, _ args: [String], environment: [String: String] = [:]) throws -> RunningProcess {
        try Run.start(tool, args, in: dir, environment: environment)
    }

    func hub(_ args: String...) throws -> ProcessResult { try Run.hub(args + ["--db", hubDB], in: dir) }

    @discardableResult
    func hubOK(_ args: String..., sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        try Run.ok(.hub, args + ["--db", hubDB], in: dir, sourceLocation: sourceLocation).out
    }

    func client(_ replica: String, _ args: [String], environment: [String: String] = [:]) throws -> ProcessResult {
        try Run.unitClient(args + ["--db", db(replica)], in: dir, environment: environment)
    }

    @discardableResult
    func clientOK(_ replica: String, _ args: String..., sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        try Run.ok(.unitClient, args + ["--db", db(replica)], in: dir, sourceLocation: sourceLocation).out
    }

    /// `hub serve` on 127.0.0.1; port 0 lets the system choose, read back from stdout. `extra`:
    /// more `hub serve` options; `fileLimit`: started through `sh -c 'ulimit -n N; exec hub …'`;
    /// `environment`: added to the hub's (e.g. the test-only `CCHC_FAULT`).
    func startHub(port wanted: Int = 0, extra: [String] = [], fileLimit: Int? = nil, environment: [String: String] = [:]) throws {
        let args = ["serve", "--host", "127.0.0.1", "--port", String(wanted), "--db", hubDB] + extra
        if extra.contains("--tls-cert") { scheme = "https" }
        let s: RunningProcess
        if let fileLimit {
            let hub = try Run.Tool.hub.executable()
            s = try Run.start(
                URL(fileURLWithPath: "/bin/sh"), ["-c", "ulimit -n \(fileLimit) && exec \"$0\" \"$@\"", hub.path] + args, in: dir,
                environment: environment)
        } else {
            s = try start(.hub, args, environment: environment)
        }
        server = s
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if let line = s.outSoFar.split(separator: "\n").first(where: { $0.hasPrefix("listening on ") }), let p = line.split(separator: ":").last,
                let n = Int(p)
            {
                port = n
                return
            }
            if !s.isRunning { throw HarnessError("hub serve exited: \(s.stderrSoFar)") }
            usleep(50_000)
        }
        throw HarnessError("hub serve did not report its port")
    }

    /// The hub's own time per sync page (the `ms=` of its `sync.page` log lines), in seconds.
    func serverLatencies() -> [Double] {
        (server?.stderrSoFar ?? "").split(separator: "\n").filter { $0.contains("sync.page") }.compactMap { line in
            guard let r = line.range(of: "ms=") else { return nil }
            return Double(line[r.upperBound...].prefix { $0.isNumber }).map { $0 / 1000 }
        }
    }

    /// Waits for the hub to end by itself (e.g. killed by its `CCHC_FAULT` hook) and returns how it ended.
    @discardableResult
    func waitForHubExit() -> ProcessResult? {
        guard let server else { return nil }
        self.server = nil
        return server.wait()
    }

    /// Stops the hub with `signal` and returns how it ended (its exit status, or the signal).
    @discardableResult
    func killHub(signal: Int32 = SIGKILL) -> Int32 {
        guard let server else { return -1 }
        self.server = nil
        return server.stop(signal: signal).status
    }

    /// Enrols (`hub enrol`) and initialises (`unit-client init --enrolment`) a replica named
    /// `name` for `unit`; returns its replica id.
    @discardableResult
    func replica(_ name: String, unit: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        try hubOK("enrol", "--unit", unit, "--out", path("\(name).enrol"), "--url", url, sourceLocation: sourceLocation)
        try clientOK(name, "init", "--enrolment", path("\(name).enrol"), "--label", name, sourceLocation: sourceLocation)
        let e = try enrolment(name)
        #expect(e.unit == unit, "hub enrol --unit \(unit) wrote an enrolment for \(e.unit)", sourceLocation: sourceLocation)
        return e.replicaID.rawValue
    }

    func enrolment(_ name: String) throws -> EnrolmentFile { try EnrolmentFile.read(path: path("\(name).enrol")) }

    /// Adds an activity on replica `name` (see `Fixtures.addActivity`); returns its id.
    @discardableResult
    func addActivity(
        _ name: String, title: String, date: String = "2026-03-02", form: String = "HT01", sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> String {
        try Fixtures.addActivity(
            db: db(name), in: dir, form: form, content: "ND05", date: date, title: title, quantity: 1, sourceLocation: sourceLocation)
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

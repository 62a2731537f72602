import Foundation
import Testing

/// What one run of a program produced.
struct ProcessResult: CustomStringConvertible {
    var status: Int32
    var stdout: Data
    var stderr: String
    /// The signal that ended the process (nil: it exited, with `status`).
    var signal: Int32? = nil

    var out: String { String(decoding: stdout, as: UTF8.self) }
    /// The last non-empty line of standard output (where `add` commands print the new id).
    var lastLine: String { out.split(separator: "\n").last.map(String.init) ?? "" }
    var description: String { "exit \(status)\nstdout: \(out)\nstderr: \(stderr)" }
}

/// The one way every end-to-end test runs a process: the BUILT `unit-client` and `hub` (what a
/// user runs is what is tested), or another program (LibreOffice, pdftotext).
///
/// Output goes through files, never pipes, so a large `dump` cannot block on a full pipe; the
/// files live outside the folder the command runs in, so tests that list that folder see only
/// what the command made. The environment is the test's own without `UNIT_DB` and `HUB_DB`
/// (every test names its database) and with `LC_ALL=C.UTF-8`.
enum Run {
    /// The package's executables.
    enum Tool: String, CustomStringConvertible {
        case unitClient = "unit-client"
        case hub
        case cchcBench = "cchc-bench"

        var description: String { rawValue }

        /// The built executable; records an issue naming where it was looked for when it is missing.
        func executable(sourceLocation: SourceLocation = #_sourceLocation) throws -> URL {
            try Executables.require(rawValue, sourceLocation: sourceLocation)
        }
    }

    /// Runs `unit-client args…` in `dir` and waits for it.
    static func unitClient(
        _ args: [String], in dir: URL? = nil, environment: [String: String] = [:], sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> ProcessResult {
        try tool(.unitClient, args, in: dir, environment: environment, sourceLocation: sourceLocation)
    }

    /// Runs `hub args…` in `dir` and waits for it.
    static func hub(
        _ args: [String], in dir: URL? = nil, environment: [String: String] = [:], sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> ProcessResult {
        try tool(.hub, args, in: dir, environment: environment, sourceLocation: sourceLocation)
    }

    static func tool(
        _ tool: Tool, _ args: [String], in dir: URL? = nil, environment: [String: String] = [:], sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> ProcessResult {
        try program(tool.executable(sourceLocation: sourceLocation), args, in: dir, environment: environment)
    }

    /// Runs a command that must succeed; records the output when it does not.
    @discardableResult
    static func ok(_ tool: Tool, _ args: [String], in dir: URL? = nil, sourceLocation: SourceLocation = #_sourceLocation) throws -> ProcessResult {
        let r = try self.tool(tool, args, in: dir, sourceLocation: sourceLocation)
        #expect(r.status == 0, "\(tool) \(args.joined(separator: " ")) failed: \(r)", sourceLocation: sourceLocation)
        return r
    }

    /// Runs any program and waits for it. `dir` is its working folder (the test's own when nil);
    /// `environment` adds to (or replaces in) the cleaned environment.
    static func program(_ executable: URL, _ args: [String], in dir: URL? = nil, environment: [String: String] = [:]) throws -> ProcessResult {
        try start(executable, args, in: dir, environment: environment).wait()
    }

    /// Starts `tool args…` in `dir` without waiting: for servers and for processes a test stops
    /// part way.
    static func start(
        _ tool: Tool, _ args: [String], in dir: URL? = nil, environment: [String: String] = [:], sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> RunningProcess {
        try start(tool.executable(sourceLocation: sourceLocation), args, in: dir, environment: environment)
    }

    static func start(_ executable: URL, _ args: [String], in dir: URL? = nil, environment: [String: String] = [:]) throws -> RunningProcess {
        try RunningProcess(executable, args, in: dir, environment: environment)
    }

    /// The test's environment as every run sees it.
    static func environment(adding extra: [String: String]) -> [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["UNIT_DB"] = nil
        env["HUB_DB"] = nil
        env["LC_ALL"] = "C.UTF-8"
        for (k, v) in extra { env[k] = v }
        return env
    }

    /// A program on PATH, or nil.
    static func which(_ name: String) -> URL? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let u = URL(fileURLWithPath: String(dir)).appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: u.path) { return u }
        }
        return nil
    }
}

/// A process started by `Run.start`, with its output going to files that can be read while it runs.
/// Killed (SIGKILL) if still running when released.
final class RunningProcess: @unchecked Sendable {
    let process: Process
    private let outURL: URL
    private let errURL: URL

    fileprivate init(_ executable: URL, _ args: [String], in dir: URL?, environment: [String: String]) throws {
        let stem = FileManager.default.temporaryDirectory.appendingPathComponent("cchc-proc-\(UUID().uuidString)")
        outURL = stem.appendingPathExtension("out")
        errURL = stem.appendingPathExtension("err")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        process = Process()
        process.executableURL = executable
        process.arguments = args
        if let dir { process.currentDirectoryURL = dir }
        process.environment = Run.environment(adding: environment)
        let outHandle = try FileHandle(forWritingTo: outURL)
        let errHandle = try FileHandle(forWritingTo: errURL)
        process.standardOutput = outHandle
        process.standardError = errHandle
        process.standardInput = FileHandle.nullDevice
        defer {
            // The child has its own copies; ours are not needed once it is started.
            try? outHandle.close()
            try? errHandle.close()
        }
        try process.run()
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: outURL)
        try? FileManager.default.removeItem(at: errURL)
    }

    var isRunning: Bool { process.isRunning }
    var processIdentifier: Int32 { process.processIdentifier }

    /// Standard output so far (all of it once the process has ended).
    var stdoutSoFar: Data { (try? Data(contentsOf: outURL)) ?? Data() }
    var outSoFar: String { String(decoding: stdoutSoFar, as: UTF8.self) }
    var stderrSoFar: String { String(decoding: (try? Data(contentsOf: errURL)) ?? Data(), as: UTF8.self) }

    /// Waits for the end and returns what the process produced. Its status is the exit code, or
    /// the signal that ended it.
    @discardableResult
    func wait() -> ProcessResult {
        process.waitUntilExit()
        return ProcessResult(
            status: process.terminationStatus, stdout: stdoutSoFar, stderr: stderrSoFar,
            signal: process.terminationReason == .uncaughtSignal ? process.terminationStatus : nil)
    }

    /// Sends `signal` and waits for the end.
    @discardableResult
    func stop(signal: Int32) -> ProcessResult {
        if process.isRunning { kill(process.processIdentifier, signal) }
        return wait()
    }
}

/// A fresh temporary folder, removed when the test ends.
final class TempDir {
    let url: URL

    init(_ name: String = "e2e") throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("cchc-\(name)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    deinit { try? FileManager.default.removeItem(at: url) }
}

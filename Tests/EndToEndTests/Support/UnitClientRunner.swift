import Foundation
import Testing

struct MissingExecutable: Error {}

/// What one run of an executable produced.
struct RunResult: CustomStringConvertible {
    var status: Int32
    var stdout: Data
    var stderr: String

    var out: String { String(decoding: stdout, as: UTF8.self) }
    /// The last non-empty line of standard output (where `add` commands print the new id).
    var lastLine: String { out.split(separator: "\n").last.map(String.init) ?? "" }
    var description: String { "exit \(status)\nstdout: \(out)\nstderr: \(stderr)" }
}

/// Runs the BUILT `unit-client` (not the library): what a user runs is what is tested.
enum UnitClient {
    static let executable = Executables.find("unit-client")

    static func requireExecutable(sourceLocation: SourceLocation = #_sourceLocation) throws -> URL {
        guard let url = executable else {
            Issue.record(
                "unit-client is not built: run `swift build` in \(Executables.packageRoot.path) (looked in \(Executables.searched)).",
                sourceLocation: sourceLocation)
            throw MissingExecutable()
        }
        return url
    }

    /// Runs `unit-client args…` and waits for it. Output goes through files, so a large `dump`
    /// cannot block on a full pipe.
    static func run(_ args: [String], in dir: URL, sourceLocation: SourceLocation = #_sourceLocation) throws -> RunResult {
        let exe = try requireExecutable(sourceLocation: sourceLocation)
        let outURL = dir.appendingPathComponent(".out-\(UUID().uuidString)")
        let errURL = dir.appendingPathComponent(".err-\(UUID().uuidString)")
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        defer {
            try? FileManager.default.removeItem(at: outURL)
            try? FileManager.default.removeItem(at: errURL)
        }
        let p = Process()
        p.executableURL = exe
        p.arguments = args
        p.currentDirectoryURL = dir
        var env = ProcessInfo.processInfo.environment
        env["UNIT_DB"] = nil
        env["LC_ALL"] = "C.UTF-8"
        p.environment = env
        let outHandle = try FileHandle(forWritingTo: outURL)
        let errHandle = try FileHandle(forWritingTo: errURL)
        p.standardOutput = outHandle
        p.standardError = errHandle
        p.standardInput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        try outHandle.close()
        try errHandle.close()
        return RunResult(
            status: p.terminationStatus, stdout: (try? Data(contentsOf: outURL)) ?? Data(),
            stderr: String(decoding: (try? Data(contentsOf: errURL)) ?? Data(), as: UTF8.self))
    }

    /// Runs a command that must succeed; records the output when it does not.
    @discardableResult
    static func ok(_ args: [String], in dir: URL, sourceLocation: SourceLocation = #_sourceLocation) throws -> RunResult {
        let r = try run(args, in: dir, sourceLocation: sourceLocation)
        #expect(r.status == 0, "unit-client \(args.joined(separator: " ")) failed: \(r)", sourceLocation: sourceLocation)
        return r
    }
}

/// A fresh temporary folder, removed when the test ends.
final class TempDir {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("cchc-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    deinit { try? FileManager.default.removeItem(at: url) }
}

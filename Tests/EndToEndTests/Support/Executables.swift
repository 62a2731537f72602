import Foundation
import Testing

/// Where every end-to-end test finds the built `hub` and `unit-client`: `CCHC_BIN_DIR` when set
/// (e.g. `$PWD/.build/release` for the load figures), else beside the running test bundle (the
/// configuration `swift test` just built), else `.build/debug`, then `.build/release`.
enum Executables {
    /// The package root, from this file's path (`<root>/Tests/EndToEndTests/Support/…`).
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    static let directories: [URL] = {
        if let dir = ProcessInfo.processInfo.environment["CCHC_BIN_DIR"] { return [URL(fileURLWithPath: dir)] }
        var dirs: [URL] = []
        if let bundle = Bundle.main.executableURL?.deletingLastPathComponent() { dirs.append(bundle) }
        dirs.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent())
        for config in ["debug", "release"] { dirs.append(packageRoot.appendingPathComponent(".build/\(config)")) }
        return dirs
    }()

    /// The executable `name` in the first directory that has it; nil when none does.
    static func find(_ name: String) -> URL? {
        directories.map { $0.appendingPathComponent(name) }.first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    /// The executable, or where it was expected (so a missing build fails with a clear path).
    static func url(_ name: String) -> URL { find(name) ?? directories[0].appendingPathComponent(name) }

    static var searched: String { directories.map(\.path).joined(separator: ", ") }

    /// The executable; when it is not built, records an issue saying where it was looked for and throws.
    static func require(_ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> URL {
        guard let url = find(name) else {
            Issue.record(
                "\(name) is not built: run `swift build` in \(packageRoot.path) (looked in \(searched)).", sourceLocation: sourceLocation)
            throw MissingExecutable(name: name)
        }
        return url
    }
}

struct MissingExecutable: Error, CustomStringConvertible {
    var name: String
    var description: String { "\(name) is not built (looked in \(Executables.searched))" }
}

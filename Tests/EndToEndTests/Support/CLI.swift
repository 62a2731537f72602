import Foundation
import Testing

/// The old `CLI` entry points, kept so tests written against them still compile. A thin shim
/// over `Run`, not a second runner: new tests should call `Run.unitClient`, `Run.hub`, `Run.ok`
/// and `Run.program` directly. Note `stdout` is now `Data`; the text is `out`.
enum CLI {
    typealias Result = ProcessResult

    static func binary(_ name: String) -> URL { Executables.url(name) }

    @discardableResult
    static func run(_ executable: URL, _ args: [String], env: [String: String] = [:]) throws -> ProcessResult {
        try Run.program(executable, args, environment: env)
    }

    static func unit(_ args: [String]) throws -> ProcessResult { try Run.unitClient(args) }
    static func hub(_ args: [String]) throws -> ProcessResult { try Run.hub(args) }

    /// A program on PATH, or nil.
    static func which(_ name: String) -> URL? { Run.which(name) }
}

import Foundation
import Testing

@testable import SyncCore

/// Expects `body` to fail with a `SyncError` of `code` that names `field` and `value` (in the error
/// and in its Vietnamese message, which is what the user reads).
func expectSyncError<T>(
    _ code: SyncError.Code = .invalidInput, field: String, value: String, sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws -> T
) {
    do {
        let result = try body()
        Issue.record("expected \(code) on «\(field)» = «\(value)», got \(result)", sourceLocation: sourceLocation)
    } catch let e as SyncError {
        #expect(e.code == code, "\(e.message)", sourceLocation: sourceLocation)
        #expect(e.field == field, "\(e.message)", sourceLocation: sourceLocation)
        #expect(e.value == value, "\(e.message)", sourceLocation: sourceLocation)
        #expect(e.message.contains("«\(field)»") && e.message.contains("«\(value)»"), "\(e.message)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected a SyncError, got \(error)", sourceLocation: sourceLocation)
    }
}

/// SHA-256 of `text`'s UTF-8 bytes as lower-case hex, computed by coreutils' `sha256sum`, not by the
/// code under test: the expected side of hash checks.
func independentSHA256(_ text: String) throws -> String {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
    let input = Pipe()
    let output = Pipe()
    p.standardInput = input
    p.standardOutput = output
    try p.run()
    input.fileHandleForWriting.write(Data(text.utf8))
    try input.fileHandleForWriting.close()
    let out = output.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return String(decoding: out, as: UTF8.self).split(separator: " ").first.map(String.init) ?? ""
}

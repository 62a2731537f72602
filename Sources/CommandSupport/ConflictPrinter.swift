import Foundation
import SyncCore

/// Open conflicts as `unit-client conflicts list` and `hub conflicts` print them: as JSON, or for
/// each field every value with who wrote it and when, the shown one marked `*`, then `footer`
/// (how to resolve, which differs between the two).
public func printConflicts(_ list: [ConflictRow], json: Bool, footer: String) throws {
    if json { return try printJSON(list) }
    if list.isEmpty { print("Không có xung đột.") }
    for c in list {
        print("\(c.record)  trường «\(c.field)»:")
        for v in c.candidates {
            let mark = v.winner ? "*" : " "
            print("  \(mark) \(v.value)    — \(v.unit ?? "?") / bản sao \(v.replica), \(v.time) [\(v.dot)]")
        }
    }
    if !list.isEmpty { print(footer) }
}

import Foundation
import SyncCore

/// A store's check as `unit-client verify` and `hub verify` print it: as JSON, or one line per
/// problem (what, where) and the summary line; then, when damaged, the error that exits 7
/// naming `repair` (the command that mends it).
public func printVerifyReport(_ report: VerifyReport, json: Bool, repair: String) throws {
    if json {
        try printJSON(report)
    } else {
        for p in report.problems { print("  - \(p.kind.label) — \(p.location): \(p.message)") }
        if report.unlisted > 0 { print("  … và \(report.unlisted) vấn đề khác.") }
        print(report.summary)
    }
    if !report.ok { throw report.damage(repair: repair) }
}

/// What `repair` did, as both programs print it.
public func printRepairReport(_ report: RepairReport, json: Bool) throws {
    if json { return try printJSON(report) }
    if report.repaired {
        print("Trước khi sửa:")
        for p in report.before.problems { print("  - \(p.kind.label) — \(p.location): \(p.message)") }
        if report.before.unlisted > 0 { print("  … và \(report.before.unlisted) vấn đề khác.") }
    }
    print(report.summary)
}

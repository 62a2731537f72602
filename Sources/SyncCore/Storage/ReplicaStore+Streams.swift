import Foundation
import GRDB

/// Ops in pages, for files too large to hold at once (`ops export|import`, bundles).
extension ReplicaStore {
    /// Ops per page of a streamed file: a page holds at most `SignedHead.spacing` more, since pages
    /// are cut at signed heads.
    public static let streamPageOps = 4_096

    /// Reads, in one snapshot, the vector (given to `start`) and then the ops a peer with `vv`
    /// lacks, page by page in origin then counter order (as `ops(after:limit:)`: each origin's
    /// run in a page ends at a signed head), handing each page to `body` and keeping none.
    /// `only`: that origin's ops alone.
    public func forEachOpsPage(
        after vv: VersionVector, only: ReplicaID? = nil, pageOps: Int = streamPageOps, start: (VersionVector) throws -> Void,
        _ body: (OpBatch) throws -> Void
    ) throws {
        // GRDB's read closure is @Sendable; the closures run inside this call only, on its thread.
        nonisolated(unsafe) let start = start
        nonisolated(unsafe) let body = body
        try read { db in
            try start(try Self.versionVector(db))
            try Self.forEachPage(db, after: vv, only: only, legacy: false, pageOps: pageOps, body)
        }
    }

    /// The hub's side of a bundle: everything `replica` lacks by the vector it last reported
    /// (as `everythingLackedBy`), page by page in one snapshot, with legacy ops under unsigned heads.
    func forEachPageLacked(by replica: ReplicaID, start: (VersionVector) throws -> Void, _ body: (OpBatch) throws -> Void) throws {
        nonisolated(unsafe) let start = start
        nonisolated(unsafe) let body = body
        try read { db in
            guard let e = try Self.enrolment(db, replica) else { throw SyncError.notFound("bản sao đã ghi danh", replica.rawValue, field: "replica") }
            if e.revokedAt != nil {
                throw SyncError(.forbidden, "Bản sao «\(replica)» đã bị thu hồi.", field: "replica", value: replica.rawValue)
            }
            try start(try Self.versionVector(db))
            try Self.forEachPage(db, after: e.lastVersionVector, only: nil, legacy: true, pageOps: Self.streamPageOps, body)
        }
    }

    private static func forEachPage(
        _ db: Database, after vv: VersionVector, only: ReplicaID?, legacy: Bool, pageOps: Int, _ body: (OpBatch) throws -> Void
    ) throws {
        var cursor = vv
        while true {
            let (page, more) = try Self.page(db, after: cursor, limit: max(1, pageOps), only: only, legacy: legacy)
            guard !page.ops.isEmpty else { break }
            try body(page)
            for op in page.ops where op.dot.counter > cursor[op.dot.origin] { cursor[op.dot.origin] = op.dot.counter }
            if !more { break }
        }
    }

    /// Applies pages from `next` (nil after the last) in **one** transaction, each page through its
    /// own apply session exactly as `apply(_:source:)` applies a batch (verification, held-back
    /// ops, authority). Memory stays at one page: SQLite spills what the transaction changed to
    /// its write-ahead log. Nothing is committed until `next` has returned nil, so a file found
    /// cut, spliced or damaged at any page — or a page refused — changes nothing.
    @discardableResult
    public func apply(pages next: () throws -> OpBatch?, source: OpSource, fromHub: Bool = false) throws -> ApplyReport {
        nonisolated(unsafe) let next = next
        return try writeVerifying(source: fromHub ? "hub" : "ops-file") { db in
            try self.applyPages(next, source: source, in: db, allowLegacy: fromHub)
        }
    }

    /// The pages inside a transaction the caller holds. One page reports as `apply` does; over
    /// several, the conflicts are those among the records the pages touched, each counted once.
    func applyPages(_ next: () throws -> OpBatch?, source: OpSource, in db: Database, allowLegacy: Bool) throws -> ApplyReport {
        var total = ApplyReport()
        var touched = Set<String>()
        var pages = 0
        while let page = try next() {
            let r = try apply(page, source: source, in: db, allowLegacy: allowLegacy)
            pages += 1
            total.applied += r.applied
            total.duplicates += r.duplicates
            total.heldBack += r.heldBack
            total.conflicts = r.conflicts
            for op in page.ops { touched.insert(op.record) }
        }
        if pages > 1 {
            total.conflicts = try String.fetchAll(db, sql: "SELECT record FROM conflict").reduce(0) { $0 + (touched.contains($1) ? 1 : 0) }
        }
        return total
    }
}

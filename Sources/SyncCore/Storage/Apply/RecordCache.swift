import Foundation
import GRDB

/// Records as the last committed write left them, kept between transactions so that the next
/// page of a sync does not read and decode again the records the page before touched (a record
/// edited by several replicas is met in many pages).
///
/// Why it cannot go stale:
/// - only apply sessions write the typed tables (`ApplySession.reserveRowid` relies on the same
///   rule), and every session takes the whole cache out when it starts, so a write the cache
///   does not see can only be one by a session that holds nothing of it;
/// - a session gives its records back only when its transaction has committed (`ReplicaStore.write`
///   tells the cache while it still holds the writer), and only if no later session started
///   meanwhile (the generation); a transaction that fails or rolls back gives back nothing;
/// - a commit by any other connection (another process, a second store on the same file)
///   changes `PRAGMA data_version`, and the cache is then dropped;
/// - records a session left half-made (a reserved rowid whose row was never inserted) are not
///   kept.
/// At worst the cache is empty and records are read from the database, as before it existed.
final class RecordCache: @unchecked Sendable {
    /// Records kept at most (about 1–2 kB each in memory): beyond, only the last session's.
    static let capacity = 50_000

    private let lock = NSLock()
    private var records: [String: LoadedRecord] = [:]
    private var dataVersion: Int64?
    private var generation = 0
    private var staged: (generation: Int, records: [String: LoadedRecord])?

    /// Takes the cached records out for a session starting in `db`'s transaction: what the
    /// session may use, and its generation.
    func checkOut(_ db: Database) throws -> (generation: Int, records: [String: LoadedRecord]) {
        let version = try Int64.fetchOne(db, sql: "PRAGMA data_version") ?? -1
        lock.lock()
        defer { lock.unlock() }
        generation += 1
        staged = nil
        let out = dataVersion == version ? records : [:]
        records = [:]
        dataVersion = version
        return (generation, out)
    }

    /// The records of session `generation` as its `finish` wrote them: kept by `commitStaged`
    /// once its transaction has committed, unless a later session started meanwhile.
    func stage(_ generation: Int, _ records: [String: LoadedRecord]) {
        guard records.count <= Self.capacity else { return }
        lock.withLock {
            guard generation == self.generation else { return }
            staged = (generation, records)
        }
    }

    /// After a write transaction committed, on the writer (`ReplicaStore.write`).
    func commitStaged() {
        lock.withLock {
            guard let s = staged else { return }
            if s.generation == generation { records = s.records }
            staged = nil
        }
    }

    /// After a write transaction failed or rolled back, on the writer.
    func dropStaged() {
        lock.withLock { staged = nil }
    }

    /// Drops everything (maintenance that rewrites the file).
    func clear() {
        lock.withLock {
            generation += 1
            records = [:]
            staged = nil
            dataVersion = nil
        }
    }

    /// How many records are kept (tests).
    var count: Int { lock.withLock { records.count } }
}

import Foundation
import GRDB

extension ReplicaStore {
    /// Activities not deleted dated in `[from, to]`, in date, unit, id order. Unlike `activities()`
    /// it skips the Vietnamese title sort: reports read whole years of records.
    public func activitiesForReport(from: String, to: String, unit: String? = nil) throws -> [ActivityRow] {
        try read { db in
            var out: [ActivityRow] = []
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT id, unit, date, form, content, title, description, quantity, participants, url, note, recorded, duty
                    FROM activity
                    WHERE deleted = 0 AND date >= ?1 AND date <= ?2 AND (?3 IS NULL OR unit = ?3)
                    ORDER BY date, unit, id
                    """, arguments: [from, to, unit])
            while let r = try rows.next() { out.append(Self.activityRow(r)) }
            return out
        }
    }
}

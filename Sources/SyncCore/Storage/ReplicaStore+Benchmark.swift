import Foundation
import GRDB

extension ReplicaStore {
    /// Writes activities straight into the typed table, bypassing the op log: only for the report
    /// benchmark, which needs 100 000 records in seconds and reads nothing but the typed columns.
    /// Never use it on a real replica (the rows have no replication metadata and would not sync).
    public func insertBenchmarkActivities(_ rows: [ActivityRow]) throws {
        try write { db in
            let stmt = try db.makeStatement(
                sql: """
                    INSERT INTO activity(id, unit, date, form, content, title, description, quantity, participants, url, note, recorded,
                                         deleted, meta)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, x'')
                    """)
            for a in rows {
                try stmt.execute(arguments: [
                    a.id, a.unit, a.date, a.form, a.content.joined(separator: ","), a.title, a.description, a.quantity, a.participants, a.url,
                    a.note, a.recorded,
                ])
            }
        }
    }

    /// Writes unit reports straight into the typed table; benchmark only, as above.
    public func insertBenchmarkReports(_ rows: [UnitReportRow]) throws {
        try write { db in
            for r in rows {
                try db.execute(
                    sql: """
                        INSERT INTO unit_report(id, unit, period, results, issues, proposals, status, figures, figures_hash, submitted_at,
                                                tthc_total, tthc_online, dossiers_total, dossiers_online, deleted, meta)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, x'')
                        """,
                    arguments: [
                        r.id, r.unit, r.period, r.results, r.issues, r.proposals, r.status.rawValue, r.figures, r.figuresHash, r.submittedAt,
                        r.tthcTotal,
                        r.tthcOnline, r.dossiersTotal, r.dossiersOnline,
                    ])
            }
        }
    }
}

import Foundation
import GRDB

extension ReplicaStore {
    public func tasks(unit: String? = nil) throws -> [TaskRow] {
        let tasks = try read { db in
            try Row.fetchAll(
                db, sql: "SELECT id, unit, item, title, due, status, note FROM task WHERE deleted = 0 AND (?1 IS NULL OR unit = ?1)",
                arguments: [unit]
            ).map(Self.taskRow)
        }
        return tasks.sorted { ($0.item, $0.unit, $0.id) < ($1.item, $1.unit, $1.id) }
    }

    public func task(_ id: String) throws -> TaskRow? {
        try tasksIncludingDeleted(id: id).first
    }

    func tasksIncludingDeleted(id: String) throws -> [TaskRow] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT id, unit, item, title, due, status, note FROM task WHERE id = ? AND deleted = 0", arguments: [id])
                .map(Self.taskRow)
        }
    }

    static func taskRow(_ r: Row) -> TaskRow {
        TaskRow(
            id: r[0], unit: r[1] ?? "", item: r[2] ?? "", title: r[3] ?? "", due: r[4], status: TaskStatus(rawValue: r[5] ?? "") ?? .notStarted,
            note: r[6])
    }

    static func activityRow(_ r: Row) -> ActivityRow {
        ActivityRow(
            id: r[0], unit: r[1] ?? "", date: r[2] ?? "", form: r[3] ?? "",
            content: (r[4] as String?)?.split(separator: ",").map(String.init) ?? [], title: r[5] ?? "",
            description: r[6], quantity: r[7], participants: r[8], url: r[9], note: r[10], recorded: r[11] ?? "", duty: r[12])
    }

    /// Activities not deleted, filtered by unit, a date window and a diacritic-insensitive search,
    /// in date order then Vietnamese title order.
    public func activities(unit: String? = nil, from: String? = nil, to: String? = nil, search: String? = nil) throws -> [ActivityRow] {
        let needle = search.map { VietnameseText.fold($0) }
        let list = try read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT id, unit, date, form, content, title, description, quantity, participants, url, note, recorded, duty
                    FROM activity
                    WHERE deleted = 0 AND (?1 IS NULL OR unit = ?1) AND (?2 IS NULL OR date >= ?2) AND (?3 IS NULL OR date <= ?3)
                    """, arguments: [unit, from, to]
            ).map(Self.activityRow)
        }.filter { a in
            // Diacritic-insensitive search on the folded text (docs/DOMAIN.md, "Vietnamese text": FTS5 does not fold Đ).
            guard let needle, !needle.isEmpty else { return true }
            return VietnameseText.fold([a.title, a.description ?? "", a.note ?? ""].joined(separator: " ")).contains(needle)
        }
        let keyed = list.map { (VietnameseText.collationKey($0.title), $0) }
        return keyed.sorted { a, b in
            if a.1.date != b.1.date { return a.1.date < b.1.date }
            if a.0 != b.0 { return a.0.lexicographicallyPrecedes(b.0) }
            return a.1.id < b.1.id
        }.map(\.1)
    }

    public func activity(_ id: String) throws -> ActivityRow? {
        try read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT id, unit, date, form, content, title, description, quantity, participants, url, note, recorded, duty
                    FROM activity WHERE id = ? AND deleted = 0
                    """, arguments: [id]
            ).first.map(Self.activityRow)
        }
    }

    public func unitReports(unit: String? = nil, period: String? = nil) throws -> [UnitReportRow] {
        try read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT id, unit, period, results, issues, proposals, status, figures, figures_hash, submitted_at,
                           tthc_total, tthc_online, dossiers_total, dossiers_online
                    FROM unit_report WHERE deleted = 0 AND (?1 IS NULL OR unit = ?1) AND (?2 IS NULL OR period = ?2) ORDER BY id
                    """, arguments: [unit, period]
            ).map { r in
                UnitReportRow(
                    id: r[0], unit: r[1] ?? "", period: r[2] ?? "", results: r[3], issues: r[4], proposals: r[5],
                    status: UnitReportStatus(rawValue: r[6] ?? "") ?? .draft,
                    figures: r[7], figuresHash: r[8], submittedAt: r[9], tthcTotal: r[10], tthcOnline: r[11], dossiersTotal: r[12],
                    dossiersOnline: r[13])
            }
        }
    }

    /// The Office's direction documents not deleted, issued in `[from, to]` when given, by date then symbol.
    public func directives(from: String? = nil, to: String? = nil) throws -> [DirectiveRow] {
        try read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT id, unit, symbol, issued, summary FROM directive
                    WHERE deleted = 0 AND (?1 IS NULL OR issued >= ?1) AND (?2 IS NULL OR issued <= ?2) ORDER BY issued, symbol, id
                    """, arguments: [from, to]
            ).map { r in DirectiveRow(id: r[0], unit: r[1] ?? "", symbol: r[2] ?? "", issued: r[3] ?? "", summary: r[4] ?? "") }
        }
    }

    /// The consolidated draft of `period` by `unit` (the Office), when one exists and is not deleted.
    public func draft(period: String, unit: String) throws -> DraftRow? {
        try read { db in
            try Row.fetchOne(
                db,
                sql: """
                    SELECT id, unit, period, direction, strengths, weaknesses, causes, next_tasks, proposals
                    FROM consolidated_draft WHERE id = ? AND deleted = 0
                    """, arguments: [RecordID(kind: .draft, owner: unit, suffix: period).rawValue]
            ).map { r in
                DraftRow(
                    id: r[0], unit: r[1] ?? "", period: r[2] ?? "", direction: r[3], strengths: r[4], weaknesses: r[5], causes: r[6],
                    nextTasks: r[7], proposals: r[8])
            }
        }
    }

    /// Whether a record exists and is not deleted.
    public func exists(_ id: RecordID) throws -> Bool {
        try read { db in
            try Bool.fetchOne(db, sql: "SELECT 1 FROM \(id.kind.table) WHERE id = ? AND deleted IS NOT 1", arguments: [id.rawValue]) ?? false
        }
    }

    /// Every field in conflict, with all its surviving values.
    public func conflicts() throws -> [ConflictRow] {
        try read { db in
            let reader = try RecordReader(db)
            var out: [ConflictRow] = []
            for row in try Row.fetchAll(db, sql: "SELECT record, field FROM conflict ORDER BY record, field") {
                let id = try RecordID.parse(row[0] as String)
                let field: String = row[1]
                guard let meta = try Data.fetchOne(db, sql: "SELECT meta FROM \(id.kind.table) WHERE id = ?", arguments: [id.rawValue]) else {
                    continue
                }
                let record = try reader.record(id, meta: meta)
                guard let fieldIndex = EntitySchema.index(of: field, in: id.kind), let register = record.registers[fieldIndex] else { continue }
                var versions = register.survivors
                if field == "deleted" {
                    // Show the concurrent edits beside the delete.
                    for (i, r) in record.registers.entries where i != fieldIndex {
                        versions += r.survivors.filter { !register.covers($0.dot) }
                    }
                }
                var candidates: [ConflictRow.Candidate] = []
                for (n, v) in versions.enumerated() {
                    let unit = try String.fetchOne(
                        db, sql: "SELECT unit FROM replica WHERE id = ?", arguments: [RecordID.replica(v.dot.origin).rawValue])
                    var value = try reader.opValue(v.dot)
                    if field == "deleted", n >= register.survivors.count, let edited = try reader.opField(v.dot, of: id.kind) {
                        value = .text("\(edited) = \(value)")
                    }
                    candidates.append(
                        .init(
                            dot: v.dot.description, replica: v.dot.origin.rawValue, unit: unit, time: v.hlc.description, value: value, winner: n == 0)
                    )
                }
                out.append(ConflictRow(record: id.rawValue, field: field, candidates: candidates))
            }
            return out
        }
    }
}

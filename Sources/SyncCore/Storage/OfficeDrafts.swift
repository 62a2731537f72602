import Foundation

/// The parts of the Office's consolidated draft a command changes: nil leaves a part as it is,
/// an empty text clears it.
public struct DraftParts: Sendable, Equatable {
    public var direction: String?
    public var strengths: String?
    public var weaknesses: String?
    public var causes: String?
    public var nextTasks: String?
    public var proposals: String?

    public init(
        direction: String? = nil, strengths: String? = nil, weaknesses: String? = nil, causes: String? = nil, nextTasks: String? = nil,
        proposals: String? = nil
    ) {
        self.direction = direction
        self.strengths = strengths
        self.weaknesses = weaknesses
        self.causes = causes
        self.nextTasks = nextTasks
        self.proposals = proposals
    }

    /// The parts as the draft record's fields.
    var fields: [(String, String?)] {
        [
            ("direction", direction), ("strengths", strengths), ("weaknesses", weaknesses), ("causes", causes), ("next_tasks", nextTasks),
            ("proposals", proposals),
        ]
    }

    /// The parts of a suggestion, one line per item ("- …").
    public init(suggestion t: BanText) {
        func text(_ l: [String]) -> String? { l.isEmpty ? nil : l.map { "- \($0)" }.joined(separator: "\n") }
        self.init(
            direction: text(t.direction), strengths: text(t.strengths), weaknesses: text(t.weaknesses), causes: text(t.causes),
            nextTasks: text(t.nextTasks), proposals: text(t.proposals))
    }
}

extension ReplicaStore {
    /// Records a direction or steering document of the Office (Office only); returns its id.
    @discardableResult
    public func addDirective(symbol: String, issued: String, summary: String, nowMillis: UInt64? = nil) throws -> RecordID {
        let me = try requireOffice("ghi văn bản chỉ đạo, điều hành")
        let symbol = symbol.trimmingCharacters(in: .whitespaces)
        let summary = summary.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !symbol.isEmpty else { throw SyncError.invalid("symbol", symbol, "cần số, ký hiệu của văn bản (ví dụ 12/BQLKKTCK-VP).") }
        guard !summary.isEmpty else { throw SyncError.invalid("summary", summary, "cần trích yếu của văn bản.") }
        let day = try CalendarDay.parse(issued, field: "issued")
        return try createRecord(
            kind: .directive, owner: me.unit,
            changes: [
                ("unit", .text(me.unit)), ("symbol", .text(symbol)), ("issued", .text(day)), ("summary", .text(summary)), ("deleted", .int(0)),
            ],
            nowMillis: nowMillis)
    }

    /// Deletes a direction document (Office only).
    public func deleteDirective(_ id: String) throws {
        _ = try requireOffice("xóa văn bản chỉ đạo, điều hành")
        let record = try RecordID.parse(id, field: "id")
        guard record.kind == .directive, try exists(record) else {
            throw SyncError(.notFound, "Không có văn bản chỉ đạo \(id) trong bản sao này.", field: "id", value: id)
        }
        try writeRecord(record, changes: [], delete: true)
    }

    /// Writes the parts given into the Office's consolidated draft of `period` (Office only),
    /// creating it when it does not exist; returns the ops written (none when nothing changed).
    @discardableResult
    public func writeDraft(period: ReportPeriod, parts: DraftParts, nowMillis: UInt64? = nil) throws -> [Op] {
        let me = try requireOffice("lập dự thảo báo cáo tổng hợp của Ban")
        let id = RecordID(kind: .draft, owner: me.unit, suffix: period.description)
        var changes: [(String, Value)] = []
        if try !exists(id) {
            changes = [("unit", .text(me.unit)), ("period", .text(period.description)), ("deleted", .int(0))]
        }
        for (field, text) in parts.fields {
            guard let text else { continue }
            let t = text.trimmingCharacters(in: .whitespacesAndNewlines)
            changes.append((field, t.isEmpty ? .null : .text(t)))
        }
        return try writeRecord(id, changes: changes)
    }
}

import Foundation

/// A task as users see it.
public struct TaskRow: Codable, Sendable, Equatable {
    public var id: String
    public var unit: String
    public var item: String
    public var title: String
    public var due: String?
    public var status: TaskStatus
    public var note: String?
}

/// An activity as users see it.
public struct ActivityRow: Codable, Sendable, Equatable {
    public var id: String
    public var unit: String
    public var date: String
    public var form: String
    public var content: [String]
    public var title: String
    public var description: String?
    public var quantity: Int64?
    public var participants: Int64?
    public var url: String?
    public var note: String?
    public var recorded: String
    /// The duty (TN..) the activity serves, when it serves one.
    public var duty: String? = nil
}

/// A direction or steering document the Office issued (section I of the consolidated report).
public struct DirectiveRow: Codable, Sendable, Equatable {
    public var id: String
    public var unit: String
    /// Số, ký hiệu: `12/KH-BQLKKTCK`.
    public var symbol: String
    /// Ngày ban hành `YYYY-MM-DD`.
    public var issued: String
    /// Trích yếu.
    public var summary: String
}

/// The Office's consolidated draft of one period: the Ban's own text (docs/REPORTS.md).
public struct DraftRow: Codable, Sendable, Equatable {
    public var id: String
    public var unit: String
    public var period: String
    /// Section I, after the plan and the documents: how the Office directed and urged the units.
    public var direction: String?
    /// Section III: ưu điểm, tồn tại hạn chế, nguyên nhân.
    public var strengths: String?
    public var weaknesses: String?
    public var causes: String?
    /// Section IV: next period's tasks, one per line.
    public var nextTasks: String?
    /// Section V: the Ban's proposals, one per line.
    public var proposals: String?

    enum CodingKeys: String, CodingKey {
        case id, unit, period, direction, strengths, weaknesses, causes, proposals
        case nextTasks = "next_tasks"
    }
}

/// A unit period report as stored.
public struct UnitReportRow: Codable, Sendable, Equatable {
    public var id: String
    public var unit: String
    public var period: String
    public var results: String?
    public var issues: String?
    public var proposals: String?
    public var status: UnitReportStatus
    public var figures: String?
    public var figuresHash: String?
    public var submittedAt: String?
    public var tthcTotal: Int64?
    public var tthcOnline: Int64?
    public var dossiersTotal: Int64?
    public var dossiersOnline: Int64?

    enum CodingKeys: String, CodingKey {
        case id, unit, period, results, issues, proposals, status, figures
        case figuresHash = "figures_hash"
        case submittedAt = "submitted_at"
        case tthcTotal = "tthc_total"
        case tthcOnline = "tthc_online"
        case dossiersTotal = "dossiers_total"
        case dossiersOnline = "dossiers_online"
    }
}

/// One field in conflict with every surviving value, who wrote it and when.
public struct ConflictRow: Codable, Sendable, Equatable {
    public struct Candidate: Codable, Sendable, Equatable {
        public var dot: String
        public var replica: String
        public var unit: String?
        public var time: String
        public var value: Value
        public var winner: Bool
    }

    public var record: String
    public var field: String
    public var candidates: [Candidate]
}

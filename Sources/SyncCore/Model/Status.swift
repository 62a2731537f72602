import Foundation

/// Where a task of the plan stands, as stored (`task.status`) and shown.
public enum TaskStatus: String, CaseIterable, Codable, Sendable {
    case notStarted = "chua_thuc_hien"
    case inProgress = "dang_thuc_hien"
    case done = "hoan_thanh"

    /// As a user reads it.
    public var label: String {
        switch self {
        case .notStarted: return "chưa thực hiện"
        case .inProgress: return "đang thực hiện"
        case .done: return "hoàn thành"
        }
    }

    /// A status typed by a user: the Vietnamese label with or without diacritics, a short form
    /// («chưa», «đang», «xong») or the stored code; `nil` for anything else.
    public init?(userInput raw: String) {
        let f = VietnameseText.fold(raw).replacingOccurrences(of: "_", with: " ").replacingOccurrences(of: "-", with: " ")
        switch f {
        case "chua thuc hien", "chua": self = .notStarted
        case "dang thuc hien", "dang": self = .inProgress
        case "hoan thanh", "xong": self = .done
        default: return nil
        }
    }

    /// What a user may type, for error messages and help.
    public static let accepted =
        "«chưa thực hiện», «đang thực hiện» hoặc «hoàn thành» (hoặc chua_thuc_hien, dang_thuc_hien, hoan_thanh)"
}

/// Where a unit's period report stands, as stored (`unit_report.status`).
public enum UnitReportStatus: String, CaseIterable, Codable, Sendable {
    case draft
    case submitted

    public var label: String {
        switch self {
        case .draft: return "bản nháp, chưa gửi"
        case .submitted: return "đã gửi"
        }
    }
}

/// Where a unit's report for the period of a consolidated report stands: its stored status, or
/// `missing` when the unit has no report record for the period. JSON keeps the raw values.
public enum SubmissionStatus: String, CaseIterable, Codable, Sendable {
    case submitted
    case draft
    case missing

    /// The status of a unit whose report for the period is `report` (nil: none).
    public init(_ report: UnitReportStatus?) {
        switch report {
        case .submitted: self = .submitted
        case .draft: self = .draft
        case nil: self = .missing
        }
    }

    /// As every output shows it.
    public var label: String {
        switch self {
        case .submitted: return UnitReportStatus.submitted.label
        case .draft: return UnitReportStatus.draft.label
        case .missing: return "chưa gửi"
        }
    }
}

import Foundation

/// The kinds of replicated record. Each has a fixed id shape that names the unit that owns it,
/// so authority is decided from the op alone.
public enum EntityKind: String, Sendable, CaseIterable, Codable {
    /// `RE.<replica>`: a replica's registration, written once by the replica itself.
    case replica
    /// `NV.<unit>.<suffix>`: a task assigned to a unit; genesis duties are `NV.<unit>.TN05`.
    case task
    /// `HD.<unit>.<replica>.<counter>`: an activity, the evidence of what a unit did.
    case activity
    /// `BC.<unit>.<period>`: a unit's period report.
    case report

    public var prefix: String {
        switch self {
        case .replica: return "RE"
        case .task: return "NV"
        case .activity: return "HD"
        case .report: return "BC"
        }
    }

    /// The typed table that holds this entity's current values.
    public var table: String {
        switch self {
        case .replica: return "replica"
        case .task: return "task"
        case .activity: return "activity"
        case .report: return "unit_report"
        }
    }

    /// The kind's number in op-log record references (frozen).
    public var code: Int64 {
        switch self {
        case .replica: return 0
        case .task: return 1
        case .activity: return 2
        case .report: return 3
        }
    }

    public init?(code: Int64) {
        guard let k = Self.allCases.first(where: { $0.code == code }) else { return nil }
        self = k
    }

    /// Vietnamese name for messages.
    public var label: String {
        switch self {
        case .replica: return "bản sao"
        case .task: return "nhiệm vụ"
        case .activity: return "hoạt động"
        case .report: return "báo cáo"
        }
    }
}

/// A parsed record id: its kind, the unit that owns it (the replica for `RE`), and the rest.
public struct RecordID: Hashable, Sendable, CustomStringConvertible {
    public let kind: EntityKind
    /// The owning unit code (for `RE`, the replica id).
    public let owner: String
    public let rawValue: String

    public var description: String { rawValue }

    public init(kind: EntityKind, owner: String, suffix: String) {
        self.kind = kind
        self.owner = owner
        self.rawValue = "\(kind.prefix).\(owner).\(suffix)"
    }

    private init(kind: EntityKind, owner: String, raw: String) {
        self.kind = kind
        self.owner = owner
        self.rawValue = raw
    }

    public static func replica(_ id: ReplicaID) -> RecordID {
        RecordID(kind: .replica, owner: id.rawValue, raw: "RE.\(id.rawValue)")
    }

    /// Parses an id; names the field in the error.
    public static func parse(_ raw: String, field: String = "id") throws -> RecordID {
        let parts = raw.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        let bad = SyncError.invalid(
            field, raw, "mã bản ghi có dạng HD.<đơn vị>.<bản sao>.<số>, NV.<đơn vị>.<mã>, BC.<đơn vị>.<kỳ> hoặc RE.<bản sao>.")
        guard let prefix = parts.first, parts.allSatisfy({ !$0.isEmpty && $0.utf8.count <= 40 }) else { throw bad }
        let okChars = { (s: String) in
            s.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-") }
        }
        guard parts.allSatisfy(okChars) else { throw bad }
        switch prefix {
        case "RE":
            guard parts.count == 2, ReplicaID(parts[1]) != nil else { throw bad }
            return RecordID(kind: .replica, owner: parts[1], raw: raw)
        case "NV":
            guard parts.count == 3 || parts.count == 4 else { throw bad }
            return RecordID(kind: .task, owner: parts[1], raw: raw)
        case "HD":
            guard parts.count == 4, ReplicaID(parts[2]) != nil, UInt64(parts[3]) != nil else { throw bad }
            return RecordID(kind: .activity, owner: parts[1], raw: raw)
        case "BC":
            guard parts.count == 3 else { throw bad }
            return RecordID(kind: .report, owner: parts[1], raw: raw)
        default:
            throw bad
        }
    }
}

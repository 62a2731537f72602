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
        func bad() -> SyncError {
            SyncError.invalid(
                field, raw, "mã bản ghi có dạng HD.<đơn vị>.<bản sao>.<số>, NV.<đơn vị>.<mã>, BC.<đơn vị>.<kỳ> hoặc RE.<bản sao>.")
        }
        // Every part is 1–40 of A–Z, a–z, 0–9 and '-' (ASCII only): checked on the bytes, which
        // also makes splitting on the bytes safe.
        var length = 0
        for b in raw.utf8 {
            if b == UInt8(ascii: ".") {
                guard length > 0 else { throw bad() }
                length = 0
                continue
            }
            guard (b >= 0x61 && b <= 0x7A) || (b >= 0x41 && b <= 0x5A) || (b >= 0x30 && b <= 0x39) || b == UInt8(ascii: "-") else {
                throw bad()
            }
            length += 1
            guard length <= 40 else { throw bad() }
        }
        guard length > 0 else { throw bad() }
        let parts = raw.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false).map { Substring($0) }
        switch parts[0] {
        case "RE":
            guard parts.count == 2, ReplicaID(String(parts[1])) != nil else { throw bad() }
            return RecordID(kind: .replica, owner: String(parts[1]), raw: raw)
        case "NV":
            guard parts.count == 3 || parts.count == 4 else { throw bad() }
            return RecordID(kind: .task, owner: String(parts[1]), raw: raw)
        case "HD":
            guard parts.count == 4, ReplicaID(String(parts[2])) != nil, UInt64(parts[3]) != nil else { throw bad() }
            return RecordID(kind: .activity, owner: String(parts[1]), raw: raw)
        case "BC":
            guard parts.count == 3 else { throw bad() }
            return RecordID(kind: .report, owner: String(parts[1]), raw: raw)
        default:
            throw bad()
        }
    }
}

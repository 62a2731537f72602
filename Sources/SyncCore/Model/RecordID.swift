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
    /// `KH.<year>.<code>`: one entry of a year's plan (its heading `KH.<year>.CHUNG`, a content
    /// item ND.., a form HT.., a duty TN..), written only by the Office. `owner` is the year.
    case plan
    /// `VB.<unit>.<replica>.<counter>`: a direction or steering document the Office issued
    /// (số, ngày, trích yếu), cited in section I of the consolidated report. Office only.
    case directive
    /// `TH.<unit>.<period>`: the Office's consolidated draft of a period: the Ban's assessment,
    /// next period's tasks and proposals, written into sections I, III–V. Office only.
    case draft

    public var prefix: String {
        switch self {
        case .replica: return "RE"
        case .task: return "NV"
        case .activity: return "HD"
        case .report: return "BC"
        case .plan: return "KH"
        case .directive: return "VB"
        case .draft: return "TH"
        }
    }

    /// The typed table that holds this entity's current values.
    public var table: String {
        switch self {
        case .replica: return "replica"
        case .task: return "task"
        case .activity: return "activity"
        case .report: return "unit_report"
        case .plan: return "plan_entry"
        case .directive: return "directive"
        case .draft: return "consolidated_draft"
        }
    }

    /// The kind's number in op-log record references (frozen).
    public var code: Int64 {
        switch self {
        case .replica: return 0
        case .task: return 1
        case .activity: return 2
        case .report: return 3
        case .plan: return 4
        case .directive: return 5
        case .draft: return 6
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
        case .plan: return "mục Kế hoạch"
        case .directive: return "văn bản chỉ đạo"
        case .draft: return "dự thảo báo cáo tổng hợp"
        }
    }
}

extension RecordID {
    /// Whether `raw` has the shape of a record id of a kind a later program may add: a prefix of
    /// two capital letters that is no known kind's, then 1–3 parts of 1–40 of A–Z, a–z, 0–9, '-'.
    public static func isLaterKind(_ raw: String) -> Bool {
        let parts = raw.split(separator: ".", omittingEmptySubsequences: false)
        guard (2...4).contains(parts.count), parts[0].utf8.count == 2, parts[0].utf8.allSatisfy({ $0 >= 0x41 && $0 <= 0x5A }),
            !EntityKind.allCases.contains(where: { $0.prefix == parts[0] })
        else { return false }
        return parts.dropFirst().allSatisfy { p in
            (1...40).contains(p.utf8.count)
                && p.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D }
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
                field, raw,
                "mã bản ghi có dạng HD.<đơn vị>.<bản sao>.<số>, NV.<đơn vị>.<mã>, BC.<đơn vị>.<kỳ>, KH.<năm>.<mã>, VB.<đơn vị>.<bản sao>.<số>, TH.<đơn vị>.<kỳ> hoặc RE.<bản sao>."
            )
        }
        // Every part is 1–40 of A–Z, a–z, 0–9 and '-' (ASCII only), and there are 2–4 parts:
        // checked in one pass over the bytes, which finds the parts' bounds too (parsing runs
        // once per record per batch of ops, so it avoids splitting into arrays).
        var utf8 = raw
        let parsed: (kind: EntityKind, owner: String)? = utf8.withUTF8 { b in
            var ends = (0, 0, 0, 0)
            var parts = 0
            var length = 0
            for i in 0...b.count {
                if i == b.count || b[i] == UInt8(ascii: ".") {
                    guard length > 0, parts < 4 else { return nil }
                    switch parts {
                    case 0: ends.0 = i
                    case 1: ends.1 = i
                    case 2: ends.2 = i
                    default: ends.3 = i
                    }
                    parts += 1
                    length = 0
                    continue
                }
                let c = b[i]
                guard (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A) || (c >= 0x30 && c <= 0x39) || c == UInt8(ascii: "-") else {
                    return nil
                }
                length += 1
                guard length <= 40 else { return nil }
            }
            func part(_ from: Int, _ to: Int) -> UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(rebasing: b[from..<to]) }
            func isReplica(_ p: UnsafeBufferPointer<UInt8>) -> Bool {
                (4...32).contains(p.count) && p.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x7A) }
            }
            func isCounter(_ p: UnsafeBufferPointer<UInt8>) -> Bool {
                var n: UInt64 = 0
                for c in p {
                    guard c >= 0x30, c <= 0x39 else { return false }
                    let (m, o1) = n.multipliedReportingOverflow(by: 10)
                    let (a, o2) = m.addingReportingOverflow(UInt64(c - 0x30))
                    if o1 || o2 { return false }
                    n = a
                }
                return true
            }
            guard ends.0 == 2, parts >= 2 else { return nil }
            let owner = part(3, ends.1)
            let kind: EntityKind
            switch (b[0], b[1]) {
            case (UInt8(ascii: "R"), UInt8(ascii: "E")):
                guard parts == 2, isReplica(owner) else { return nil }
                kind = .replica
            case (UInt8(ascii: "N"), UInt8(ascii: "V")):
                guard parts == 3 || parts == 4 else { return nil }
                kind = .task
            case (UInt8(ascii: "H"), UInt8(ascii: "D")):
                guard parts == 4, isReplica(part(ends.1 + 1, ends.2)), isCounter(part(ends.2 + 1, ends.3)) else { return nil }
                kind = .activity
            case (UInt8(ascii: "B"), UInt8(ascii: "C")):
                guard parts == 3 else { return nil }
                kind = .report
            case (UInt8(ascii: "K"), UInt8(ascii: "H")):
                guard parts == 3, owner.count == 4, owner.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
                kind = .plan
            case (UInt8(ascii: "V"), UInt8(ascii: "B")):
                guard parts == 4, isReplica(part(ends.1 + 1, ends.2)), isCounter(part(ends.2 + 1, ends.3)) else { return nil }
                kind = .directive
            case (UInt8(ascii: "T"), UInt8(ascii: "H")):
                guard parts == 3 else { return nil }
                kind = .draft
            default:
                return nil
            }
            return (kind, String(decoding: owner, as: UTF8.self))
        }
        guard let parsed else { throw bad() }
        return RecordID(kind: parsed.kind, owner: parsed.owner, raw: raw)
    }
}

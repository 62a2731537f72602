import Foundation

/// The type of one replicated field, with the rule its values must satisfy.
public enum FieldType: Sendable, Hashable {
    /// Free text, NFC, at most this many characters.
    case text(maxLength: Int)
    /// A whole number ≥ 0.
    case count
    /// A calendar date `YYYY-MM-DD`.
    case date
    /// A unit code from the catalog.
    case unit
    /// A content item (ND..) or duty (TN..) code.
    case planItem
    /// A form code (HT..).
    case form
    /// A comma-separated, sorted, duplicate-free list of content item codes.
    case contentList
    /// An http(s) URL.
    case url
    /// One of a fixed set of codes.
    case choice([String])
    /// 0 or 1.
    case flag
    /// An ISO 8601 timestamp.
    case timestamp
    /// A duty code (TN..) of the plan.
    case duty
    /// A reporting period code (`2026-Q1`…).
    case period
    /// An Ed25519 public key, 32 bytes in base64 (a replica's signing key).
    case publicKey
    /// A comma-separated, sorted, duplicate-free list of unit codes.
    case unitList
}

/// One replicated field of an entity. The order of `EntitySchema.fields` is frozen once
/// released: the index is stored in each record's replication metadata.
public struct FieldSpec: Sendable, Hashable {
    public var name: String
    public var type: FieldType
    /// Vietnamese label for messages and listings.
    public var label: String
    /// Whether the field can be null.
    public var optional: Bool

    public init(_ name: String, _ type: FieldType, _ label: String, optional: Bool = true) {
        self.name = name
        self.type = type
        self.label = label
        self.optional = optional
    }
}

/// The replicated fields of each entity kind.
public enum EntitySchema {
    public static let taskStatuses = TaskStatus.allCases.map(\.rawValue)
    public static let reportStatuses = UnitReportStatus.allCases.map(\.rawValue)

    public static func fields(_ kind: EntityKind) -> [FieldSpec] {
        switch kind {
        case .replica: return replicaFields
        case .task: return taskFields
        case .activity: return activityFields
        case .report: return reportFields
        case .plan: return planFields
        case .directive: return directiveFields
        case .draft: return draftFields
        }
    }

    static let replicaFields: [FieldSpec] = [
        FieldSpec("unit", .unit, "đơn vị", optional: false),
        FieldSpec("label", .text(maxLength: 200), "tên máy"),
        // Appended in the release that signs ops: the index of earlier fields is frozen.
        FieldSpec("key", .publicKey, "khóa ký của máy"),
    ]

    static let taskFields: [FieldSpec] = [
        FieldSpec("unit", .unit, "đơn vị", optional: false),
        FieldSpec("item", .planItem, "nội dung/nhiệm vụ", optional: false),
        FieldSpec("title", .text(maxLength: 500), "tên nhiệm vụ", optional: false),
        FieldSpec("due", .date, "hạn"),
        FieldSpec("status", .choice(taskStatuses), "trạng thái", optional: false),
        FieldSpec("note", .text(maxLength: 4000), "ghi chú tiến độ"),
        FieldSpec("deleted", .flag, "đã xóa", optional: false),
    ]

    static let activityFields: [FieldSpec] = [
        FieldSpec("unit", .unit, "đơn vị", optional: false),
        FieldSpec("date", .date, "ngày", optional: false),
        FieldSpec("form", .form, "hình thức", optional: false),
        FieldSpec("content", .contentList, "nội dung", optional: false),
        FieldSpec("title", .text(maxLength: 500), "tiêu đề", optional: false),
        FieldSpec("description", .text(maxLength: 8000), "mô tả"),
        FieldSpec("quantity", .count, "số lượng"),
        FieldSpec("participants", .count, "số người tham dự"),
        FieldSpec("url", .url, "đường dẫn"),
        FieldSpec("note", .text(maxLength: 4000), "ghi chú"),
        FieldSpec("recorded", .timestamp, "thời điểm nhập", optional: false),
        FieldSpec("deleted", .flag, "đã xóa", optional: false),
        // Appended in schema 3: the duty (TN..) the activity serves, so that duties are reported
        // from their evidence.
        FieldSpec("duty", .duty, "nhiệm vụ phục vụ"),
    ]

    static let reportFields: [FieldSpec] = [
        FieldSpec("unit", .unit, "đơn vị", optional: false),
        FieldSpec("period", .period, "kỳ báo cáo", optional: false),
        FieldSpec("results", .text(maxLength: 20000), "kết quả"),
        FieldSpec("issues", .text(maxLength: 20000), "tồn tại, hạn chế"),
        FieldSpec("proposals", .text(maxLength: 20000), "đề xuất, kiến nghị"),
        FieldSpec("status", .choice(reportStatuses), "trạng thái", optional: false),
        FieldSpec("figures", .text(maxLength: 200_000), "số liệu"),
        FieldSpec("figures_hash", .text(maxLength: 128), "mã băm số liệu"),
        FieldSpec("submitted_at", .timestamp, "thời điểm gửi"),
        FieldSpec("tthc_total", .count, "số TTHC đủ điều kiện"),
        FieldSpec("tthc_online", .count, "số TTHC trực tuyến toàn trình"),
        FieldSpec("dossiers_total", .count, "tổng số hồ sơ"),
        FieldSpec("dossiers_online", .count, "số hồ sơ trực tuyến"),
        FieldSpec("deleted", .flag, "đã xóa", optional: false),
    ]

    /// The kinds of plan entry (`KH.<year>.<code>`): the plan's heading (`CHUNG`), a content item,
    /// a form, a duty.
    public static let planEntryTypes = ["plan", "content", "form", "duty"]

    /// One entry of a year's plan (docs/PLAN-DATA.md). Which fields an entry uses depends on its
    /// `type`; the heading keeps the plan-level data (agency, targets, legal basis, recipients,
    /// signer) as canonical JSON in `document`.
    static let planFields: [FieldSpec] = [
        FieldSpec("type", .choice(planEntryTypes), "loại mục", optional: false),
        FieldSpec("title", .text(maxLength: 2000), "tên", optional: false),
        FieldSpec("measure", .text(maxLength: 200), "đơn vị tính"),
        FieldSpec("people", .text(maxLength: 200), "đơn vị tính số người"),
        FieldSpec("url_required", .flag, "cần đường dẫn"),
        FieldSpec("units", .unitList, "đơn vị thực hiện"),
        FieldSpec("valid_from", .date, "áp dụng từ ngày"),
        FieldSpec("retired_on", .date, "thôi áp dụng từ ngày"),
        FieldSpec("symbol", .text(maxLength: 200), "số, ký hiệu"),
        FieldSpec("issued", .date, "ngày ban hành"),
        FieldSpec("document", .text(maxLength: 200_000), "nội dung chung"),
        FieldSpec("assumed", .flag, "giả định"),
    ]

    /// A direction or steering document of the Office (section I of the consolidated report).
    static let directiveFields: [FieldSpec] = [
        FieldSpec("unit", .unit, "đơn vị", optional: false),
        FieldSpec("symbol", .text(maxLength: 100), "số, ký hiệu", optional: false),
        FieldSpec("issued", .date, "ngày ban hành", optional: false),
        FieldSpec("summary", .text(maxLength: 2000), "trích yếu", optional: false),
        FieldSpec("deleted", .flag, "đã xóa", optional: false),
    ]

    /// The Office's consolidated draft of one period: the Ban's own text of sections I, III, IV, V.
    static let draftFields: [FieldSpec] = [
        FieldSpec("unit", .unit, "đơn vị", optional: false),
        FieldSpec("period", .period, "kỳ báo cáo", optional: false),
        FieldSpec("direction", .text(maxLength: 20000), "công tác chỉ đạo, điều hành"),
        FieldSpec("strengths", .text(maxLength: 20000), "ưu điểm"),
        FieldSpec("weaknesses", .text(maxLength: 20000), "tồn tại, hạn chế"),
        FieldSpec("causes", .text(maxLength: 20000), "nguyên nhân"),
        FieldSpec("next_tasks", .text(maxLength: 20000), "nhiệm vụ kỳ tới"),
        FieldSpec("proposals", .text(maxLength: 20000), "đề xuất, kiến nghị"),
        FieldSpec("deleted", .flag, "đã xóa", optional: false),
    ]

    /// The index of a field in its entity's schema.
    public static func index(of field: String, in kind: EntityKind) -> Int? {
        fields(kind).firstIndex { $0.name == field }
    }
}

/// Which kinds and fields a program knows: a value, so that two schema versions can meet in one
/// process (tests) as they meet between machines a release apart. Fields are append-only
/// (`FieldSpec`), so a version is, per kind, how many of `EntitySchema.fields(kind)` it knows.
/// An op naming a kind or field the schema does not know is kept, counted, relayed and verified,
/// not applied (docs/SYNC-CONTRACT.md, "Mixed program versions"); the upgrade that knows it applies it.
public struct SchemaVersion: Sendable, Hashable, CustomStringConvertible {
    public let version: Int
    /// Known fields per kind, by `EntityKind.code` (0: the kind is unknown).
    let fieldCounts: [Int]

    public init(version: Int, fieldCounts: [EntityKind: Int]) {
        self.version = version
        var counts = [Int](repeating: 0, count: EntityKind.allCases.count)
        for (k, n) in fieldCounts { counts[Int(k.code)] = min(n, EntitySchema.fields(k).count) }
        self.fieldCounts = counts
    }

    /// The releases before the plan was data: no plan entries.
    public static let v1 = SchemaVersion(version: 1, fieldCounts: [.replica: 3, .task: 7, .activity: 12, .report: 14])

    /// The release with the plan as data, before activities named their duty and the Office kept
    /// its consolidated drafts.
    public static let v2 = SchemaVersion(version: 2, fieldCounts: [.replica: 3, .task: 7, .activity: 12, .report: 14, .plan: 12])

    /// What this program knows: every kind and field of `EntitySchema`.
    public static let current = SchemaVersion(
        version: 3, fieldCounts: Dictionary(uniqueKeysWithValues: EntityKind.allCases.map { ($0, EntitySchema.fields($0).count) }))

    public var description: String { String(version) }

    /// Whether field `index` of `kind` is known.
    func knows(_ kind: EntityKind, field index: Int) -> Bool { index < fieldCounts[Int(kind.code)] }

    /// A field name a later program could use: lower-case ASCII letters, digits and `_`, 1–40.
    static func isFieldName(_ s: String) -> Bool {
        (1...40).contains(s.utf8.count) && s.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F }
    }
}

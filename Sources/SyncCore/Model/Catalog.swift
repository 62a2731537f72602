import Foundation

/// A year's plan as one value: the heading, units, content items (ND..), forms (HT..), duties
/// (TN..), targets, legal basis, recipients and signer. The 2026 plan ships with the programs
/// (`Resources/plan-2026.json`, also `plans/2026.json`) and is every replica's genesis; the plan
/// in force for a year is read from the replicated plan entries (`PlanBook`, docs/PLAN-DATA.md),
/// which the Office amends and extends to new years. A plan file (`unit-client plan import`)
/// has this same form; its `units` may be left out.
public struct Catalog: Sendable, Codable, Equatable {
    public struct Plan: Sendable, Codable, Equatable {
        public var symbol: String
        public var title: String
        public var year: Int
        /// `BAN QUẢN LÝ KHU KINH TẾ CỬA KHẨU ĐỒNG ĐĂNG - LẠNG SƠN`, as the document heading shows it.
        public var agency: String
        /// `Ban Quản lý Khu kinh tế cửa khẩu Đồng Đăng - Lạng Sơn`, as running text names it.
        public var agencyName: String
        public var agencyShort: String
        public var parent: String
        public var place: String
    }

    public struct Unit: Sendable, Codable, Hashable {
        public var code: String
        public var name: String
        /// `office`, `department` or `centre`.
        public var kind: String
        public var validFrom: String
        public var validTo: String?
        public var assumed: Bool?

        /// Whether the unit exists on a day (`YYYY-MM-DD`): units are dated master data.
        public func isValid(on day: String) -> Bool {
            day >= validFrom && (validTo.map { day <= $0 } ?? true)
        }
    }

    public struct ContentItem: Sendable, Codable, Hashable {
        public var code: String
        public var title: String
        /// The first day activities may name it (nil: the whole plan year).
        public var validFrom: String?
        /// The day it was retired: activities dated from then on may not name it (nil: in force).
        public var retiredOn: String?

        public init(code: String, title: String, validFrom: String? = nil, retiredOn: String? = nil) {
            self.code = code
            self.title = title
            self.validFrom = validFrom
            self.retiredOn = retiredOn
        }
    }

    public struct Form: Sendable, Codable, Hashable {
        public var code: String
        public var title: String
        /// What `quantity` counts for this form (lớp, tin bài…).
        public var quantityUnit: String
        /// What `participants` counts, when the form reaches people directly.
        public var participantsUnit: String?
        /// Whether an activity of this form must carry the URL of what was published.
        public var requiresURL: Bool
        public var assumed: Bool?
        public var validFrom: String?
        public var retiredOn: String?
    }

    public struct Duty: Sendable, Codable, Hashable {
        public var code: String
        public var title: String
        /// The units the plan makes responsible for it.
        public var units: [String]
        public var validFrom: String?
        public var retiredOn: String?
    }

    public struct Target: Sendable, Codable, Hashable {
        public var item: String
        public var text: String
    }

    public struct LegalReference: Sendable, Codable, Hashable {
        public var symbol: String
        public var date: String?
        public var title: String
    }

    public struct Signer: Sendable, Codable, Hashable {
        public var authority: String
        public var title: String
        public var name: String
    }

    public var plan: Plan
    public var units: [Unit]
    public var contentItems: [ContentItem]
    public var forms: [Form]
    public var duties: [Duty]
    public var targets: [Target]
    public var legalReferences: [LegalReference]
    public var recipients: [String]
    public var signer: Signer
    /// The plan's reporting calendar; nil follows Nghị định 09/2019 (`ReportingCalendar.decree09`).
    public var reporting: ReportingCalendar? = nil

    /// The cut-offs and deadline of this plan's periods.
    public var calendar: ReportingCalendar { reporting ?? .decree09 }

    public init(
        plan: Plan, units: [Unit], contentItems: [ContentItem], forms: [Form], duties: [Duty], targets: [Target],
        legalReferences: [LegalReference], recipients: [String], signer: Signer
    ) {
        self.plan = plan
        self.units = units
        self.contentItems = contentItems
        self.forms = forms
        self.duties = duties
        self.targets = targets
        self.legalReferences = legalReferences
        self.recipients = recipients
        self.signer = signer
    }

    enum CodingKeys: String, CodingKey {
        case plan, units, contentItems, forms, duties, targets, legalReferences, recipients, signer, reporting
    }

    /// A plan file may leave out `units` (the organisation's units are not the plan's to change),
    /// `targets` and `legalReferences`.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        plan = try c.decode(Plan.self, forKey: .plan)
        units = try c.decodeIfPresent([Unit].self, forKey: .units) ?? []
        contentItems = try c.decode([ContentItem].self, forKey: .contentItems)
        forms = try c.decode([Form].self, forKey: .forms)
        duties = try c.decode([Duty].self, forKey: .duties)
        targets = try c.decodeIfPresent([Target].self, forKey: .targets) ?? []
        legalReferences = try c.decodeIfPresent([LegalReference].self, forKey: .legalReferences) ?? []
        recipients = try c.decode([String].self, forKey: .recipients)
        signer = try c.decode(Signer.self, forKey: .signer)
        reporting = try c.decodeIfPresent(ReportingCalendar.self, forKey: .reporting)
    }

    /// The catalog that ships with the programs, or why it could not be read. Read once.
    public static let standardResult: Result<Catalog, SyncError> = {
        do { return .success(try load(from: standardLocations())) } catch let e as SyncError { return .failure(e) } catch {
            return .failure(SyncError(.internal, "Lỗi không mong đợi khi đọc dữ liệu Kế hoạch: \(error)", field: "catalog"))
        }
    }()

    /// The catalog that ships with the programs. The executables check `standardResult` before
    /// anything else (`CommandSupport`), so a missing file is a clear message, never a crash;
    /// code that reaches this without that check exits with the same message.
    public static var standard: Catalog {
        switch standardResult {
        case .success(let catalog):
            return catalog
        case .failure(let error):
            FileHandle.standardError.write(Data("Lỗi: \(error.message)\n".utf8))
            exit(error.exitCode)
        }
    }

    static let fileName = "plan-2026.json"

    /// Where the catalog file is looked for: only `CCHC_CATALOG` when it is set; otherwise, in order, beside the
    /// executable, where the build puts it (`CCHCSync_SyncCore.resources/`); the installed layout
    /// `<prefix>/bin/<program>` + `<prefix>/share/cchc/` (`scripts/install.sh`); the source tree
    /// the program was built from (development builds and tests).
    static func standardLocations(environment: [String: String] = ProcessInfo.processInfo.environment) -> [URL] {
        // Named explicitly, the file is the only place looked in.
        if let path = environment["CCHC_CATALOG"], !path.isEmpty { return [URL(fileURLWithPath: path)] }
        var out: [URL] = []
        let executable = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath()
        let exeDir = (Bundle.main.executableURL?.resolvingSymlinksInPath() ?? executable).deletingLastPathComponent()
        out.append(exeDir.appendingPathComponent("CCHCSync_SyncCore.resources").appendingPathComponent(fileName))
        out.append(exeDir.deletingLastPathComponent().appendingPathComponent("share/cchc").appendingPathComponent(fileName))
        out.append(
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Resources/\(fileName)"))
        return out
    }

    /// The first of `locations` that exists, decoded; an error naming every place looked in, or the
    /// file that does not decode.
    static func load(from locations: [URL]) throws(SyncError) -> Catalog {
        guard let url = locations.first(where: { FileManager.default.fileExists(atPath: $0.path) }) else {
            throw SyncError(
                .database,
                "Không tìm thấy dữ liệu Kế hoạch (\(fileName)); đã tìm ở: \(locations.map(\.path).joined(separator: ", ")). Hãy cài đặt lại bằng scripts/install.sh hoặc đặt CCHC_CATALOG=<tệp>.",
                field: "catalog", value: fileName)
        }
        do {
            return try JSONDecoder().decode(Catalog.self, from: try Data(contentsOf: url))
        } catch {
            throw SyncError(
                .corrupt, "Tệp dữ liệu Kế hoạch «\(url.path)» bị hỏng hoặc không đúng định dạng.", field: "catalog", value: url.path, cause: error)
        }
    }

    /// Whether an entry dated `validFrom`…`retiredOn` is in force on `day`.
    public static func inForce(validFrom: String?, retiredOn: String?, on day: String) -> Bool {
        (validFrom.map { day >= $0 } ?? true) && (retiredOn.map { day < $0 } ?? true)
    }

    /// Whether an entry is in force on some day of the window `from`…`to`.
    static func overlaps(validFrom: String?, retiredOn: String?, from: String, to: String) -> Bool {
        (validFrom.map { $0 <= to } ?? true) && (retiredOn.map { $0 > from } ?? true)
    }

    /// The plan as a report of the window `from`…`to` shows it: the entries in force on some day
    /// of it (an item retired during the period still appears; one added after it does not).
    public func forWindow(from: String, to: String) -> Catalog {
        var c = self
        c.contentItems = contentItems.filter { Self.overlaps(validFrom: $0.validFrom, retiredOn: $0.retiredOn, from: from, to: to) }
        c.forms = forms.filter { Self.overlaps(validFrom: $0.validFrom, retiredOn: $0.retiredOn, from: from, to: to) }
        c.duties = duties.filter { Self.overlaps(validFrom: $0.validFrom, retiredOn: $0.retiredOn, from: from, to: to) }
        return c
    }

    public func unit(_ code: String) -> Unit? { units.first { $0.code == code } }
    public func form(_ code: String) -> Form? { forms.first { $0.code == code } }
    public func contentItem(_ code: String) -> ContentItem? { contentItems.first { $0.code == code } }
    public func duty(_ code: String) -> Duty? { duties.first { $0.code == code } }

    /// The Office: the unit that writes the plan, tasks and consolidated reports.
    public var officeCode: String { units.first { $0.kind == "office" }?.code ?? "VP" }

    /// The duties the plan gives the Office (TN01–TN04): the direction of the communication work,
    /// which section I of the consolidated report accounts for.
    public var officeDuties: [Duty] {
        let office = officeCode
        return duties.filter { $0.units.contains(office) }
    }

    /// Checks a unit code, naming the field in the error.
    public func requireUnit(_ code: String, field: String = "unit") throws -> Unit {
        guard let u = unit(code) else {
            throw SyncError.invalid(field, code, "đơn vị không có trong danh mục (\(units.map(\.code).joined(separator: ", "))).")
        }
        return u
    }
}

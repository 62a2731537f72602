import Foundation
import GRDB

/// Reading the replicated plan (`plan_entry`) into `PlanBook`, and the Office's writes to it.
extension ReplicaStore {
    /// Every year's plan this replica holds.
    public func planBook() throws -> PlanBook {
        try read { db in try Self.planBook(db, base: self.catalog) }
    }

    static func planBook(_ db: Database, base: Catalog) throws -> PlanBook {
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT id, type, title, measure, people, url_required, units, valid_from, retired_on, symbol, issued, document, assumed
                FROM plan_entry ORDER BY id
                """)
        var headings: [Int: Row] = [:]
        var items: [Int: [Row]] = [:]
        for r in rows {
            let id: String = r[0]
            let parts = id.split(separator: ".")
            guard parts.count == 3, let year = Int(parts[1]) else { continue }
            if parts[2] == PlanEntries.headingCode, (r[1] as String?) == "plan" {
                headings[year] = r
            } else {
                items[year, default: []].append(r)
            }
        }
        let unitOrder = Dictionary(uniqueKeysWithValues: base.units.enumerated().map { ($1.code, $0) })
        var years: [Int: Catalog] = [:]
        for (year, h) in headings {
            guard let json = (h[11] as String?)?.data(using: .utf8),
                let doc = try? JSONDecoder().decode(PlanEntries.Document.self, from: json)
            else { continue }
            var c = Catalog(
                plan: Catalog.Plan(
                    symbol: h[9] ?? "", title: h[2] ?? "", year: year, agency: doc.agency, agencyName: doc.agencyName,
                    agencyShort: doc.agencyShort, parent: doc.parent, place: doc.place),
                units: base.units, contentItems: [], forms: [], duties: [], targets: doc.targets, legalReferences: doc.legalReferences,
                recipients: doc.recipients, signer: doc.signer)
            c.reporting = doc.reporting
            for r in items[year] ?? [] {
                let code = String((r[0] as String).split(separator: ".")[2])
                let title: String = r[2] ?? code
                let from: String? = r[7]
                let retired: String? = r[8]
                switch r[1] as String? {
                case "content":
                    c.contentItems.append(Catalog.ContentItem(code: code, title: title, validFrom: from, retiredOn: retired))
                case "form":
                    c.forms.append(
                        Catalog.Form(
                            code: code, title: title, quantityUnit: r[3] ?? "", participantsUnit: r[4], requiresURL: (r[5] as Int64?) == 1,
                            assumed: (r[12] as Int64?) == 1 ? true : nil, validFrom: from, retiredOn: retired))
                case "duty":
                    let units = ((r[6] as String?) ?? "").split(separator: ",").map(String.init).sorted {
                        (unitOrder[$0] ?? .max, $0) < (unitOrder[$1] ?? .max, $1)
                    }
                    c.duties.append(Catalog.Duty(code: code, title: title, units: units, validFrom: from, retiredOn: retired))
                default:
                    continue
                }
            }
            years[year] = c
        }
        return PlanBook(base: base, years: years)
    }
}

/// One change the Office makes to a year's plan (`unit-client plan amend`).
public enum PlanAmendment: Sendable, Equatable {
    case addContent(code: String, title: String, from: String?)
    case addForm(code: String, title: String, measure: String, people: String?, requiresURL: Bool, from: String?)
    case addDuty(code: String, title: String, units: [String], from: String?)
    /// From `on`, activities may no longer name it; earlier ones keep it, and reports of periods
    /// that include days before `on` still show it.
    case retire(code: String, on: String)
}

/// What a plan import or amendment wrote.
public struct PlanWriteReport: Sendable, Equatable, Codable {
    public var year: Int
    /// Plan entries created or changed.
    public var entries = 0
    /// Duty tasks created for the units a duty names.
    public var tasks = 0
    /// Ops written.
    public var ops = 0
}

extension ReplicaStore {
    /// The id of the task a duty gives a unit: `NV.<unit>.<duty>` in 2026 (as genesis made them),
    /// `NV.<unit>.<duty>-<year>` in later years.
    public static func dutyTaskID(unit: String, duty: String, year: Int) -> RecordID {
        RecordID(kind: .task, owner: unit, suffix: year == 2026 ? duty : "\(duty)-\(year)")
    }

    /// This replica's identity when it is the Office's; else `forbidden` (exit 4) saying what only
    /// the Office may do.
    public func requireOffice(_ what: String) throws -> Identity {
        let me = try requireIdentity()
        guard me.unit == catalog.officeCode else {
            throw SyncError(
                .forbidden,
                "Chỉ Văn phòng (\(catalog.officeCode)) được \(what); bản sao này thuộc đơn vị \(me.unit). Hãy đề nghị Văn phòng thực hiện.",
                field: "unit", value: me.unit)
        }
        return me
    }

    /// Writes a year's plan from a plan file (Office only). A plan already held is brought to the
    /// file's content: only entries that differ are written, so importing one file twice writes
    /// nothing the second time. Each duty gets its task for every unit it names.
    @discardableResult
    public func importPlan(_ plan: Catalog, nowMillis: UInt64? = nil) throws -> PlanWriteReport {
        _ = try requireOffice("nhập Kế hoạch")
        try Self.checkPlanFile(plan, base: catalog)
        let year = plan.plan.year
        return try localWrites { batch in
            var report = PlanWriteReport(year: year)
            for (record, changes) in PlanEntries.changes(for: plan) {
                let ops = try batch.write(record, changes: changes, nowMillis: nowMillis)
                if !ops.isEmpty {
                    report.entries += 1
                    report.ops += ops.count
                }
            }
            for duty in plan.duties {
                try Self.writeDutyTasks(duty, year: year, batch: &batch, report: &report, nowMillis: nowMillis)
            }
            return report
        }
    }

    /// Creates the tasks a duty gives its units, where they do not exist yet.
    private static func writeDutyTasks(
        _ duty: Catalog.Duty, year: Int, batch: inout LocalWriteBatch, report: inout PlanWriteReport, nowMillis: UInt64?
    ) throws {
        batch.checkPlan = false
        defer { batch.checkPlan = true }
        for unit in duty.units {
            let id = dutyTaskID(unit: unit, duty: duty.code, year: year)
            if try batch.session.load(id).rowid != 0 { continue }
            var changes: [(String, Value)] = [
                ("unit", .text(unit)), ("item", .text(duty.code)), ("title", .text(VietnameseText.nfc(duty.title))),
                ("status", .text(TaskStatus.notStarted.rawValue)), ("deleted", .int(0)),
            ]
            if year != 2026 { changes.append(("due", .text(PlanBook.window(year: year).to))) }
            report.ops += try batch.write(id, changes: changes, nowMillis: nowMillis).count
            report.tasks += 1
        }
    }

    /// Checks a plan file before anything is written: the year, codes of the right family and
    /// unique, titles and measures given, duties naming known units.
    static func checkPlanFile(_ plan: Catalog, base: Catalog) throws {
        let year = plan.plan.year
        guard (2000...2100).contains(year) else { throw SyncError.invalid("plan.year", String(year), "năm của Kế hoạch phải từ 2000 đến 2100.") }
        if plan.plan.title.trimmingCharacters(in: .whitespaces).isEmpty { throw SyncError.invalid("plan.title", "", "Kế hoạch cần có tên.") }
        try plan.reporting?.validate()
        var seen = Set<String>()
        func code(_ c: String, _ prefix: String, _ field: String) throws {
            guard FieldValidator.isPlanCode(Substring(c), prefix: prefix) else {
                throw SyncError.invalid(field, c, "mã phải có dạng \(prefix) và 2–3 chữ số, ví dụ \(prefix)01.")
            }
            guard seen.insert(c).inserted else { throw SyncError.invalid(field, c, "mã bị lặp trong tệp Kế hoạch.") }
        }
        func title(_ t: String, _ field: String, _ c: String) throws {
            if t.trimmingCharacters(in: .whitespaces).isEmpty { throw SyncError.invalid(field, c, "mục \(c) cần có tên.") }
        }
        for i in plan.contentItems {
            try code(i.code, "ND", "contentItems.code")
            try title(i.title, "contentItems.title", i.code)
        }
        for f in plan.forms {
            try code(f.code, "HT", "forms.code")
            try title(f.title, "forms.title", f.code)
            if f.quantityUnit.trimmingCharacters(in: .whitespaces).isEmpty {
                throw SyncError.invalid("forms.quantityUnit", f.code, "hình thức \(f.code) cần có đơn vị tính.")
            }
        }
        for d in plan.duties {
            try code(d.code, "TN", "duties.code")
            try title(d.title, "duties.title", d.code)
            guard !d.units.isEmpty else { throw SyncError.invalid("duties.units", d.code, "nhiệm vụ \(d.code) cần ít nhất một đơn vị thực hiện.") }
            for u in d.units { _ = try base.requireUnit(u, field: "duties.units") }
        }
        for u in plan.units where base.unit(u.code) == nil {
            throw SyncError.invalid(
                "units", u.code, "đơn vị không có trong danh mục đơn vị của Ban (\(base.units.map(\.code).joined(separator: ", "))).")
        }
        for d in [plan.contentItems.map { ($0.validFrom, $0.retiredOn) }, plan.forms.map { ($0.validFrom, $0.retiredOn) }].joined() {
            for day in [d.0, d.1].compactMap({ $0 }) { _ = try CalendarDay.parse(day, field: "validFrom/retiredOn") }
        }
    }

    /// Amends a year's plan (Office only): adds a content item, form or duty (with the duty's
    /// tasks), or retires an entry.
    @discardableResult
    public func amendPlan(year: Int, _ amendments: [PlanAmendment], nowMillis: UInt64? = nil) throws -> PlanWriteReport {
        _ = try requireOffice("sửa đổi Kế hoạch")
        let book = try planBook()
        let plan = try book.requirePlan(year: year, field: "year", value: String(year))
        var added = Set<String>()
        func exists(_ code: String) -> Bool {
            plan.contentItem(code) != nil || plan.form(code) != nil || plan.duty(code) != nil || added.contains(code)
        }
        func newCode(_ code: String, _ prefix: String, _ field: String) throws {
            guard FieldValidator.isPlanCode(Substring(code), prefix: prefix) else {
                throw SyncError.invalid(field, code, "mã phải có dạng \(prefix) và 2–3 chữ số, ví dụ \(prefix)12.")
            }
            guard !exists(code) else {
                throw SyncError(.conflict, "Kế hoạch năm \(year) đã có mục \(code).", field: field, value: code)
            }
            added.insert(code)
        }
        func text(_ s: String, _ field: String) throws -> Value {
            let t = VietnameseText.nfc(s).trimmingCharacters(in: .whitespacesAndNewlines)
            if t.isEmpty { throw SyncError.invalid(field, s, "không được để trống.") }
            return .text(t)
        }
        func day(_ d: String?, _ field: String) throws -> Value { try d.map { .text(try CalendarDay.parse($0, field: field)) } ?? .null }
        var writes: [(RecordID, [(String, Value)])] = []
        var duties: [Catalog.Duty] = []
        for a in amendments {
            switch a {
            case .addContent(let code, let title, let from):
                try newCode(code, "ND", "add-content")
                writes.append(
                    (
                        PlanEntries.record(year: year, code: code),
                        [("type", .text("content")), ("title", try text(title, "title")), ("valid_from", try day(from, "from"))]
                    ))
            case .addForm(let code, let title, let measure, let people, let url, let from):
                try newCode(code, "HT", "add-form")
                writes.append(
                    (
                        PlanEntries.record(year: year, code: code),
                        [
                            ("type", .text("form")), ("title", try text(title, "title")), ("measure", try text(measure, "measure")),
                            ("people", try people.map { try text($0, "people") } ?? .null), ("url_required", .int(url ? 1 : 0)),
                            ("valid_from", try day(from, "from")),
                        ]
                    ))
            case .addDuty(let code, let title, let units, let from):
                try newCode(code, "TN", "add-duty")
                guard !units.isEmpty else { throw SyncError.invalid("unit", "", "nhiệm vụ \(code) cần ít nhất một đơn vị thực hiện (--unit).") }
                let codes = try units.map { try catalog.requireUnit($0, field: "unit").code }
                writes.append(
                    (
                        PlanEntries.record(year: year, code: code),
                        [
                            ("type", .text("duty")), ("title", try text(title, "title")),
                            ("units", .text(Set(codes).sorted().joined(separator: ","))),
                            ("valid_from", try day(from, "from")),
                        ]
                    ))
                duties.append(Catalog.Duty(code: code, title: title, units: codes))
            case .retire(let code, let on):
                let onDay = try CalendarDay.parse(on, field: "on")
                let retired = plan.contentItem(code)?.retiredOn ?? plan.form(code)?.retiredOn ?? plan.duty(code)?.retiredOn
                guard plan.contentItem(code) != nil || plan.form(code) != nil || plan.duty(code) != nil else {
                    throw SyncError(.notFound, "Kế hoạch năm \(year) không có mục \(code).", field: "retire", value: code)
                }
                if let retired {
                    throw SyncError(
                        .conflict, "Mục \(code) đã thôi áp dụng từ ngày \(CalendarDay.vietnamese(retired)).", field: "retire", value: code)
                }
                writes.append((PlanEntries.record(year: year, code: code), [("retired_on", .text(onDay))]))
            }
        }
        return try localWrites { batch in
            var report = PlanWriteReport(year: year)
            for (record, changes) in writes {
                let ops = try batch.write(record, changes: changes.filter { $0.1 != .null }, nowMillis: nowMillis)
                if !ops.isEmpty {
                    report.entries += 1
                    report.ops += ops.count
                }
            }
            for duty in duties {
                try Self.writeDutyTasks(duty, year: year, batch: &batch, report: &report, nowMillis: nowMillis)
            }
            return report
        }
    }
}

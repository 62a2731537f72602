import Foundation

/// What report assembly reads from a store: raw records only, never stored sums.
public struct ReportInput: Sendable {
    public var catalog: Catalog
    /// Activities not deleted, at least those dated from `LateEntryRule.earliestDay` to the period's end.
    public var activities: [ActivityRow]
    /// Every unit report (all periods: earlier submissions decide late entries).
    public var reports: [UnitReportRow]
    public var tasks: [TaskRow]
    /// The Office's direction documents issued in the period's window.
    public var directives: [DirectiveRow]
    /// The Office's consolidated draft of the period, when it has one.
    public var draft: DraftRow?

    public init(
        catalog: Catalog, activities: [ActivityRow], reports: [UnitReportRow], tasks: [TaskRow], directives: [DirectiveRow] = [],
        draft: DraftRow? = nil
    ) {
        self.catalog = catalog
        self.activities = activities
        self.reports = reports
        self.tasks = tasks
        self.directives = directives
        self.draft = draft
    }
}

/// The administrative heading of the document (số ký hiệu, date, signer, recipients).
public struct ReportHeading: Codable, Sendable, Equatable {
    /// `UBND TỈNH LẠNG SƠN`.
    public var parent: String
    /// `BAN QUẢN LÝ KHU KINH TẾ CỬA KHẨU ĐỒNG ĐĂNG - LẠNG SƠN`.
    public var agency: String
    /// `Ban Quản lý Khu kinh tế cửa khẩu Đồng Đăng - Lạng Sơn`: the agency in running text.
    public var agencyName: String
    /// `BQLKKTCK`, used in the document symbol `BC-BQLKKTCK`.
    public var agencyShort: String
    public var place: String
    /// The document number (`05`); nil leaves it blank for the clerk to fill.
    public var number: String?
    /// The signing date `YYYY-MM-DD`; nil leaves day and month blank.
    public var date: String?
    public var signer: Catalog.Signer
    public var recipients: [String]
    /// The duties the plan gives the issuing Office (TN01–TN04 in 2026): section I reports their progress.
    public var officeDuties: [String]

    public init(catalog: Catalog, number: String? = nil, date: String? = nil, signerName: String? = nil) {
        parent = catalog.plan.parent
        agency = catalog.plan.agency
        agencyName = catalog.plan.agencyName
        agencyShort = catalog.plan.agencyShort
        place = catalog.plan.place
        self.number = number
        self.date = date
        var s = catalog.signer
        if let signerName, !signerName.isEmpty { s.name = signerName }
        signer = s
        recipients = catalog.recipients
        officeDuties = catalog.officeDuties.map(\.code)
    }

    /// The JSON keys: `agencyName` and `officeDuties` are not written, so the JSON keeps its
    /// schema-1 shape.
    enum CodingKeys: String, CodingKey {
        case parent, agency, agencyShort, place, number, date, signer, recipients
    }

    /// A heading read back from JSON takes what the JSON does not hold from the standard catalog
    /// when the agency is that catalog's; otherwise the agency's name is the one written and no
    /// duty is the Office's.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        parent = try c.decode(String.self, forKey: .parent)
        agency = try c.decode(String.self, forKey: .agency)
        agencyShort = try c.decode(String.self, forKey: .agencyShort)
        place = try c.decode(String.self, forKey: .place)
        number = try c.decodeIfPresent(String.self, forKey: .number)
        date = try c.decodeIfPresent(String.self, forKey: .date)
        signer = try c.decode(Catalog.Signer.self, forKey: .signer)
        recipients = try c.decode([String].self, forKey: .recipients)
        let standard = Catalog.standard
        let known = agency == standard.plan.agency
        agencyName = known ? standard.plan.agencyName : agency
        officeDuties = known ? standard.officeDuties.map(\.code) : []
    }

    /// `Số: 05/BC-BQLKKTCK` (blank number when not given).
    public var numberLine: String { "Số: \(number ?? "      ")/BC-\(agencyShort)" }

    /// `14/3/2026`, `05/01/2026`: a day as Nghị định 30 writes it in running text (a leading zero
    /// for days below 10 and months 1 and 2 only).
    public static func officialDay(_ d: String) -> String {
        let p = d.split(separator: "-").compactMap { Int($0) }
        guard p.count == 3 else { return d }
        return "\(p[2] < 10 ? String(format: "%02d", p[2]) : String(p[2]))/\(p[1] <= 2 ? String(format: "%02d", p[1]) : String(p[1]))/\(p[0])"
    }

    /// `ngày 16 tháng 3 năm 2026`, as the form writes a document's date (nil: no valid date).
    public static func longDate(_ d: String) -> String? {
        guard CalendarDay.isValid(d) else { return nil }
        let p = d.split(separator: "-").compactMap { Int($0) }
        let day = p[2] < 10 ? String(format: "%02d", p[2]) : String(p[2])
        let month = p[1] <= 2 ? String(format: "%02d", p[1]) : String(p[1])
        return "ngày \(day) tháng \(month) năm \(p[0])"
    }

    /// `(Số liệu tính từ ngày 15/12/2025 đến ngày 14/3/2026)`: the data window under the title and
    /// each annex title, so that a reader sees December counted in "quý I".
    public static func dataWindow(from: String, to: String) -> String {
        "(Số liệu tính từ ngày \(officialDay(from)) đến ngày \(officialDay(to)))"
    }

    /// `Lạng Sơn, ngày 16 tháng 3 năm 2026`, with the leading zero Nghị định 30 asks for days
    /// below 10 and months 1 and 2.
    public func placeAndDate(year fallbackYear: Int) -> String {
        guard let date, CalendarDay.isValid(date) else {
            return "\(place), ngày      tháng      năm \(fallbackYear)"
        }
        return "\(place), \(Self.longDate(date) ?? date)"
    }
}

/// Online public-service figures: counts summed over the units' period reports, and percentages
/// computed from those sums (never averaged over units).
public struct PublicServiceFigures: Codable, Sendable, Equatable {
    public var tthcTotal: Int64
    public var tthcOnline: Int64
    public var dossiersTotal: Int64
    public var dossiersOnline: Int64
    /// tthcOnline / tthcTotal × 100, two decimals; nil when there is no procedure.
    public var tthcOnlinePercent: Double?
    public var dossiersOnlinePercent: Double?

    public init(tthcTotal: Int64 = 0, tthcOnline: Int64 = 0, dossiersTotal: Int64 = 0, dossiersOnline: Int64 = 0) {
        self.tthcTotal = tthcTotal
        self.tthcOnline = tthcOnline
        self.dossiersTotal = dossiersTotal
        self.dossiersOnline = dossiersOnline
        tthcOnlinePercent = Self.percent(tthcOnline, of: tthcTotal)
        dossiersOnlinePercent = Self.percent(dossiersOnline, of: dossiersTotal)
    }

    public static func percent(_ part: Int64, of whole: Int64) -> Double? {
        guard whole > 0 else { return nil }
        return (Double(part) * 10_000 / Double(whole)).rounded() / 100
    }

    static func + (a: Self, b: Self) -> Self {
        Self(
            tthcTotal: a.tthcTotal + b.tthcTotal, tthcOnline: a.tthcOnline + b.tthcOnline, dossiersTotal: a.dossiersTotal + b.dossiersTotal,
            dossiersOnline: a.dossiersOnline + b.dossiersOnline)
    }
}

/// Task progress for one duty or one unit, at the time the report is assembled.
public struct ProgressCount: Codable, Sendable, Equatable {
    public var code: String
    public var title: String
    public var total: Int
    public var notStarted: Int
    public var inProgress: Int
    public var done: Int
}

/// One unit in the consolidated report: its recomputed figures, its period report's status,
/// narrative and online-service counts.
public struct UnitSection: Codable, Sendable, Equatable {
    public var unit: String
    public var name: String
    /// Submitted, draft, or missing (no report record for the period).
    public var status: SubmissionStatus
    public var submittedAt: String?
    /// Figures recomputed from the raw records now.
    public var figures: UnitFigures
    /// The hash frozen when the unit submitted, and whether the figures recomputed now still
    /// match it (false when records were edited after submission).
    public var frozenHash: String?
    public var frozenMatches: Bool?
    public var results: String?
    public var issues: String?
    public var proposals: String?
    /// The unit's online-service counts, from its submitted report.
    public var publicServices: PublicServiceFigures?
}

/// Totals over all units.
public struct ReportTotals: Codable, Sendable, Equatable {
    public var activities: Int
    public var peopleReached: Int64
    public var lateEntries: Int
    public var byContent: [ContentTotal]
    public var byForm: [FormTotal]
}

/// The hub's consolidated report for one period, assembled from every unit's raw records.
public struct ConsolidatedReport: Codable, Sendable, Equatable {
    /// Version of this JSON shape, for systems that read the export: 2 added `directives`,
    /// `legalBasis`, `duties`, `targets`, `text`, `assignedTasks` and `openAssignedTasks` (docs/REPORTS.md).
    public var schema = 2
    public var heading: ReportHeading
    public var period: String
    public var periodName: String
    public var from: String
    public var to: String
    /// `Kết quả công tác thông tin, tuyên truyền cải cách hành chính quý I năm 2026`.
    public var subject: String
    public var planTitle: String
    public var totals: ReportTotals
    public var units: [UnitSection]
    public var submitted: [String]
    public var notSubmitted: [String]
    public var publicServices: PublicServiceFigures
    public var tasksByDuty: [ProgressCount]
    public var tasksByUnit: [ProgressCount]
    /// Tasks not yet done: the basis of "Phương hướng, nhiệm vụ kỳ tới".
    public var openTasks: [TaskRow]
    /// Every counted activity, by date then unit: the evidence annex.
    public var evidence: [EvidenceItem]
    /// The provincial plans the Ban's plan implements (section I's legal basis).
    public var legalBasis: [Catalog.LegalReference] = []
    /// The Office's direction and steering documents issued in the window.
    public var directives: [DirectiveRow] = []
    /// Each duty of the plan with its evidence in the period (never a status set by hand).
    public var duties: [DutyResult] = []
    /// The plan's targets the period's figures measure.
    public var targets: [TargetCheck] = []
    /// The Ban's own text: the Office's consolidated draft, or the computed suggestion.
    public var text = BanText()
    /// Progress of the tasks the Office assigned (not the plan's standing duties).
    public var assignedTasks: [ProgressCount] = []
    /// Of `openTasks`, those the Office assigned: next period's work in the suggested text.
    public var openAssignedTasks: [TaskRow] = []
    /// The reporting calendar of the period's plan, and the day this report is due.
    public var reporting: ReportingCalendar = .decree09
    public var deadline: String?

    /// The year used in the heading when no date is given.
    public var year: Int { Int(to.prefix(4)) ?? 2026 }

    public static func assemble(period: ReportPeriod, input: ReportInput, heading: ReportHeading) -> ConsolidatedReport {
        let catalog = input.catalog
        let rule = LateEntryRule(period: period, reports: input.reports, calendar: catalog.calendar)
        let w = catalog.calendar.window(period)
        let code = period.description

        // Units that existed at some point of the window, plus any unit with records in it.
        var unitCodes = catalog.units.filter { $0.validFrom <= w.to && ($0.validTo.map { $0 >= w.from } ?? true) }.map(\.code)
        // One accumulator per unit, found through one dictionary lookup per activity; catalog
        // rows are looked up once per activity for both the unit's and the grand totals.
        let empty = FigureAccumulator(catalog: catalog)
        var slotOf: [String: Int] = [:]
        var perUnit: [FigureAccumulator] = []
        var total = empty
        total.trackEvidence = false
        var evidence: [EvidenceItem] = []
        evidence.reserveCapacity(input.activities.count)
        var contents: [Int] = []
        var counted: [ActivityRow] = []
        counted.reserveCapacity(input.activities.count)
        for a in input.activities {
            let placement = rule.placement(unit: a.unit, day: a.date, recorded: a.recorded)
            let lateFrom: String?
            switch placement {
            case .excluded: continue
            case .onTime: lateFrom = nil
            case .late(let origin): lateFrom = origin
            }
            let slot: Int
            if let k = slotOf[a.unit] {
                slot = k
            } else {
                slot = perUnit.count
                slotOf[a.unit] = slot
                perUnit.append(empty)
                if !unitCodes.contains(a.unit) { unitCodes.append(a.unit) }
            }
            contents.removeAll(keepingCapacity: true)
            for c in a.content {
                if let i = empty.contentIndex[c] { contents.append(i) }
            }
            let form = empty.formIndex[a.form]
            counted.append(a)
            perUnit[slot].add(a, lateFrom: lateFrom, form: form, contents: contents)
            total.add(a, lateFrom: lateFrom, form: form, contents: contents)
            evidence.append(
                EvidenceItem(
                    id: a.id, unit: a.unit, date: a.date, form: a.form, content: a.content, title: a.title, url: a.url, quantity: a.quantity,
                    participants: a.participants, lateFrom: lateFrom))
        }
        // Stores read activities in this order already; sort only what came otherwise.
        let ordered = zip(evidence, evidence.dropFirst()).allSatisfy { ($0.date, $0.unit, $0.id) <= ($1.date, $1.unit, $1.id) }
        if !ordered { evidence.sort { ($0.date, $0.unit, $0.id) < ($1.date, $1.unit, $1.id) } }

        let reportsHere = Dictionary(input.reports.filter { $0.period == code }.map { ($0.unit, $0) }, uniquingKeysWith: { a, _ in a })
        var units: [UnitSection] = []
        var services = PublicServiceFigures()
        for u in unitCodes {
            let figures = slotOf[u].map { perUnit[$0] }.map { $0.figures(unit: u, period: period) } ?? empty.figures(unit: u, period: period)
            let r = reportsHere[u]
            let status = SubmissionStatus(r?.status)
            let submitted = status == .submitted
            var section = UnitSection(
                unit: u, name: catalog.unit(u)?.name ?? u, status: status, submittedAt: submitted ? r?.submittedAt : nil, figures: figures)
            if submitted, let r {
                section.frozenHash = r.figuresHash
                if let h = r.figuresHash { section.frozenMatches = figures.matches(frozen: r.figures, hash: h) }
                section.results = r.results
                section.issues = r.issues
                section.proposals = r.proposals
                let ps = PublicServiceFigures(
                    tthcTotal: r.tthcTotal ?? 0, tthcOnline: r.tthcOnline ?? 0, dossiersTotal: r.dossiersTotal ?? 0,
                    dossiersOnline: r.dossiersOnline ?? 0)
                if r.tthcTotal != nil || r.dossiersTotal != nil || r.tthcOnline != nil || r.dossiersOnline != nil {
                    section.publicServices = ps
                    services = services + ps
                }
            }
            units.append(section)
        }

        let totalFigures = total.figures(unit: "*", period: period)
        let totals = ReportTotals(
            activities: totalFigures.activities, peopleReached: totalFigures.peopleReached, lateEntries: total.lateCount,
            byContent: totalFigures.byContent, byForm: totalFigures.byForm)

        // The plan's standing duties (`NV.<unit>.<TN>`) are reported from their evidence; tasks the
        // Office assigned keep their status.
        let year = catalog.plan.year
        let standing = Set(catalog.duties.flatMap { d in d.units.map { ReplicaStore.dutyTaskID(unit: $0, duty: d.code, year: year).rawValue } })
        let assigned = input.tasks.filter { !standing.contains($0.id) }
        let (byDuty, byUnit, open) = progress(tasks: input.tasks, catalog: catalog, unitCodes: unitCodes)
        let (assignedByItem, _, openAssigned) = progress(tasks: assigned, catalog: catalog, unitCodes: unitCodes)
        let submittedCodes = units.filter { $0.status == .submitted }.map(\.unit)
        var report = ConsolidatedReport(
            heading: heading, period: code, periodName: period.vietnameseName, from: w.from, to: w.to,
            subject: "Kết quả công tác thông tin, tuyên truyền cải cách hành chính \(period.vietnameseName)",
            planTitle: catalog.plan.title, totals: totals, units: units,
            submitted: submittedCodes,
            notSubmitted: units.filter { $0.status != .submitted }.map(\.unit),
            publicServices: services, tasksByDuty: byDuty, tasksByUnit: byUnit, openTasks: open, evidence: evidence)
        report.legalBasis = catalog.legalReferences.filter {
            $0.symbol.contains("/KH-UBND") && $0.title.contains("năm \(year)") && VietnameseText.fold($0.title).contains("cchc")
        }
        report.directives = input.directives.filter { $0.issued >= w.from && $0.issued <= w.to }
        report.duties = dutyResults(catalog: catalog, counted: counted, submitted: submittedCodes.count, expected: units.count)
        report.targets = targetChecks(catalog: catalog, services: services)
        report.assignedTasks = assignedByItem.filter { $0.total > 0 }
        report.openAssignedTasks = openAssigned
        report.reporting = catalog.calendar
        report.deadline = catalog.calendar.deadline(period)
        let suggestion = report.suggestedText()
        report.text = input.draft.map { BanText(draft: $0, suggestion: suggestion) } ?? suggestion
        return report
    }

    static func progress(tasks: [TaskRow], catalog: Catalog, unitCodes: [String]) -> ([ProgressCount], [ProgressCount], [TaskRow]) {
        func count(_ code: String, _ title: String, _ list: [TaskRow]) -> ProgressCount {
            ProgressCount(
                code: code, title: title, total: list.count, notStarted: list.filter { $0.status == .notStarted }.count,
                inProgress: list.filter { $0.status == .inProgress }.count, done: list.filter { $0.status == .done }.count)
        }
        var byDuty = catalog.duties.map { d in count(d.code, d.title, tasks.filter { $0.item == d.code }) }
        // Tasks the Office assigned against content items are reported after the duties.
        for c in catalog.contentItems {
            let list = tasks.filter { $0.item == c.code }
            if !list.isEmpty { byDuty.append(count(c.code, c.title, list)) }
        }
        var codes = unitCodes
        for t in tasks where !codes.contains(t.unit) { codes.append(t.unit) }
        let byUnit = codes.map { u in count(u, catalog.unit(u)?.name ?? u, tasks.filter { $0.unit == u }) }
        let order = Dictionary(uniqueKeysWithValues: codes.enumerated().map { ($1, $0) })
        let open = tasks.filter { $0.status != .done }.sorted {
            (order[$0.unit] ?? 0, $0.item, $0.id) < (order[$1.unit] ?? 0, $1.item, $1.id)
        }
        return (byDuty, byUnit, open)
    }
}

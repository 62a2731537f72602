import Foundation

/// Who a consolidated report is for (docs/REPORTS.md, "Two versions").
public enum ReportAudience: String, Sendable, CaseIterable, Codable {
    /// To UBND tỉnh and Sở Nội vụ: units by their names, no internal codes, no submission status,
    /// no late-entry notes.
    case external
    /// For the Office: everything, codes and the units' submission status included.
    case `internal`

    public static func parse(_ raw: String) throws -> ReportAudience {
        guard let a = ReportAudience(rawValue: raw.lowercased().trimmingCharacters(in: .whitespaces)) else {
            throw SyncError.invalid("audience", raw, "chỉ nhận external (gửi UBND tỉnh, Sở Nội vụ) hoặc internal (nội bộ Văn phòng).")
        }
        return a
    }
}

/// Which part of the document is written.
public enum ReportPart: String, Sendable, CaseIterable, Codable {
    /// The whole report: heading, sections I–V, Nơi nhận, signature and annexes.
    case full
    /// The communication section and its figure annex, to paste ("lồng ghép") into the Ban's
    /// periodic CCHC report: no heading, number, recipients or signature.
    case section

    public static func parse(_ raw: String) throws -> ReportPart {
        guard let p = ReportPart(rawValue: raw.lowercased().trimmingCharacters(in: .whitespaces)) else {
            throw SyncError.invalid("part", raw, "chỉ nhận full (cả báo cáo) hoặc section (phần tuyên truyền để lồng ghép).")
        }
        return p
    }
}

/// What one duty (TN..) of the plan shows for a period: the activities that served it, or for the
/// periodic-report duty the units' submitted reports; never a status set by hand.
public struct DutyResult: Codable, Sendable, Equatable {
    public var code: String
    public var title: String
    public var units: [String]
    /// Activities counted in the period that serve this duty (named by the activity or suggested).
    public var activities: Int
    public var peopleReached: Int64
    /// Per form with activities: the quantity in the form's own measure.
    public var byForm: [FormTotal]
    /// For the periodic-report duty: units whose report of this period is submitted.
    public var reportsSubmitted: Int?
    public var reportsExpected: Int?

    /// Whether there is evidence of the duty in the period.
    public var hasEvidence: Bool { activities > 0 || (reportsSubmitted ?? 0) > 0 }
}

/// A target of the plan (100% …) compared with the period's figure, when one measures it.
public struct TargetCheck: Codable, Sendable, Equatable {
    public var text: String
    public var percent: Double?
    public var met: Bool?
}

/// The Ban's own text of a period's report: from the Office's consolidated draft
/// (`TH.<office>.<period>`) where it has one, the computed suggestion where it does not.
public struct BanText: Codable, Sendable, Equatable {
    public var direction: [String]
    public var strengths: [String]
    public var weaknesses: [String]
    public var causes: [String]
    public var nextTasks: [String]
    public var proposals: [String]
    /// Whether the text is the Office's draft (false: computed, not yet reviewed by the Office).
    public var fromDraft: Bool

    public init(
        direction: [String] = [], strengths: [String] = [], weaknesses: [String] = [], causes: [String] = [], nextTasks: [String] = [],
        proposals: [String] = [], fromDraft: Bool = false
    ) {
        self.direction = direction
        self.strengths = strengths
        self.weaknesses = weaknesses
        self.causes = causes
        self.nextTasks = nextTasks
        self.proposals = proposals
        self.fromDraft = fromDraft
    }

    /// The parts of a stored draft, each kept as the Office wrote it; a part it left empty takes
    /// the suggestion's.
    public init(draft: DraftRow, suggestion: BanText) {
        func lines(_ s: String?) -> [String]? {
            let l = VN.paragraphs(s).map { $0.hasPrefix("- ") ? String($0.dropFirst(2)) : $0 }
            return l.isEmpty ? nil : l
        }
        direction = lines(draft.direction) ?? []
        strengths = lines(draft.strengths) ?? suggestion.strengths
        weaknesses = lines(draft.weaknesses) ?? suggestion.weaknesses
        causes = lines(draft.causes) ?? suggestion.causes
        nextTasks = lines(draft.nextTasks) ?? suggestion.nextTasks
        proposals = lines(draft.proposals) ?? suggestion.proposals
        fromDraft = true
    }
}

/// Which duty an activity serves when it does not say: from its unit, form and content
/// (docs/REPORTS.md, "Duties from their evidence"). The Office: the Government bulletin and news
/// on the website or social networks → TN02 (content proposed and posted), anything else (meetings,
/// training where the plan is passed on) → TN01; the other units: work on online public services
/// (ND05, ND10) → TN06, anything else → TN05. Only duties the plan gives the unit are suggested.
public enum DutySuggestion {
    /// The forms that publish (news on the website, social networks, the Government bulletin).
    public static let publishingForms: Set<String> = ["HT06", "HT07", "HT08"]

    public static func suggest(unit: String, form: String, content: [String], catalog: Catalog) -> String? {
        let mine = catalog.duties.filter { $0.units.contains(unit) }.map(\.code)
        guard !mine.isEmpty else { return nil }
        let preferred: [String]
        if unit == catalog.officeCode {
            preferred = publishingForms.contains(form) ? ["TN02", "TN01"] : ["TN01", "TN02"]
        } else {
            preferred = content.contains(where: { $0 == "ND05" || $0 == "ND10" }) ? ["TN06", "TN05"] : ["TN05", "TN06"]
        }
        return preferred.first(where: mine.contains) ?? mine.first
    }
}

extension ConsolidatedReport {
    /// The duty that serves as the periodic report (TN04 in 2026): the duty of the Office whose
    /// title speaks of "báo cáo định kỳ".
    static func reportingDuty(_ catalog: Catalog) -> String? {
        catalog.officeDuties.first { VietnameseText.fold($0.title).contains("bao cao dinh ky") }?.code
    }

    /// Each duty of the plan with what served it in the period.
    static func dutyResults(catalog: Catalog, counted: [ActivityRow], submitted: Int, expected: Int) -> [DutyResult] {
        let reporting = reportingDuty(catalog)
        // One pass over the activities (a year's report counts ~100,000): each goes to the
        // accumulator of the duty it names or is suggested, looked up once per activity.
        let slot = Dictionary(uniqueKeysWithValues: catalog.duties.enumerated().map { ($1.code, $0) })
        var template = FigureAccumulator(catalog: catalog)
        template.trackEvidence = false
        var accs = [FigureAccumulator](repeating: template, count: catalog.duties.count)
        for a in counted {
            guard let code = a.duty ?? DutySuggestion.suggest(unit: a.unit, form: a.form, content: a.content, catalog: catalog),
                let i = slot[code]
            else { continue }
            accs[i].add(a, lateFrom: nil)
        }
        return zip(catalog.duties, accs).map { d, acc in
            var r = DutyResult(
                code: d.code, title: d.title, units: d.units, activities: acc.activities, peopleReached: acc.peopleReached,
                byForm: acc.byForm.filter { $0.activities > 0 })
            if d.code == reporting {
                r.reportsSubmitted = submitted
                r.reportsExpected = expected
            }
            return r
        }
    }

    /// The plan's targets a period's figures measure: the online-service percentages (ND05).
    static func targetChecks(catalog: Catalog, services: PublicServiceFigures) -> [TargetCheck] {
        catalog.targets.compactMap { t in
            let folded = VietnameseText.fold(t.text)
            let percent: Double?
            if folded.contains("noi bo") {
                return nil
            } else if folded.contains("dich vu cong truc tuyen") {
                percent = services.tthcOnlinePercent
            } else if folded.contains("ho so") {
                percent = services.dossiersOnlinePercent
            } else {
                return nil
            }
            return TargetCheck(text: t.text, percent: percent, met: percent.map { $0 >= 100 })
        }
    }

    /// The suggested text of the Ban for this report (the start of `report consolidate` and what
    /// a report says when the Office has no draft): computed from the figures, never the units'
    /// own sentences (those are material in the draft file, not text of the Ban).
    public func suggestedText() -> BanText {
        var t = BanText()
        let items = totals.byContent.filter { $0.activities == 0 }
        let forms = totals.byForm.filter { $0.activities == 0 }
        let doneItems = totals.byContent.count - items.count
        t.strengths.append(
            "Công tác thông tin, tuyên truyền cải cách hành chính được các phòng, đơn vị triển khai theo Kế hoạch; trong kỳ đã thực hiện \(VN.count(totals.activities)) hoạt động, tiếp cận \(VN.number(totals.peopleReached)) lượt người, với \(VN.count(doneItems))/\(VN.count(totals.byContent.count)) nội dung của Kế hoạch."
        )
        let online = totals.byForm.filter { DutySuggestion.publishingForms.contains($0.code) }.reduce(0) { $0 + $1.activities }
        if online > 0 {
            t.strengths.append(
                "Việc tuyên truyền trên Trang thông tin điện tử, mạng xã hội và Bản tin điện tử CCHC của Chính phủ được duy trì (\(VN.count(online)) hoạt động)."
            )
        }
        if !items.isEmpty {
            t.weaknesses.append(
                "Một số nội dung của Kế hoạch chưa có hoạt động tuyên truyền trong kỳ: \(items.map { VN.lowerFirst($0.title) }.joined(separator: "; "))."
            )
        }
        if !forms.isEmpty {
            t.weaknesses.append(
                "Một số hình thức tuyên truyền chưa được triển khai: \(forms.map { VN.lowerFirst($0.title) }.joined(separator: "; ")).")
        }
        let unmet = targets.filter { $0.met == false }
        for c in unmet {
            t.weaknesses.append("Chỉ tiêu «\(c.text)» của Kế hoạch mới đạt \(VN.percent(c.percent)).")
        }
        let next = (try? ReportPeriod.parse(period))?.next.map(\.vietnameseName)
        t.nextTasks.append("Tiếp tục triển khai \(planTitle), bảo đảm các nội dung, hình thức tuyên truyền theo Kế hoạch.")
        if !items.isEmpty {
            t.nextTasks.append(
                "Tập trung tuyên truyền các nội dung chưa có hoạt động trong kỳ: \(items.map { VN.lowerFirst($0.title) }.joined(separator: "; ")).")
        }
        if !unmet.isEmpty {
            t.nextTasks.append(
                "Đẩy mạnh tuyên truyền, hướng dẫn tổ chức, cá nhân sử dụng dịch vụ công trực tuyến toàn trình để đạt chỉ tiêu 100% của Kế hoạch.")
        }
        let names = Dictionary(units.map { ($0.unit, $0.name) }, uniquingKeysWith: { a, _ in a })
        for task in openAssignedTasks.prefix(20) {
            t.nextTasks.append("\(names[task.unit] ?? task.unit): \(task.title).")
        }
        if let next {
            t.nextTasks.append("Tổng hợp, báo cáo kết quả công tác thông tin, tuyên truyền cải cách hành chính \(next) đúng thời hạn.")
        }
        return t
    }
}

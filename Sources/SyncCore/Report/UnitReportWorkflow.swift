import Foundation

/// What a unit writes into its period report besides the computed figures: the narrative and
/// the online public-service counts. A nil field is left as it is; an empty text clears it.
public struct UnitReportDraft: Sendable, Equatable {
    public var results: String?
    public var issues: String?
    public var proposals: String?
    public var tthcTotal: Int64?
    public var tthcOnline: Int64?
    public var dossiersTotal: Int64?
    public var dossiersOnline: Int64?

    public init(
        results: String? = nil, issues: String? = nil, proposals: String? = nil, tthcTotal: Int64? = nil, tthcOnline: Int64? = nil,
        dossiersTotal: Int64? = nil, dossiersOnline: Int64? = nil
    ) {
        self.results = results
        self.issues = issues
        self.proposals = proposals
        self.tthcTotal = tthcTotal
        self.tthcOnline = tthcOnline
        self.dossiersTotal = dossiersTotal
        self.dossiersOnline = dossiersOnline
    }
}

/// A unit's period reports in its own store: draft, submit (freeze the figures) and read back.
/// Written through the store's public record API; the figures come from `ReportSource`.
public struct UnitReports: Sendable {
    public let store: ReplicaStore

    public init(store: ReplicaStore) { self.store = store }

    /// `BC.<unit>.<period>`. Only the submission cycle's periods (quarters, H1, year) have unit
    /// reports: an ad-hoc window is requested of the hub, not submitted by units.
    public static func id(unit: String, period: ReportPeriod) throws -> RecordID {
        if case .adHoc = period {
            throw SyncError.invalid(
                "period", period.description, "báo cáo của đơn vị chỉ lập theo quý (2026-Q1…Q4), 6 tháng (2026-H1) hoặc năm (2026-Y).")
        }
        return RecordID(kind: .report, owner: unit, suffix: period.description)
    }

    /// The report of `unit` for `period`, if any.
    public func report(unit: String, period: ReportPeriod) throws -> UnitReportRow? {
        try store.unitReports(unit: unit, period: period.description).first
    }

    /// Opens or updates this unit's draft report for `period`, recomputing its figures from its
    /// activities. Refused once the report is submitted; bad counts are refused before anything is written.
    @discardableResult
    public func draft(period: ReportPeriod, draft: UnitReportDraft, nowMillis: UInt64? = nil) throws -> UnitReportRow {
        let me = try store.requireIdentity()
        let id = try Self.id(unit: me.unit, period: period)
        let current = try report(unit: me.unit, period: period)
        try Self.refuseIfSubmitted(current, id: id)
        try Self.checkCounts(draft, current: current)
        let figures = try ReportSource(store: store).unitFigures(unit: me.unit, period: period)
        var changes: [(String, Value)] = []
        if current == nil {
            changes += [("unit", .text(me.unit)), ("period", .text(period.description)), ("deleted", .int(0))]
        }
        changes.append(("status", .text(UnitReportStatus.draft.rawValue)))
        changes.append(("figures", .text(try figures.canonicalJSON())))
        func text(_ name: String, _ v: String?) {
            guard let v else { return }
            let t = v.trimmingCharacters(in: .whitespacesAndNewlines)
            changes.append((name, t.isEmpty ? .null : .text(t)))
        }
        text("results", draft.results)
        text("issues", draft.issues)
        text("proposals", draft.proposals)
        for (name, v) in [
            ("tthc_total", draft.tthcTotal), ("tthc_online", draft.tthcOnline), ("dossiers_total", draft.dossiersTotal),
            ("dossiers_online", draft.dossiersOnline),
        ] {
            if let v { changes.append((name, .int(v))) }
        }
        try store.writeRecord(id, changes: changes, nowMillis: nowMillis)
        guard let row = try report(unit: me.unit, period: period) else { throw SyncError.notFound("báo cáo", id.rawValue) }
        return row
    }

    /// Submits (freezes) this unit's report for `period`: stores the figures computed now with the
    /// SHA-256 of their canonical JSON, status `submitted` and `submitted_at`. Activities recorded
    /// after this moment and dated in the period roll into the next report (see `LateEntryRule`).
    @discardableResult
    public func submit(period: ReportPeriod, now: Date = Date()) throws -> UnitReportRow {
        let me = try store.requireIdentity()
        let id = try Self.id(unit: me.unit, period: period)
        let current = try report(unit: me.unit, period: period)
        try Self.refuseIfSubmitted(current, id: id)
        let figures = try ReportSource(store: store).unitFigures(unit: me.unit, period: period)
        let json = try figures.canonicalJSON()
        var changes: [(String, Value)] = []
        if current == nil {
            changes += [("unit", .text(me.unit)), ("period", .text(period.description)), ("deleted", .int(0))]
        }
        let stamp = ISO8601DateFormatter().string(from: now)
        changes += [
            ("figures", .text(json)), ("figures_hash", .text(UnitFigures.sha256(json))), ("status", .text(UnitReportStatus.submitted.rawValue)),
            ("submitted_at", .text(stamp)),
        ]
        try store.writeRecord(id, changes: changes, nowMillis: UInt64(max(0, now.timeIntervalSince1970 * 1000)))
        guard let row = try report(unit: me.unit, period: period) else { throw SyncError.notFound("báo cáo", id.rawValue) }
        return row
    }

    static func refuseIfSubmitted(_ report: UnitReportRow?, id: RecordID) throws {
        guard let report, report.status == .submitted else { return }
        throw SyncError(
            .conflict,
            "Báo cáo «\(id.rawValue)» đã được gửi lúc \(report.submittedAt ?? "?"); số liệu đã chốt (mã băm \(report.figuresHash?.prefix(12) ?? "?")…) nên không thể sửa, lập lại bản nháp hay gửi lại.",
            field: "status", value: "submitted")
    }

    /// Counts are never negative and an online count never exceeds its total, taking the values
    /// already stored for the fields not given.
    static func checkCounts(_ d: UnitReportDraft, current: UnitReportRow?) throws {
        let named: [(String, Int64?)] = [
            ("tthc_total", d.tthcTotal), ("tthc_online", d.tthcOnline), ("dossiers_total", d.dossiersTotal), ("dossiers_online", d.dossiersOnline),
        ]
        for (name, v) in named {
            if let v, v < 0 { throw SyncError.invalid(name, String(v), "không được là số âm.") }
        }
        let tthcTotal = d.tthcTotal ?? current?.tthcTotal
        let tthcOnline = d.tthcOnline ?? current?.tthcOnline
        let dossiersTotal = d.dossiersTotal ?? current?.dossiersTotal
        let dossiersOnline = d.dossiersOnline ?? current?.dossiersOnline
        if let on = tthcOnline, let all = tthcTotal, on > all {
            throw SyncError.invalid("tthc_online", String(on), "lớn hơn số TTHC đủ điều kiện (tthc_total = \(all)).")
        }
        if let on = dossiersOnline, let all = dossiersTotal, on > all {
            throw SyncError.invalid("dossiers_online", String(on), "lớn hơn tổng số hồ sơ (dossiers_total = \(all)).")
        }
    }
}

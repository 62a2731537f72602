import Foundation
import GRDB

extension ReplicaStore {
    /// Activities not deleted dated in `[from, to]`, in date, unit, id order. Unlike `activities()`
    /// it skips the Vietnamese title sort: reports read whole years of records.
    public func activitiesForReport(from: String, to: String, unit: String? = nil) throws -> [ActivityRow] {
        try read { db in
            var out: [ActivityRow] = []
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT id, unit, date, form, content, title, description, quantity, participants, url, note, recorded
                    FROM activity
                    WHERE deleted = 0 AND date >= ?1 AND date <= ?2 AND (?3 IS NULL OR unit = ?3)
                    ORDER BY date, unit, id
                    """, arguments: [from, to, unit])
            while let r = try rows.next() { out.append(Self.activityRow(r)) }
            return out
        }
    }

    /// Every raw record a report for `period` needs: the unit reports first (their submissions
    /// decide late entries and so how far back activities are read), then the activities, then tasks.
    public func reportInput(for period: ReportPeriod, unit: String? = nil) throws -> ReportInput {
        let reports = try unitReports()
        let rule = LateEntryRule(period: period, reports: reports)
        let activities = try activitiesForReport(from: rule.earliestDay, to: rule.latestDay, unit: unit)
        return ReportInput(catalog: catalog, activities: activities, reports: reports, tasks: try tasks(unit: unit))
    }

    /// The consolidated report for `period` from everything this store holds.
    public func consolidatedReport(for period: ReportPeriod, heading: ReportHeading) throws -> ConsolidatedReport {
        ConsolidatedReport.assemble(period: period, input: try reportInput(for: period), heading: heading)
    }

    /// A unit's figures for `period` from its raw activity records.
    public func unitFigures(unit: String, period: ReportPeriod) throws -> UnitFigures {
        let input = try reportInput(for: period, unit: unit)
        let rule = LateEntryRule(period: period, reports: input.reports)
        return UnitFigures.compute(unit: unit, period: period, activities: input.activities, rule: rule, catalog: catalog)
    }
}

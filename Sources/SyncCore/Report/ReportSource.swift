import Foundation

/// The Report layer's way into a store: reads the raw records a report needs through the store's
/// public queries and assembles the figures and the consolidated report from them.
public struct ReportSource: Sendable {
    public let store: ReplicaStore

    public init(store: ReplicaStore) { self.store = store }

    /// Every raw record a report for `period` needs: the unit reports first (their submissions
    /// decide late entries and so how far back activities are read), then the activities, then
    /// tasks, with the plan of the period (an error when this replica has not received it).
    public func reportInput(for period: ReportPeriod, unit: String? = nil) throws -> ReportInput {
        let reports = try store.unitReports()
        let book = try store.planBook()
        let plan = try book.plan(for: period)
        let rule = LateEntryRule(period: period, reports: reports, calendar: plan.calendar)
        let activities = try store.activitiesForReport(from: rule.earliestDay, to: rule.latestDay, unit: unit)
        // A task belongs to the plan year of its due date; one without a due date, to the first plan.
        let first = book.firstYear ?? plan.plan.year
        let tasks = try store.tasks(unit: unit).filter { t in (t.due.map(PlanBook.planYear(of:)) ?? first) == plan.plan.year }
        let w = plan.calendar.window(period)
        let directives = try store.directives(from: w.from, to: w.to)
        let draft = try store.draft(period: period.description, unit: plan.officeCode)
        return ReportInput(catalog: plan, activities: activities, reports: reports, tasks: tasks, directives: directives, draft: draft)
    }

    /// The consolidated report for `period` from everything the store holds.
    public func consolidatedReport(for period: ReportPeriod, heading: ReportHeading) throws -> ConsolidatedReport {
        ConsolidatedReport.assemble(period: period, input: try reportInput(for: period), heading: heading)
    }

    /// A unit's figures for `period` from its raw activity records.
    public func unitFigures(unit: String, period: ReportPeriod) throws -> UnitFigures {
        let input = try reportInput(for: period, unit: unit)
        let rule = LateEntryRule(period: period, reports: input.reports, calendar: input.catalog.calendar)
        return UnitFigures.compute(unit: unit, period: period, activities: input.activities, rule: rule, catalog: input.catalog)
    }
}

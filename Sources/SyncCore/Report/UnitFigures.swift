import Crypto
import Foundation

/// Totals of one content item (ND01–ND11). An activity can serve several content items and is
/// counted under each of them, so these rows do not add up to the number of activities.
public struct ContentTotal: Codable, Sendable, Equatable {
    public var code: String
    public var title: String
    public var activities: Int
    public var participants: Int64
}

/// Totals of one form (HT01–HT09) in the form's own measure: `quantity` counts `quantityUnit`
/// (lớp, tin bài, tờ rơi…), `participants` counts `participantsUnit` when the form reaches people.
public struct FormTotal: Codable, Sendable, Equatable {
    public var code: String
    public var title: String
    public var quantityUnit: String
    public var participantsUnit: String?
    public var activities: Int
    public var quantity: Int64
    public var participants: Int64
}

/// One counted activity as evidence (minh chứng): what, when, where it was published.
public struct EvidenceItem: Codable, Sendable, Equatable {
    public var id: String
    public var unit: String
    public var date: String
    public var form: String
    public var content: [String]
    public var title: String
    public var url: String?
    public var quantity: Int64?
    public var participants: Int64?
    /// The period the activity is dated in when it was entered after that period's report was
    /// submitted and rolled into this one (nhập muộn); nil when on time.
    public var lateFrom: String?
}

/// A unit's figures for one period, computed from its raw activity records. Submitting a unit
/// report freezes these (stored as canonical JSON with its SHA-256).
public struct UnitFigures: Codable, Sendable, Equatable {
    public var unit: String
    public var period: String
    public var from: String
    public var to: String
    /// Activities counted (on time and rolled in late).
    public var activities: Int
    /// Participants summed over the counted activities, each activity once.
    public var peopleReached: Int64
    public var byContent: [ContentTotal]
    public var byForm: [FormTotal]
    /// Ids of the counted activities, sorted: what the frozen figures were computed from.
    public var activityIDs: [String]
    /// Ids of the counted activities that were entered late for an earlier period.
    public var lateIDs: [String]

    /// Canonical JSON (sorted keys): the bytes that are stored and hashed.
    public func canonicalJSON() throws -> String {
        String(decoding: try JSONEncoder.canonical.encode(self), as: UTF8.self)
    }

    /// SHA-256 of the canonical JSON, lower-case hex.
    public func hash() throws -> String { Self.sha256(try canonicalJSON()) }

    public static func sha256(_ text: String) -> String {
        SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}

/// Running totals for a set of activities, in catalog order.
struct FigureAccumulator {
    let catalog: Catalog
    var contentIndex: [String: Int] = [:]
    var formIndex: [String: Int] = [:]
    var byContent: [ContentTotal]
    var byForm: [FormTotal]
    var activities = 0
    var peopleReached: Int64 = 0
    var ids: [String] = []
    var lateIDs: [String] = []
    var lateCount = 0
    /// Off for grand totals over every unit: their ids are the evidence list already.
    var trackIDs = true

    init(catalog: Catalog) {
        self.catalog = catalog
        byContent = catalog.contentItems.map { ContentTotal(code: $0.code, title: $0.title, activities: 0, participants: 0) }
        byForm = catalog.forms.map {
            FormTotal(
                code: $0.code, title: $0.title, quantityUnit: $0.quantityUnit, participantsUnit: $0.participantsUnit, activities: 0, quantity: 0,
                participants: 0)
        }
        for (i, c) in byContent.enumerated() { contentIndex[c.code] = i }
        for (i, f) in byForm.enumerated() { formIndex[f.code] = i }
    }

    mutating func add(_ a: ActivityRow, late: Bool) {
        activities += 1
        let people = a.participants ?? 0
        peopleReached += people
        if late { lateCount += 1 }
        if trackIDs {
            ids.append(a.id)
            if late { lateIDs.append(a.id) }
        }
        for c in a.content {
            if let i = contentIndex[c] {
                byContent[i].activities += 1
                byContent[i].participants += people
            }
        }
        if let i = formIndex[a.form] {
            byForm[i].activities += 1
            byForm[i].quantity += a.quantity ?? 0
            byForm[i].participants += people
        }
    }

    func figures(unit: String, period: ReportPeriod) -> UnitFigures {
        let w = period.window
        return UnitFigures(
            unit: unit, period: period.description, from: w.from, to: w.to, activities: activities, peopleReached: peopleReached,
            byContent: byContent, byForm: byForm, activityIDs: ids.sorted(), lateIDs: lateIDs.sorted())
    }
}

extension UnitFigures {
    /// The figures of `unit` for `period` from raw activity records (any unit's; others are
    /// ignored), applying the late-entry rule.
    public static func compute(unit: String, period: ReportPeriod, activities: [ActivityRow], rule: LateEntryRule, catalog: Catalog)
        -> UnitFigures
    {
        var acc = FigureAccumulator(catalog: catalog)
        for a in activities where a.unit == unit {
            switch rule.placement(unit: a.unit, day: a.date, recorded: a.recorded) {
            case .onTime: acc.add(a, late: false)
            case .late: acc.add(a, late: true)
            case .excluded: break
            }
        }
        return acc.figures(unit: unit, period: period)
    }
}

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
    /// Counted activities entered late for an earlier period (nhập muộn).
    public var lateEntries: Int
    public var byContent: [ContentTotal]
    public var byForm: [FormTotal]
    /// SHA-256 (lower-case hex) of the counted activities sorted by id, each with the values it was
    /// counted with (see `EvidenceDigest`). It replaces the list of ids so that the frozen figures stay
    /// a few kilobytes whatever the number of activities (the `figures` field holds 200 000
    /// characters), while an edit after submission still changes the hash.
    public var evidenceDigest: String

    /// Whether `frozen` (a submitted report's `figures`, whose hash is `hash`) holds the same
    /// figures as these: byte for byte, or the same numbers under the plan's wording as it is now.
    /// Titles and measures are the plan's, which the Office may amend after a unit submitted;
    /// items added since (with nothing counted) are not a change of the unit's figures.
    public func matches(frozen json: String?, hash: String) -> Bool {
        if (try? self.hash()) == hash { return true }
        guard let json, Self.sha256(json) == hash, let frozen = try? JSONDecoder().decode(UnitFigures.self, from: Data(json.utf8)) else {
            return false
        }
        func numbers(_ f: UnitFigures) -> UnitFigures {
            var f = f
            f.byContent = f.byContent.filter { $0.activities != 0 || $0.participants != 0 }.map {
                var c = $0
                c.title = ""
                return c
            }
            f.byForm = f.byForm.filter { $0.activities != 0 || $0.quantity != 0 || $0.participants != 0 }.map {
                var t = $0
                t.title = ""
                t.quantityUnit = ""
                t.participantsUnit = nil
                return t
            }
            return f
        }
        return numbers(frozen) == numbers(self)
    }

    /// Canonical JSON (sorted keys): the bytes that are stored and hashed.
    public func canonicalJSON() throws -> String {
        String(decoding: try JSONEncoder.canonical.encode(self), as: UTF8.self)
    }

    /// SHA-256 of the canonical JSON, lower-case hex.
    public func hash() throws -> String { Self.sha256(try canonicalJSON()) }

    public static func sha256(_ text: String) -> String {
        SyncAuth.sha256Hex(Data(text.utf8))
    }
}

/// Running totals for a set of activities, in catalog order.
struct FigureAccumulator {
    var contentIndex: [String: Int] = [:]
    var formIndex: [String: Int] = [:]
    var byContent: [ContentTotal]
    var byForm: [FormTotal]
    var activities = 0
    var peopleReached: Int64 = 0
    var lateCount = 0
    /// The counted activities with the late period, for the evidence digest.
    var counted: [(ActivityRow, String?)] = []
    /// Off for grand totals over every unit: their evidence is the annex already.
    var trackEvidence = true
    /// The plan's cut-offs, for the window the figures name.
    var calendar = ReportingCalendar.decree09

    init(catalog: Catalog) {
        calendar = catalog.calendar
        byContent = catalog.contentItems.map { ContentTotal(code: $0.code, title: $0.title, activities: 0, participants: 0) }
        byForm = catalog.forms.map {
            FormTotal(
                code: $0.code, title: $0.title, quantityUnit: $0.quantityUnit, participantsUnit: $0.participantsUnit, activities: 0, quantity: 0,
                participants: 0)
        }
        for (i, c) in byContent.enumerated() { contentIndex[c.code] = i }
        for (i, f) in byForm.enumerated() { formIndex[f.code] = i }
    }

    /// Counts `a`; `lateFrom` is the period it is dated in when it rolled in late.
    mutating func add(_ a: ActivityRow, lateFrom: String?) {
        add(a, lateFrom: lateFrom, form: formIndex[a.form], contents: a.content.compactMap { contentIndex[$0] })
    }

    /// Counts `a` under the catalog rows already looked up (`form` in `byForm`, `contents` in
    /// `byContent`): the consolidated report adds each activity to two accumulators.
    mutating func add(_ a: ActivityRow, lateFrom: String?, form: Int?, contents: [Int]) {
        activities += 1
        let people = a.participants ?? 0
        peopleReached += people
        if lateFrom != nil { lateCount += 1 }
        if trackEvidence { counted.append((a, lateFrom)) }
        for i in contents {
            byContent[i].activities += 1
            byContent[i].participants += people
        }
        if let i = form {
            byForm[i].activities += 1
            byForm[i].quantity += a.quantity ?? 0
            byForm[i].participants += people
        }
    }

    func figures(unit: String, period: ReportPeriod) -> UnitFigures {
        let w = calendar.window(period)
        return UnitFigures(
            unit: unit, period: period.description, from: w.from, to: w.to, activities: activities, peopleReached: peopleReached,
            lateEntries: lateCount, byContent: byContent, byForm: byForm, evidenceDigest: trackEvidence ? EvidenceDigest.of(counted) : "")
    }
}

/// The digest of the evidence behind a unit's figures: SHA-256 over the counted activities sorted
/// by id, one line each, `id TAB date TAB form TAB content TAB quantity TAB participants TAB late
/// period LF` (content codes sorted and comma-separated; an absent number or an on-time entry is
/// empty). Every value that feeds a total is in the line, so changing, adding or removing a counted
/// activity after submission changes the digest and so the frozen hash.
enum EvidenceDigest {
    static func of(_ counted: [(ActivityRow, String?)]) -> String {
        // One buffer hashed at once: a year's report digests a hundred thousand lines, two
        // numbers each, written as digits straight into the buffer.
        var buffer = ByteWriter(capacity: counted.count * 64)
        func put(_ text: String) { buffer.append(text) }
        func put(_ n: Int64?) {
            if let n { buffer.digits(n) }
        }
        // Sort positions, not rows: moving the rows themselves costs a dozen reference counts each.
        let ids = counted.map(\.0.id)
        for k in ids.indices.sorted(by: { ids[$0] < ids[$1] }) {
            let (a, lateFrom) = counted[k]
            put(a.id)
            buffer.append(0x09)
            put(a.date)
            buffer.append(0x09)
            put(a.form)
            buffer.append(0x09)
            let content = zip(a.content, a.content.dropFirst()).allSatisfy { $0 < $1 } ? a.content : a.content.sorted()
            for (i, c) in content.enumerated() {
                if i > 0 { buffer.append(0x2C) }
                put(c)
            }
            buffer.append(0x09)
            put(a.quantity)
            buffer.append(0x09)
            put(a.participants)
            buffer.append(0x09)
            if let lateFrom { put(lateFrom) }
            buffer.append(0x0A)
        }
        return SyncAuth.sha256Hex(buffer.bytes)
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
            case .onTime: acc.add(a, lateFrom: nil)
            case .late(let origin): acc.add(a, lateFrom: origin)
            case .excluded: break
            }
        }
        return acc.figures(unit: unit, period: period)
    }
}

import Foundation
import Testing

@testable import SyncCore

/// Builders for report tests: unit replicas in memory, activities with a chosen `recorded`
/// time, and a hub store that receives every unit's ops.
enum ReportFixture {
    /// A unit's replica holding the 2026 plan (genesis) and a 2027 plan the Office imported.
    static func unit(_ code: String, replica: String) throws -> ReplicaStore {
        let s = try ReplicaStore.inMemory()
        let id = try #require(ReplicaID(replica))
        try s.initialise(identity: .init(replica: id, unit: code))
        try s.apply(try plan2027Ops(), source: .peer(authenticated: nil, unit: nil))
        return s
    }

    /// The ops of an Office replica that imported a 2027 plan (the 2026 plan under another year).
    static func plan2027Ops() throws -> OpBatch {
        let office = try ReplicaStore.inMemory()
        try office.initialise(identity: .init(replica: try #require(ReplicaID("0ff1ce00")), unit: "VP"))
        var plan = Catalog.standard
        plan.plan.year = 2027
        plan.plan.title = "Kế hoạch tuyên truyền cải cách hành chính năm 2027 (kiểm thử)"
        try office.importPlan(plan, nowMillis: 1_780_000_000_000)
        return try office.ops(after: VersionVector())
    }

    struct Recorded: Equatable {
        var id: String
        var unit: String
        var date: String
        var form: String
        var content: [String]
        var quantity: Int64?
        var participants: Int64?
        var recorded: String
        var title: String
        var url: String?
    }

    @discardableResult
    static func add(
        _ s: ReplicaStore, date: String, form: String = "HT01", content: [String] = ["ND01"], quantity: Int64? = 1, participants: Int64? = nil,
        recorded: String? = nil, title: String = "Hoạt động", url: String? = nil
    ) throws -> Recorded {
        let me = try s.requireIdentity()
        let rec = recorded ?? "\(date)T10:00:00Z"
        var changes: [(String, Value)] = [
            ("unit", .text(me.unit)), ("date", .text(date)), ("form", .text(form)), ("content", .text(content.joined(separator: ","))),
            ("title", .text(title)), ("recorded", .text(rec)), ("deleted", .int(0)),
        ]
        if let quantity { changes.append(("quantity", .int(quantity))) }
        if let participants { changes.append(("participants", .int(participants))) }
        if let url { changes.append(("url", .text(url))) }
        // A date before the first plan could only have been written by a release before the plan
        // was data: written as it would have.
        let checked = PlanBook.planYear(of: date) >= 2026
        let id = try s.localWrites(checkingPlan: checked) { try $0.create(kind: .activity, owner: me.unit, changes: changes) }
        return Recorded(
            id: id.rawValue, unit: me.unit, date: date, form: form, content: content.sorted(), quantity: quantity, participants: participants,
            recorded: rec, title: title, url: url)
    }

    /// A hub store holding every op of `units`.
    static func hub(_ units: [ReplicaStore]) throws -> ReplicaStore {
        let h = try ReplicaStore.inMemory()
        try h.initialise(identity: nil)
        for u in units { try h.apply(try u.ops(after: h.versionVector()), source: .peer(authenticated: nil, unit: nil)) }
        return h
    }

    static func heading() -> ReportHeading {
        ReportHeading(catalog: .standard, number: "05", date: "2026-03-16")
    }

    /// RFC 4180 reader for the test side: quoted fields, doubled quotes, CRLF.
    static func parseCSV(_ data: Data) -> [[String]] {
        var text = String(decoding: data, as: UTF8.self)
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        var rows: [[String]] = []
        var row: [String] = []
        var field = ""
        var quoted = false
        var chars = Array(text.unicodeScalars)
        chars.append("\n")
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if quoted {
                if c == "\"" {
                    if i + 1 < chars.count && chars[i + 1] == "\"" {
                        field.unicodeScalars.append("\"")
                        i += 1
                    } else {
                        quoted = false
                    }
                } else {
                    field.unicodeScalars.append(c)
                }
            } else if c == "\"" {
                quoted = true
            } else if c == "," {
                row.append(field)
                field = ""
            } else if c == "\r" {
            } else if c == "\n" {
                row.append(field)
                field = ""
                if row != [""] { rows.append(row) }
                row = []
            } else {
                field.unicodeScalars.append(c)
            }
            i += 1
        }
        return rows
    }
}

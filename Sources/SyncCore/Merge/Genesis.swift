import Foundation

/// The plan's seed data as ops of the reserved `genesis` origin, identical on every replica, so two
/// fresh replicas have identical dumps and nothing is duplicated by sync. Genesis is append-only:
/// a release may add ops after the last, never change one, and `ReplicaStore.open` applies to an
/// upgraded database the ones it lacks. In order:
/// 1. the duties TN01–TN06 assigned to their responsible units as tasks with fixed ids
///    (`NV.<unit>.<duty>`), as the first release made them (their titles are the duties' titles in
///    `plan-2026.json`, which is why that file's duty titles must not change);
/// 2. the 2026 plan's entries (`KH.2026.<code>`, docs/PLAN-DATA.md), from the release that made
///    the plan replicated data.
public enum Genesis {
    /// The last catalog's genesis: every store opened checks its genesis against it, and building
    /// it (the plan's entries as canonical values) cost more than opening the store.
    private static let last = NSLock.Protected<(Catalog, [Op])?>(nil)

    public static func ops(catalog: Catalog) -> [Op] {
        if let (c, ops) = last.withLock({ $0 }), c == catalog { return ops }
        let ops = build(catalog: catalog)
        last.withLock { $0 = (catalog, ops) }
        return ops
    }

    static func build(catalog: Catalog) -> [Op] {
        var ops: [Op] = []
        var counter: UInt64 = 0
        func add(_ record: String, _ field: String, _ value: Value) {
            counter += 1
            ops.append(Op(dot: Dot(.genesis, counter), hlc: .zero, record: record, field: field, value: value, supersedes: []))
        }
        for duty in catalog.duties {
            for unit in duty.units {
                let id = RecordID(kind: .task, owner: unit, suffix: duty.code).rawValue
                add(id, "unit", .text(unit))
                add(id, "item", .text(duty.code))
                add(id, "title", .text(VietnameseText.nfc(duty.title)))
                add(id, "status", .text(TaskStatus.notStarted.rawValue))
                add(id, "deleted", .int(0))
            }
        }
        for (record, changes) in PlanEntries.changes(for: catalog) {
            for (field, value) in changes { add(record.rawValue, field, value) }
        }
        return ops
    }
}

/// A plan as the fields of its entries `KH.<year>.<code>` (docs/PLAN-DATA.md): what genesis writes for
/// 2026 and what `unit-client plan import` writes for a new year. Values are normalised (NFC).
public enum PlanEntries {
    /// The heading's code: `KH.<year>.CHUNG`.
    public static let headingCode = "CHUNG"

    /// The plan-level data the heading keeps as canonical JSON in `document`.
    struct Document: Codable, Equatable {
        var agency: String
        var agencyName: String
        var agencyShort: String
        var parent: String
        var place: String
        var targets: [Catalog.Target]
        var legalReferences: [Catalog.LegalReference]
        var recipients: [String]
        var signer: Catalog.Signer
        /// Absent in the 2026 plan (genesis bytes unchanged): Nghị định 09/2019.
        var reporting: ReportingCalendar?
    }

    public static func record(year: Int, code: String) -> RecordID {
        RecordID(kind: .plan, owner: String(format: "%04d", year), suffix: code)
    }

    public static func changes(for catalog: Catalog) -> [(RecordID, [(String, Value)])] {
        let year = catalog.plan.year
        func text(_ s: String?) -> Value { s.map { .text(VietnameseText.nfc($0).trimmingCharacters(in: .whitespacesAndNewlines)) } ?? .null }
        var out: [(RecordID, [(String, Value)])] = []
        func entry(_ code: String, _ fields: [(String, Value)]) {
            out.append((record(year: year, code: code), fields.filter { $0.1 != .null }))
        }
        let p = catalog.plan
        let document = Document(
            agency: p.agency, agencyName: p.agencyName, agencyShort: p.agencyShort, parent: p.parent, place: p.place, targets: catalog.targets,
            legalReferences: catalog.legalReferences, recipients: catalog.recipients, signer: catalog.signer, reporting: catalog.reporting)
        let json = (try? JSONEncoder.canonical.encode(document)).map { String(decoding: $0, as: UTF8.self) }
        entry(headingCode, [("type", .text("plan")), ("title", text(p.title)), ("symbol", text(p.symbol)), ("document", text(json))])
        for i in catalog.contentItems {
            entry(
                i.code, [("type", .text("content")), ("title", text(i.title)), ("valid_from", text(i.validFrom)), ("retired_on", text(i.retiredOn))])
        }
        for f in catalog.forms {
            entry(
                f.code,
                [
                    ("type", .text("form")), ("title", text(f.title)), ("measure", text(f.quantityUnit)), ("people", text(f.participantsUnit)),
                    ("url_required", .int(f.requiresURL ? 1 : 0)), ("valid_from", text(f.validFrom)), ("retired_on", text(f.retiredOn)),
                    ("assumed", f.assumed == true ? .int(1) : .null),
                ])
        }
        for d in catalog.duties {
            entry(
                d.code,
                [
                    ("type", .text("duty")), ("title", text(d.title)), ("units", .text(d.units.sorted().joined(separator: ","))),
                    ("valid_from", text(d.validFrom)), ("retired_on", text(d.retiredOn)),
                ])
        }
        return out
    }
}

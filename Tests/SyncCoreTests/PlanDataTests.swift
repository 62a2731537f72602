import Foundation
import Testing

@testable import SyncCore

/// The plan as replicated data (docs/PLAN-DATA.md) and mixed program versions
/// (docs/SYNC-CONTRACT.md, "Mixed program versions"), through real stores.
@Suite("Kế hoạch là dữ liệu; phiên bản chương trình khác nhau / the plan as data, mixed program versions")
struct PlanDataTests {
    static let peer = OpSource.peer(authenticated: nil, unit: nil)

    static func store(_ unit: String, _ replica: String, path: String? = nil) throws -> ReplicaStore {
        let s = try path.map { try ReplicaStore.open(path: $0, create: true) } ?? ReplicaStore.inMemory()
        try s.initialise(identity: .init(replica: try #require(ReplicaID(replica)), unit: unit))
        return s
    }

    /// Gives `to` everything `from` has that it lacks (ops and heads, relayed ops included).
    static func pull(_ to: ReplicaStore, from: ReplicaStore) throws {
        try to.apply(try from.ops(after: to.versionVector()), source: peer)
    }

    @Test("Hai bản sao mới có cùng Kế hoạch 2026 từ dữ liệu gốc / two fresh replicas hold the same 2026 plan, as the shipped file says")
    func genesisPlan() throws {
        let a = try Self.store("VP", "aaaa0001")
        let b = try Self.store("TTQLCK", "bbbb0001")
        let plan = try #require(try a.planBook().plan(year: 2026))
        let shipped = Catalog.standard
        #expect(plan.contentItems.map(\.code) == shipped.contentItems.map(\.code))
        #expect(plan.contentItems.map(\.title) == shipped.contentItems.map(\.title))
        #expect(plan.forms.map(\.quantityUnit) == shipped.forms.map(\.quantityUnit))
        #expect(plan.duties.map(\.units) == shipped.duties.map(\.units))
        #expect(plan.legalReferences == shipped.legalReferences && plan.signer == shipped.signer && plan.recipients == shipped.recipients)
        // Nothing of genesis is ever sent, and the plan parts of both dumps are identical.
        #expect(try a.ops(after: VersionVector()).ops.allSatisfy { $0.dot.origin != .genesis })
        let planA = try a.dump().records.filter { $0.key.hasPrefix("KH.") }
        let planB = try b.dump().records.filter { $0.key.hasPrefix("KH.") }
        #expect(!planA.isEmpty && planA == planB)
    }

    @Test("Văn phòng sửa đổi; đơn vị dùng mục mới sau khi đồng bộ; đơn vị khác không được sửa / the Office amends, units use it after sync")
    func amendments() throws {
        let office = try Self.store("VP", "aaaa0002")
        let unit = try Self.store("TTQLCK", "bbbb0002")
        func add(_ s: ReplicaStore, _ content: String, _ date: String) throws {
            _ = try s.createRecord(
                kind: .activity, owner: try s.requireIdentity().unit,
                changes: [
                    ("unit", .text(try s.requireIdentity().unit)), ("date", .text(date)), ("form", .text("HT02")), ("content", .text(content)),
                    ("title", .text("Hội nghị")), ("recorded", .text("\(date)T08:00:00Z")), ("deleted", .int(0)),
                ])
        }
        // A unit may not amend the plan, and nothing is written.
        let before = try unit.versionVector()
        #expect(throws: SyncError.self) { try unit.amendPlan(year: 2026, [.addContent(code: "ND12", title: "Luật Dữ liệu", from: nil)]) }
        #expect(try unit.versionVector() == before)
        // Before the amendment reaches it, the unit cannot use ND12.
        expectSyncError(field: "content", value: "ND12") { try add(unit, "ND12", "2026-05-02") }
        try office.amendPlan(
            year: 2026,
            [
                .addContent(code: "ND12", title: "Tuyên truyền Luật Dữ liệu", from: nil), .retire(code: "ND09", on: "2026-07-01"),
            ])
        try office.amendPlan(year: 2026, [.addDuty(code: "TN07", title: "Tuyên truyền thủ tục xuất nhập cảnh", units: ["TTQLCK"], from: nil)])
        // Adding what exists is refused.
        #expect(throws: SyncError.self) { try office.amendPlan(year: 2026, [.addContent(code: "ND12", title: "Lần nữa", from: nil)]) }
        try Self.pull(unit, from: office)
        try add(unit, "ND12", "2026-05-02")
        // ND09 is valid before its retirement, refused from that day on.
        try add(unit, "ND09", "2026-06-30")
        expectSyncError(field: "content", value: "ND09") { try add(unit, "ND09", "2026-07-01") }
        // The duty's task reached its unit.
        #expect(try unit.task("NV.TTQLCK.TN07")?.item == "TN07")
        // Reports: Q2 (15/03–14/06) has ND09 and ND12; Q4 (15/09–14/12) has ND12 but no longer ND09.
        let book = try unit.planBook()
        let q2 = try book.plan(for: .quarter(2026, 2))
        #expect(q2.contentItem("ND09") != nil && q2.contentItem("ND12") != nil)
        let q4 = try book.plan(for: .quarter(2026, 4))
        #expect(q4.contentItem("ND09") == nil && q4.contentItem("ND12") != nil)
        let q3 = try book.plan(for: .quarter(2026, 3))  // 15/06–14/09: ND09 retired on 01/07, in force on part of it
        #expect(q3.contentItem("ND09") != nil)
    }

    @Test("Hai máy Văn phòng sửa cùng mục đồng thời: giữ cả hai, liệt kê xung đột / concurrent amendments keep both values")
    func concurrentAmendments() throws {
        let a = try Self.store("VP", "aaaa0003")
        let b = try Self.store("VP", "aaaa0004")
        try a.amendPlan(year: 2026, [.addContent(code: "ND12", title: "Luật Dữ liệu", from: nil)])
        try b.amendPlan(year: 2026, [.addContent(code: "ND12", title: "Luật Dữ liệu năm 2024", from: nil)])
        try Self.pull(a, from: b)
        try Self.pull(b, from: a)
        #expect(try a.dump() == b.dump())
        let conflict = try #require(try a.conflicts().first { $0.record == "KH.2026.ND12" && $0.field == "title" })
        #expect(Set(conflict.candidates.map(\.value)) == [.text("Luật Dữ liệu"), .text("Luật Dữ liệu năm 2024")])
    }

    @Test("Kế hoạch năm sau: nhập, kỳ 2027-Q1 từ 15/12/2026 / next year's plan and its periods")
    func nextYear() throws {
        let office = try Self.store("VP", "aaaa0005")
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("plans/2027.json")
        let plan = try JSONDecoder().decode(Catalog.self, from: try Data(contentsOf: file))
        #expect(plan.plan.year == 2027)
        // Before the 2027 plan: an activity dated 16/12/2026 belongs to 2027 and is refused, saying so.
        func add(_ date: String, _ content: String) throws {
            _ = try office.createRecord(
                kind: .activity, owner: "VP",
                changes: [
                    ("unit", .text("VP")), ("date", .text(date)), ("form", .text("HT06")), ("content", .text(content)), ("title", .text("Tin")),
                    ("url", .text("https://bqlkktck.langson.gov.vn/tin/1")), ("recorded", .text("\(date)T08:00:00Z")), ("deleted", .int(0)),
                ])
        }
        do {
            try add("2026-12-16", "ND01")
            Issue.record("an activity of a year with no plan was accepted")
        } catch let e as SyncError {
            #expect(e.field == "date" && e.value == "2026-12-16" && e.message.contains("Kế hoạch năm 2027"))
        }
        expectSyncError(field: "date", value: "2025-06-01") { try add("2025-06-01", "ND01") }
        let first = try office.importPlan(plan)
        #expect(first.entries > 0 && first.tasks == plan.duties.map(\.units.count).reduce(0, +))
        // Importing the same file again writes nothing.
        #expect(try office.importPlan(plan).ops == 0)
        try add("2026-12-14", "ND08")  // the 2026 plan's last day: ND08 is a 2026 item
        try add("2026-12-16", "ND12")  // the 2027 plan's first days: ND12 is a 2027 item
        expectSyncError(field: "content", value: "ND08") { try add("2026-12-20", "ND08") }  // not in the 2027 example
        let q1 = try ReportSource(store: office).consolidatedReport(
            for: try ReportPeriod.parse("2027-Q1"), heading: ReportHeading(catalog: plan, number: nil, date: "2027-03-16"))
        #expect(q1.evidence.map(\.date) == ["2026-12-16"])
        #expect(ReportPeriod.quarter(2027, 1).window == ("2026-12-15", "2027-03-14"))
        // A 2028 report has no plan yet.
        #expect(throws: SyncError.self) { try ReportSource(store: office).reportInput(for: .quarter(2028, 1)) }
    }

    @Test(
        "Máy phiên bản cũ giữ, chuyển tiếp thao tác chưa hiểu; sau nâng cấp hội tụ từng byte / an older schema keeps and relays what it does not know",
        arguments: [
            SchemaVersion.v1,
            // An older program that knows activities only up to `note` (not `recorded`, `deleted`).
            SchemaVersion(version: 1, fieldCounts: [.replica: 3, .task: 7, .activity: 10, .report: 14, .plan: 12]),
        ])
    func olderSchema(schema: SchemaVersion) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cchc-schema-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let hub = try ReplicaStore.inMemory()
        try hub.initialise(identity: nil)
        let office = try Self.store("VP", "aaaa0006")
        // The border gate's laptop runs the older program.
        let oldPath = dir.appendingPathComponent("old.sqlite").path
        try Self.store("TTQLCK", "bbbb0006", path: oldPath).close()
        var old = try ReplicaStore.open(path: oldPath, schema: schema)
        try office.amendPlan(year: 2026, [.addContent(code: "ND12", title: "Tuyên truyền Luật Dữ liệu", from: nil)])
        _ = try office.createRecord(
            kind: .activity, owner: "VP",
            changes: [
                ("unit", .text("VP")), ("date", .text("2026-05-02")), ("form", .text("HT02")), ("content", .text("ND12")),
                ("title", .text("Hội nghị")), ("recorded", .text("2026-05-02T08:00:00Z")), ("deleted", .int(0)),
            ])
        try Self.pull(hub, from: office)
        // The older program receives everything: nothing refused, the vector complete, some ops kept for later.
        let report = try old.apply(try hub.ops(after: old.versionVector()), source: Self.peer)
        #expect(report.unknown > 0 && report.unknown <= report.applied)
        #expect(try old.unknownOpCount() == report.unknown)
        #expect(try old.versionVector()[try #require(ReplicaID("aaaa0006"))] == (try office.versionVector()[try #require(ReplicaID("aaaa0006"))]))
        #expect(try old.dump() != (try hub.dump()))
        // It keeps working and syncing: its own activity goes up; a third replica gets the Office's
        // ops relayed by the old laptop alone, verified against the Office's signatures.
        _ = try old.createRecord(
            kind: .activity, owner: "TTQLCK",
            changes: [
                ("unit", .text("TTQLCK")), ("date", .text("2026-05-03")), ("form", .text("HT02")), ("content", .text("ND05")),
                ("title", .text("Đối thoại")),
            ])
        try Self.pull(hub, from: old)
        let third = try Self.store("CPCM-QLDTDN", "cccc0006")
        try Self.pull(third, from: old)
        #expect(try third.planBook().plan(year: 2026)?.contentItem("ND12") != nil)
        try Self.pull(third, from: hub)
        try Self.pull(hub, from: third)
        try Self.pull(old, from: hub)
        // Upgraded (opened by the program that knows everything): the kept ops take effect.
        try old.close()
        old = try ReplicaStore.open(path: oldPath)
        #expect(try old.unknownOpCount() == 0)
        #expect(try old.dump() == (try hub.dump()))
        #expect(try old.dump() == (try third.dump()))
        let v = try old.verify(full: true)
        #expect(v.ok && v.problems.isEmpty, "\(v)")
    }
}

@Suite("Phiên bản của hub và của máy trong đồng bộ / program versions met in a sync")
struct SchemaHandshakeTests {
    @Test("Hub cũ hơn hoặc máy cần nâng cấp: đồng bộ nói rõ bằng tiếng Việt / an older hub, or ops waiting for this machine's upgrade")
    func advice() async throws {
        for (schema, expected) in [(SchemaVersion.current.version, nil), (1, "lược đồ 1"), (nil, "chưa báo phiên bản")] as [(Int?, String?)] {
            let hub = try Fixture.hub()
            let (s, c) = try Fixture.replica(hub, unit: "TTQLCK")
            var client = SyncClient(
                store: s, credentials: c, hubURL: c.hubURL, transport: InProcessTransport(service: HubSyncService(store: hub), schema: schema))
            client.retry = RetryPolicy(attempts: 1, baseDelay: 0, maxDelay: 0)
            let summary = try await client.run()
            #expect(summary.hubSchema == schema)
            if let expected {
                #expect(summary.versionAdvice?.contains(expected) == true && summary.versionAdvice?.contains("nâng cấp") == true, "\(schema as Any)")
            } else {
                #expect(summary.versionAdvice == nil)
            }
        }
        // A machine a version behind: the Office's plan amendment reaches it, waits, and it is told.
        let hub = try Fixture.hub()
        let (office, oc) = try Fixture.replica(hub, unit: "VP")
        try office.amendPlan(year: 2026, [.addContent(code: "ND12", title: "Luật Dữ liệu", from: nil)])
        _ = try await Fixture.client(office, oc, hub).run()
        let e = try hub.enrol(unit: "TTQLCK", hubURL: "http://hub.invalid")
        let old = try ReplicaStore.inMemory(schema: .v1)
        try old.initialise(identity: .init(replica: e.replicaID, unit: "TTQLCK"))
        let credentials = HubCredentials(hubURL: e.hubURL, replica: e.replicaID, unit: "TTQLCK", secret: e.secret)
        try old.saveCredentials(credentials)
        let summary = try await Fixture.client(old, credentials, hub).run()
        #expect(summary.waitingForUpgrade > 0)
        #expect(summary.versionAdvice?.contains("\(summary.waitingForUpgrade) thao tác") == true)
        #expect(try old.versionVector() == (try hub.versionVector()))

        // A client of the release before schema versions: the hub keeps what it sent and tells it to upgrade.
        let (previous, pc) = try Fixture.replica(hub, unit: "CPCM-QLDTDN")
        _ = try Fixture.activity(previous, unit: "CPCM-QLDTDN", title: "Tin bài trước khi nâng cấp")
        var client = SyncClient(
            store: previous, credentials: pc, hubURL: pc.hubURL,
            transport: InProcessTransport(service: HubSyncService(store: hub), asPreviousRelease: true))
        client.retry = RetryPolicy(attempts: 1, baseDelay: 0, maxDelay: 0)
        do {
            _ = try await client.run()
            Issue.record("a previous-release client was sent plan entries")
        } catch let e as SyncError {
            #expect(e.code == .invalidInput && e.message.contains("nâng cấp chương trình"), "\(e)")
        }
        #expect(try hub.versionVector()[pc.replica] == (try previous.versionVector()[pc.replica]), "its ops reached the hub")
    }
}

@Suite("Sửa lời văn Kế hoạch sau khi đơn vị gửi báo cáo / the plan's wording amended after a unit submitted")
struct AmendedWordingTests {
    @Test("Số liệu đã chốt vẫn khớp khi chỉ lời văn đổi; một hoạt động sửa sau khi gửi thì không / frozen figures survive a retitle, not an edit")
    func frozenFiguresSurviveRetitles() throws {
        let office = try PlanDataTests.store("VP", "aaaa0009")
        let unit = try PlanDataTests.store("TTQLCK", "bbbb0009")
        let id = try unit.createRecord(
            kind: .activity, owner: "TTQLCK",
            changes: [
                ("unit", .text("TTQLCK")), ("date", .text("2026-02-10")), ("form", .text("HT01")), ("content", .text("ND01")),
                ("title", .text("Tập huấn")), ("quantity", .int(2)), ("participants", .int(40)), ("recorded", .text("2026-02-10T08:00:00Z")),
                ("deleted", .int(0)),
            ])
        try UnitReports(store: unit).submit(period: .quarter(2026, 1), now: try #require(ISO8601DateFormatter().date(from: "2026-03-16T08:00:00Z")))
        func frozenMatches() throws -> Bool? {
            try PlanDataTests.pull(office, from: unit)
            let r = try ReportSource(store: office).consolidatedReport(for: .quarter(2026, 1), heading: ReportHeading(catalog: .standard))
            return r.units.first { $0.unit == "TTQLCK" }?.frozenMatches
        }
        #expect(try frozenMatches() == true)
        // The Office rewords ND01 and HT01's measure, and adds ND12: the unit's figures are unchanged.
        try office.writeRecord(PlanEntries.record(year: 2026, code: "ND01"), changes: [("title", .text("Phổ biến văn bản mới về CCHC"))])
        try office.writeRecord(PlanEntries.record(year: 2026, code: "HT01"), changes: [("measure", .text("lớp"))])
        try office.amendPlan(year: 2026, [.addContent(code: "ND12", title: "Luật Dữ liệu", from: nil)])
        #expect(try frozenMatches() == true)
        // An edit of a counted activity after submission is a change.
        try unit.writeRecord(id, changes: [("participants", .int(45))])
        #expect(try frozenMatches() == false)
    }
}

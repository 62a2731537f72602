import Foundation
import SyncCore
import Testing

/// The yearly cycle of the plan with the real programs (docs/PLAN-DATA.md): the Office amends the
/// plan, a unit uses the new item after a sync, the hub's report shows it; the Office imports next
/// year's plan and the 2027-Q1 report counts activities from 15/12/2026.
@Suite("Kế hoạch qua chương trình thật / the plan's yearly cycle through the real programs")
struct PlanCommandTests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func json(_ out: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
    }

    @Test("Văn phòng sửa đổi, đơn vị dùng ND12 sau đồng bộ, báo cáo của hub có ND12; năm 2027 / amend, sync, report; next year")
    func yearlyCycle() throws {
        let h = try HubHarness.serving("plan", replicas: [("vp", "VP"), ("cua-khau", "TTQLCK")])
        // A unit may not amend the plan: exit 4, a Vietnamese message, nothing written.
        let before = try h.clientDump("cua-khau")
        let refused = try h.client("cua-khau", ["plan", "amend", "--year", "2026", "--add-content", "ND12", "--title", "Luật Dữ liệu"])
        #expect(refused.status == 4 && refused.stderr.contains("Chỉ Văn phòng"), "\(refused)")
        #expect(try h.clientDump("cua-khau") == before)
        // Before the amendment, ND12 is refused naming the field and the value.
        let early = try h.client(
            "cua-khau",
            ["activity", "add", "--form", "HT02", "--content", "ND12", "--date", "2026-05-02", "--title", "Hội nghị đối thoại"])
        #expect(early.status == 2 && early.stderr.contains("«content»") && early.stderr.contains("ND12"), "\(early)")
        // The Office amends and syncs; the unit syncs, then records with ND12 and syncs.
        try h.clientOK("vp", "plan", "amend", "--year", "2026", "--add-content", "ND12", "--title", "Tuyên truyền Luật Dữ liệu")
        try h.clientOK(
            "vp", "plan", "amend", "--year", "2026", "--add-duty", "TN07", "--unit", "TTQLCK", "--title", "Tuyên truyền thủ tục xuất nhập cảnh")
        let synced = try Self.json(try h.clientOK("vp", "sync", "--json"))
        #expect(synced["hub_schema"] as? Int == SchemaVersion.current.version)
        try h.clientOK("cua-khau", "sync")
        let plan = try Self.json(try h.clientOK("cua-khau", "plan", "--year", "2026", "--json"))
        let items = try #require(plan["contentItems"] as? [[String: Any]])
        #expect(items.contains { $0["code"] as? String == "ND12" && $0["title"] as? String == "Tuyên truyền Luật Dữ liệu" })
        #expect(try h.clientOK("cua-khau", "task", "list").contains("TN07"))
        let id = try Fixtures.addActivity(
            db: h.db("cua-khau"), in: h.dir, form: "HT02", content: "ND12", date: "2026-05-02", title: "Hội nghị về Luật Dữ liệu", quantity: 1)
        let out = try h.clientOK("cua-khau", "sync")
        #expect(!out.contains("nâng cấp"), "no version advice between programs of one release: \(out)")
        #expect(try h.hubDump() == (try h.clientDump("cua-khau")))
        // The hub's Q2 report counts the activity under ND12, with the title the Office gave it.
        let q2 = h.path("q2.json")
        try h.hubOK("report", "--period", "2026-Q2", "--format", "json", "--out", q2)
        let report = try Self.json(String(decoding: try Data(contentsOf: URL(fileURLWithPath: q2)), as: UTF8.self))
        #expect((report["evidence"] as? [[String: Any]])?.contains { $0["id"] as? String == id } == true)
        let text = String(decoding: try Data(contentsOf: URL(fileURLWithPath: q2)), as: UTF8.self)
        #expect(text.contains("Tuyên truyền Luật Dữ liệu"))

        // Next year: only the Office imports; an activity of 20/12/2026 waits for the 2027 plan.
        let file = Self.repo.appendingPathComponent("plans/2027.json").path
        let notOffice = try h.client("cua-khau", ["plan", "import", file])
        #expect(notOffice.status == 4, "\(notOffice)")
        let tooEarly = try h.client(
            "cua-khau", ["activity", "add", "--form", "HT02", "--content", "ND12", "--date", "2026-12-20", "--title", "Đối thoại cuối năm"])
        #expect(tooEarly.status == 2 && tooEarly.stderr.contains("Kế hoạch năm 2027"), "\(tooEarly)")
        // A damaged plan file is refused naming the missing field; nothing is written.
        let vpBefore = try h.clientDump("vp")
        try Data(#"{"plan":{"year":2027}}"#.utf8).write(to: URL(fileURLWithPath: h.path("bad-plan.json")))
        let bad = try h.client("vp", ["plan", "import", h.path("bad-plan.json")])
        #expect(bad.status == 2 && bad.stderr.contains("«file»") && bad.stderr.contains("plan.symbol"), "\(bad)")
        #expect(try h.clientDump("vp") == vpBefore)
        #expect(try h.clientOK("vp", "plan", "import", file).contains("Đã nhập Kế hoạch năm 2027"))
        #expect(try h.clientOK("vp", "plan", "import", file).contains("không có gì thay đổi"))
        try h.clientOK("vp", "sync")
        try h.clientOK("cua-khau", "sync")
        let straddling = try Fixtures.addActivity(
            db: h.db("cua-khau"), in: h.dir, form: "HT02", content: "ND12", date: "2026-12-20", title: "Đối thoại cuối năm", quantity: 1)
        try h.clientOK("cua-khau", "sync")
        let q1 = h.path("q1-2027.json")
        try h.hubOK("report", "--period", "2027-Q1", "--format", "json", "--out", q1)
        let q1Report = try Self.json(String(decoding: try Data(contentsOf: URL(fileURLWithPath: q1)), as: UTF8.self))
        #expect((q1Report["evidence"] as? [[String: Any]])?.map { $0["id"] as? String } == [straddling])
        // 2028 has no plan: its report is refused, naming the period.
        let none = try h.hub("report", "--period", "2028-Q1", "--format", "json", "--out", h.path("q1-2028.json"))
        #expect(none.status == 2 && none.stderr.contains("2028"), "\(none)")
    }

    @Test("Trước khi khởi tạo, «plan» in Kế hoạch kèm chương trình / before init, «plan» shows the shipped plan")
    func shippedPlan() throws {
        let dir = try TempDir("plan-shipped")
        let out = try Run.ok(.unitClient, ["plan", "--db", dir.path("none.sqlite")], in: dir.url).out
        #expect(out.contains("Kế hoạch tuyên truyền cải cách hành chính năm 2026") && out.contains("kèm chương trình") && out.contains("ND11"))
        #expect(!FileManager.default.fileExists(atPath: dir.path("none.sqlite")))
    }
}

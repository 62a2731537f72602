import Foundation
import SyncCore
import TestSupport
import Testing

/// Commands and behaviours a user meets that no other suite runs (issue 13, "CLI never exercised"):
/// the Vietnamese help of every command, the `UNIT_DB`/`HUB_DB` defaults, `task list`,
/// `conflicts resolve --keep`, and bad input to `hub enrol`, `hub revoke` and `hub bundle export`.
/// Exit codes are the README's literal numbers.
@Suite("Các lệnh người dùng gặp / commands a user meets")
struct CommandCoverageTests {
    @Test("--help của mọi lệnh: tiếng Việt có dấu, mã thoát 0 / every command's help is Vietnamese and exits 0")
    func help() throws {
        let unit: [[String]] = [
            [], ["init"], ["plan"], ["task"], ["task", "list"], ["activity", "add"], ["activity", "list"], ["directive", "add"],
            ["conflicts", "resolve"],
            ["history"], ["status"], ["ops", "export"], ["report", "draft"], ["report", "consolidate"], ["sync"], ["bundle", "export"], ["rehome"],
            ["verify"], ["repair"],
        ]
        for args in unit {
            let r = try Run.unitClient(args + ["--help"])
            #expect(r.status == 0, "unit-client \(args) --help: \(r.status) \(r.stderr)")
            #expect(r.out.contains("USAGE: unit-client"), "\(args)")
            // Vietnamese with diacritics, in NFC.
            #expect(r.out.unicodeScalars.contains { $0.value >= 0x1EA0 && $0.value <= 0x1EF9 }, "unit-client \(args) --help has no Vietnamese")
            #expect(r.out == VietnameseText.nfc(r.out), "\(args) help is not NFC")
        }
        let hub: [[String]] = [
            [], ["init"], ["serve"], ["enrol"], ["revoke"], ["report"], ["bundle", "import"], ["ops", "import"], ["nightly"], ["verify"], ["status"],
        ]
        for args in hub {
            let r = try Run.hub(args + ["--help"])
            #expect(r.status == 0 && r.out.contains("USAGE: hub"), "hub \(args) --help: \(r.status) \(r.stderr)")
            #expect(r.out.unicodeScalars.contains { $0.value >= 0x1EA0 && $0.value <= 0x1EF9 }, "hub \(args) --help has no Vietnamese")
        }
        #expect(try Run.hub(["report", "--help"]).out.contains("--audience"))
    }

    @Test("UNIT_DB và HUB_DB là tệp mặc định; task list liệt kê nhiệm vụ / the database defaults, and task list")
    func environmentDefaults() throws {
        let dir = try TempDir("env-defaults")
        let unitDB = dir.path("tu-bien-moi-truong.sqlite")
        let hubDB = dir.path("hub-bien-moi-truong.sqlite")
        let init1 = try Run.unitClient(["init", "--unit", "TTQLCK", "--replica", "eeee0001"], in: dir.url, environment: ["UNIT_DB": unitDB])
        #expect(init1.status == 0, "\(init1.stderr)")
        #expect(FileManager.default.fileExists(atPath: unitDB) && !FileManager.default.fileExists(atPath: dir.path("unit.sqlite")))
        let status = try Run.unitClient(["status", "--json"], in: dir.url, environment: ["UNIT_DB": unitDB])
        let object = try #require(try JSONSerialization.jsonObject(with: status.stdout) as? [String: Any])
        #expect(object["replica_id"] as? String == "eeee0001")
        // --db wins over the variable.
        let other = dir.path("khac.sqlite")
        #expect(try Run.unitClient(["init", "--unit", "VP", "--db", other], in: dir.url, environment: ["UNIT_DB": unitDB]).status == 0)
        #expect(try Run.unitClient(["status", "--json", "--db", other], in: dir.url).out.contains("\"VP\""))
        // task list: the unit's standing duties of the plan, as text and JSON.
        let tasks = try Run.unitClient(["task", "list"], in: dir.url, environment: ["UNIT_DB": unitDB])
        #expect(tasks.status == 0 && tasks.out.contains("NV.TTQLCK.TN05") && tasks.out.contains("NV.TTQLCK.TN06"), "\(tasks.out)")
        let json = try Run.unitClient(["task", "list", "--json", "--unit", "TTQLCK"], in: dir.url, environment: ["UNIT_DB": unitDB])
        let rows = try #require(try JSONSerialization.jsonObject(with: json.stdout) as? [[String: Any]])
        #expect(Set(rows.compactMap { $0["id"] as? String }) == ["NV.TTQLCK.TN05", "NV.TTQLCK.TN06"], "\(rows)")
        // The hub's default.
        #expect(try Run.hub(["init"], in: dir.url, environment: ["HUB_DB": hubDB]).status == 0)
        #expect(FileManager.default.fileExists(atPath: hubDB) && !FileManager.default.fileExists(atPath: dir.path("hub.sqlite")))
        #expect(try Run.hub(["status"], in: dir.url, environment: ["HUB_DB": hubDB]).status == 0)
    }

    @Test("conflicts resolve --keep: giá trị được giữ thắng ở mọi nơi, hết xung đột / the kept value wins everywhere, the conflict is gone")
    func resolveKeep() throws {
        let dir = try TempDir("resolve-keep")
        let a = dir.path("a.sqlite")
        let b = dir.path("b.sqlite")
        try Fixtures.replica(a, unit: "TTQLCK", replica: "eeee0011", in: dir.url)
        try Fixtures.replica(b, unit: "TTQLCK", replica: "eeee0012", in: dir.url)
        let id = try Fixtures.addActivity(db: a, in: dir.url, form: "HT04", content: "ND05", date: "2026-02-10", title: "Tờ rơi", quantity: 100)
        func exchange(_ from: String, _ to: String) throws {
            let file = dir.path("x-\(UUID().uuidString).ops")
            try Run.ok(.unitClient, ["ops", "export", "--db", from, "--out", file], in: dir.url)
            try Run.ok(.unitClient, ["ops", "import", "--db", to, file], in: dir.url)
        }
        try exchange(a, b)
        try Run.ok(.unitClient, ["activity", "edit", id, "--quantity", "300", "--db", a], in: dir.url)
        try Run.ok(.unitClient, ["activity", "edit", id, "--quantity", "500", "--db", b], in: dir.url)
        try exchange(a, b)
        try exchange(b, a)
        let listed = try Run.ok(.unitClient, ["conflicts", "--json", "--db", a], in: dir.url)
        let conflicts = try #require(try JSONSerialization.jsonObject(with: listed.stdout) as? [[String: Any]])
        let c = try #require(conflicts.first { $0["record"] as? String == id && $0["field"] as? String == "quantity" })
        let candidates = try #require(c["candidates"] as? [[String: Any]])
        #expect(candidates.count == 2)
        // Keep the value that is not the winner, so the resolution visibly changes the outcome.
        let loser = try #require(candidates.first { $0["winner"] as? Bool == false })
        let dot = try #require(loser["dot"] as? String)
        let keptValue = try #require(loser["value"] as? Int)
        let before = try Run.ok(.unitClient, ["dump", "--db", a], in: dir.url).stdout
        let bad = try Run.unitClient(["conflicts", "resolve", id, "quantity", "--keep", "zzzz9999:1", "--db", a], in: dir.url)
        #expect(bad.status != 0 && bad.stderr.contains("zzzz9999:1"), "\(bad.stderr)")
        #expect(try Run.ok(.unitClient, ["dump", "--db", a], in: dir.url).stdout == before, "a refused resolution changed the replica")
        try Run.ok(.unitClient, ["conflicts", "resolve", id, "quantity", "--keep", dot, "--db", a], in: dir.url)
        try exchange(a, b)
        for db in [a, b] {
            let left = try Run.ok(.unitClient, ["conflicts", "--json", "--db", db], in: dir.url)
            let rows = try #require(try JSONSerialization.jsonObject(with: left.stdout) as? [[String: Any]])
            #expect(!rows.contains { $0["record"] as? String == id }, "conflict still listed in \(db)")
            let show = try Run.ok(.unitClient, ["activity", "show", id, "--json", "--db", db], in: dir.url)
            let activity = try #require(try JSONSerialization.jsonObject(with: show.stdout) as? [String: Any])
            #expect(activity["quantity"] as? Int == keptValue, "\(activity)")
        }
        #expect(
            try Run.ok(.unitClient, ["dump", "--db", a], in: dir.url).stdout == (try Run.ok(.unitClient, ["dump", "--db", b], in: dir.url).stdout))
    }

    @Test("hub enrol, revoke, bundle export: đầu vào sai nêu trường và giá trị, không đổi gì / bad input named, nothing changed")
    func hubBadInput() throws {
        let dir = try TempDir("hub-bad-input")
        let hub = dir.path("hub.sqlite")
        try Run.ok(.hub, ["init", "--db", hub], in: dir.url)
        let before = try Run.ok(.hub, ["dump", "--db", hub], in: dir.url).stdout
        let out = dir.path("x.enrol")
        let cases: [([String], Int32, [String])] = [
            (["enrol", "--unit", "XX", "--out", out], 2, ["«unit»", "«XX»"]),
            (["enrol", "--unit", "VP", "--url", "ftp://x", "--out", out], 2, ["«url»", "«ftp://x»"]),
            (["enrol", "--unit", "VP", "--out", dir.path("khong-co/x.enrol")], 2, ["out"]),
            (["revoke", "x y"], 2, ["«replica»", "«x y»"]),
            (["revoke", "abcd1234"], 3, ["abcd1234"]),
            (["bundle", "export", "--replica", "abcd1234", "--out", dir.path("b.bundle")], 4, ["abcd1234"]),
            (["bundle", "export", "--replica", "X!", "--out", dir.path("b.bundle")], 2, ["«replica»", "«X!»"]),
        ]
        for (args, code, names) in cases {
            let r = try Run.hub(args + ["--db", hub], in: dir.url)
            #expect(r.status == code, "hub \(args): exit \(r.status) \(r.stderr)")
            #expect(r.stderr.hasPrefix("Lỗi: "), "hub \(args): \(r.stderr)")
            for n in names { #expect(r.stderr.contains(n), "hub \(args) names \(n): \(r.stderr)") }
        }
        #expect(!FileManager.default.fileExists(atPath: out) && !FileManager.default.fileExists(atPath: dir.path("b.bundle")))
        #expect(try Run.ok(.hub, ["dump", "--db", hub], in: dir.url).stdout == before, "bad input changed the hub")
    }
}

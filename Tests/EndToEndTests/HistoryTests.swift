import Foundation
import SyncCore
import Testing

/// The audit history (`unit-client history`, `hub history`) through the built executables:
/// every op on a record with who, when, what it replaced and whether it is verified.
@Suite(.serialized) struct HistoryTests {
    /// Two replicas of TTQLCK in a scratch folder, exchanging ops files.
    struct Pair {
        let dir: TempDir
        let a: String
        let b: String

        init() throws {
            dir = try TempDir("history")
            a = dir.path("a.sqlite")
            b = dir.path("b.sqlite")
            try Fixtures.replica(a, unit: "TTQLCK", replica: "aaaa0001", label: "Máy A", in: dir.url)
            try Fixtures.replica(b, unit: "TTQLCK", replica: "bbbb0002", label: "Máy Bình", in: dir.url)
        }

        @discardableResult
        func run(_ args: [String], sourceLocation: SourceLocation = #_sourceLocation) throws -> ProcessResult {
            try Run.ok(.unitClient, args, in: dir.url, sourceLocation: sourceLocation)
        }

        /// Everything `from` holds, imported into `to`; `since` limits the export.
        func send(_ from: String, to: String, since: String? = nil) throws {
            let file = from + ".\(UUID().uuidString.prefix(6)).ops"
            try run(["ops", "export", "--db", from, "--out", file] + (since.map { ["--since", $0] } ?? []))
            try run(["ops", "import", "--db", to, file])
        }

        func history(_ db: String, _ id: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> (entries: [HistoryEntry], raw: Data) {
            let r = try run(["history", id, "--json", "--db", db], sourceLocation: sourceLocation)
            return (try JSONDecoder().decode([HistoryEntry].self, from: r.stdout), r.stdout)
        }

        func counter(_ db: String, of replica: String) throws -> UInt64 {
            let status = try run(["status", "--json", "--db", db]).stdout
            let object = try JSONSerialization.jsonObject(with: status) as? [String: Any]
            return ((object?["version_vector"] as? [String: Any])?[replica] as? NSNumber)?.uint64Value ?? 0
        }
    }

    /// The local time the history must show for `hlc`: its physical part in Asia/Ho_Chi_Minh.
    static func localTime(_ hlc: UInt64) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "Asia/Ho_Chi_Minh")
        f.dateFormat = "dd/MM/yyyy HH:mm:ss"
        return f.string(from: Date(timeIntervalSince1970: Double(hlc >> 16) / 1000))
    }

    /// The order of application: by HLC, then dot (origin, counter).
    static func inOrder(_ entries: [HistoryEntry]) -> Bool {
        zip(entries, entries.dropFirst()).allSatisfy { x, y in (x.hlc, x.origin, x.counter) < (y.hlc, y.origin, y.counter) }
    }

    @Test("Hai máy sửa cùng tiêu đề: lịch sử cho biết ai, khi nào, thay thế gì, đã xác minh / both edits with who, when, what they replaced")
    func concurrentEditsThroughOpsFiles() throws {
        // Given an activity recorded on A and known to B.
        let p = try Pair()
        let started = Date()
        let id = try Fixtures.addActivity(
            db: p.a, in: p.dir.url, form: "HT02", content: "ND05", date: "2026-03-02", title: "Đối thoại doanh nghiệp", quantity: 1)
        try p.send(p.a, to: p.b)

        // When both retitle it offline and they exchange files.
        try p.run(["activity", "edit", id, "--db", p.a, "--title", "Đối thoại với doanh nghiệp xuất nhập khẩu"])
        try p.run(["activity", "edit", id, "--db", p.b, "--title", "Hội nghị đối thoại doanh nghiệp quý I"])
        try p.send(p.a, to: p.b)
        try p.send(p.b, to: p.a)

        // Then the history lists every op of the record, in order, each verified.
        let (entries, raw) = try p.history(p.a, id)
        #expect(Self.inOrder(entries), "\(entries.map(\.dot))")
        #expect(Set(entries.map(\.field)).isSuperset(of: ["unit", "date", "form", "content", "title", "quantity", "recorded", "deleted"]))
        #expect(entries.allSatisfy { $0.record == id && $0.applied && $0.verification == .verified && $0.unit == "TTQLCK" })
        for e in entries {
            #expect(e.time == Self.localTime(e.hlc), "\(e.dot): \(e.time)")
            #expect(e.dot == "\(e.origin):\(e.counter)")
            #expect(e.machine == (e.origin == "aaaa0001" ? "Máy A" : "Máy Bình"))
            let written = Date(timeIntervalSince1970: Double(e.hlc >> 16) / 1000)
            #expect(written >= started.addingTimeInterval(-5) && written <= Date().addingTimeInterval(5), "\(e.dot) written at \(written)")
        }
        let titles = entries.filter { $0.field == "title" }
        #expect(titles.count == 3, "\(titles)")
        let created = try #require(titles.first { $0.supersedes.isEmpty })
        #expect(created.origin == "aaaa0001" && created.value == .text("Đối thoại doanh nghiệp"))
        let byA = try #require(titles.first { $0.origin == "aaaa0001" && !$0.supersedes.isEmpty })
        let byB = try #require(titles.first { $0.origin == "bbbb0002" })
        #expect(byA.value == .text("Đối thoại với doanh nghiệp xuất nhập khẩu"))
        #expect(byB.value == .text("Hội nghị đối thoại doanh nghiệp quý I"))
        #expect(byB.machine == "Máy Bình" && byB.unit == "TTQLCK")
        // Each edit replaced the created title (the field and value it replaced are named), not the other edit.
        let replacedCreated = HistoryEntry.Replaced(dot: created.dot, known: true, field: "title", value: .text("Đối thoại doanh nghiệp"))
        #expect(byA.supersedes == [replacedCreated])
        #expect(byB.supersedes == [replacedCreated])

        // The JSON is an array of objects with the same snake_case keys everywhere (null when unknown).
        let objects = try #require(try JSONSerialization.jsonObject(with: raw) as? [[String: Any]])
        let keys: Set<String> = [
            "record", "dot", "origin", "counter", "unit", "machine", "hlc", "time", "field", "value", "supersedes", "verification", "applied",
        ]
        #expect(objects.allSatisfy { Set($0.keys) == keys }, "\(objects.first.map { Array($0.keys) } ?? [])")
        let replaced = try #require(objects.first { $0["dot"] as? String == byB.dot }?["supersedes"] as? [[String: Any]])
        #expect(replaced.first?["field"] as? String == "title" && replaced.first?["known"] as? Bool == true)
        #expect(objects.first?["verification"] as? String == "verified")
        // B knows the same ops, so it tells the same history, byte for byte.
        #expect(try p.history(p.b, id).raw == raw)

        // The text: a header naming the record and its state, one block per op, in NFC Vietnamese.
        let text = try p.run(["history", id, "--db", p.b]).out
        #expect(text == text.precomposedStringWithCanonicalMapping)
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.first == "Lịch sử hoạt động \(id) — hiện trạng: đang có hiệu lực (chưa xóa); đang xung đột: title", "\(text)")
        #expect(lines.filter { $0.hasPrefix("#") }.count == entries.count)
        #expect(text.contains("\(byB.time)  title (tiêu đề) = «Hội nghị đối thoại doanh nghiệp quý I»"), "\(text)")
        #expect(text.contains("Người ghi:  bản sao bbbb0002 — đơn vị TTQLCK — máy «Máy Bình»"))
        #expect(text.contains("Người ghi:  bản sao aaaa0001 — đơn vị TTQLCK — máy «Máy A»"))
        #expect(text.contains("Thay thế:   \(created.dot) — title (tiêu đề) = «Đối thoại doanh nghiệp»"), "\(text)")
        #expect(text.contains("Thao tác:   \(byB.dot), HLC \(byB.hlc) ("))
        #expect(lines.filter { $0 == "    Xác minh:   đã xác minh" }.count == entries.count)

        // When A deletes it, the history ends with the delete, replacing what A saw of every field.
        try p.run(["activity", "delete", id, "--db", p.a])
        let after = try p.history(p.a, id).entries
        let delete = try #require(after.last)
        #expect(delete.field == "deleted" && delete.value == .int(1) && delete.origin == "aaaa0001")
        #expect(delete.supersedes.count >= 8 && delete.supersedes.allSatisfy(\.known))
        #expect(Set(delete.supersedes.map(\.dot)).isSuperset(of: [byA.dot, byB.dot]))
        let deletedText = try p.run(["history", id, "--db", p.a]).out
        #expect(deletedText.hasPrefix("Lịch sử hoạt động \(id) — hiện trạng: đã xóa"), "\(deletedText)")
        #expect(deletedText.contains("deleted (đã xóa) = 1 (xóa)"))
    }

    @Test("Nhiệm vụ gốc của kế hoạch và thao tác đang chờ khoảng trống / the plan's seed and held-back ops")
    func seedAndHeldBackOps() throws {
        let p = try Pair()
        // The duty TN06 comes from the plan's seed; A sets its status.
        try p.run(["task", "update", "NV.TTQLCK.TN06", "--db", p.a, "--status", "đang thực hiện"])
        let task = try p.history(p.a, "NV.TTQLCK.TN06").entries
        let seed = task.filter { $0.origin == "genesis" }
        #expect(!seed.isEmpty && seed.allSatisfy { $0.verification == .genesis && $0.unit == nil && $0.machine == nil })
        let status = try #require(task.first { $0.origin == "aaaa0001" && $0.field == "status" })
        #expect(status.value == .text("dang_thuc_hien") && status.verification == .verified)
        #expect(status.supersedes.count == 1 && status.supersedes[0].known && status.supersedes[0].field == "status")
        #expect(seed.contains { $0.dot == status.supersedes[0].dot })
        let taskText = try p.run(["history", "NV.TTQLCK.TN06", "--db", p.a]).out
        #expect(taskText.contains("Xác minh:   dữ liệu gốc của kế hoạch"))
        #expect(taskText.contains("Người ghi:  genesis — dữ liệu gốc của kế hoạch"))
        #expect(taskText.contains("(khi khởi tạo)  unit (đơn vị) = «TTQLCK»"), "\(taskText)")

        // When B receives only A's ops after the activity was created (a gap before them).
        let id = try Fixtures.addActivity(
            db: p.a, in: p.dir.url, form: "HT01", content: "ND05", date: "2026-03-05", title: "Tuyên truyền tại cửa khẩu", quantity: 2)
        let created = try p.counter(p.a, of: "aaaa0001")
        try p.run(["activity", "edit", id, "--db", p.a, "--quantity", "5"])
        try p.send(p.a, to: p.b, since: "aaaa0001:\(created)")

        // Then B shows the edit as held back, not verified, with what it replaced unknown there.
        let held = try p.history(p.b, id).entries
        #expect(held.count == 1, "\(held)")
        let edit = try #require(held.first)
        #expect(!edit.applied && edit.verification == .unverified && edit.field == "quantity" && edit.value == .int(5))
        #expect(edit.supersedes.count == 1 && !edit.supersedes[0].known && edit.supersedes[0].field == nil)
        let heldText = try p.run(["history", id, "--db", p.b]).out
        #expect(heldText.contains("[đang chờ — chưa áp dụng]"), "\(heldText)")
        #expect(heldText.contains("Xác minh:   chưa xác minh"))
        #expect(heldText.contains("(thao tác chưa có ở đây)"))

        // And once the gap fills, the same op is applied and verified.
        try p.send(p.a, to: p.b)
        let filled = try p.history(p.b, id).entries
        let applied = try #require(filled.first { $0.dot == edit.dot })
        #expect(applied.applied && applied.verification == .verified && applied.supersedes[0].known)
        #expect(filled == (try p.history(p.a, id).entries))
    }

    @Test("Mã không tồn tại: thoát 3; mã sai dạng: thoát 2 / unknown record exits 3, malformed id exits 2")
    func unknownAndMalformedIDs() throws {
        let p = try Pair()
        let missing = "HD.TTQLCK.aaaa0001.999"
        for tool in [Run.Tool.unitClient, .hub] {
            var args = ["history", missing]
            if tool == .hub {
                try Run.ok(.hub, ["init", "--db", p.dir.path("hub.sqlite")], in: p.dir.url)
                args += ["--db", p.dir.path("hub.sqlite")]
            } else {
                args += ["--db", p.a]
            }
            let r = try Run.tool(tool, args, in: p.dir.url)
            #expect(r.status == 3, "\(tool): \(r)")
            #expect(r.stderr.hasPrefix("Lỗi: ") && r.stderr.contains("«record»") && r.stderr.contains("«\(missing)»"), "\(r)")
            #expect(r.out.isEmpty)
            for bad in ["HD.TTQLCK.1", "không-phải-mã", "XX.TTQLCK.1"] {
                let b = try Run.tool(tool, ["history", bad] + args.dropFirst(2), in: p.dir.url)
                #expect(b.status == 2, "\(tool) \(bad): \(b)")
                #expect(b.stderr.contains("«record»") && b.stderr.contains("«\(bad)»"), "\(b)")
            }
        }
    }

    @Test("hub history qua HTTP: hai bản sao sửa cùng tiêu đề / the hub's history after syncs over HTTP")
    func hubHistoryOverHTTP() throws {
        let h = try HubHarness.serving("history", replicas: [("may-a", "TTQLCK"), ("may-b", "TTQLCK")])
        let id = try h.addActivity("may-a", title: "Phát tờ rơi tại cửa khẩu Hữu Nghị")
        try h.clientOK("may-a", "sync")
        try h.clientOK("may-b", "sync")
        try h.clientOK("may-a", "activity", "edit", id, "--title", "Phát tờ rơi tại cửa khẩu Hữu Nghị (đợt 1)")
        try h.clientOK("may-b", "activity", "edit", id, "--title", "Phát 500 tờ rơi tại cửa khẩu Hữu Nghị")
        try h.clientOK("may-a", "sync")
        try h.clientOK("may-b", "sync")
        try h.clientOK("may-a", "sync")
        let a = try h.enrolment("may-a").replicaID.rawValue
        let b = try h.enrolment("may-b").replicaID.rawValue

        let raw = try Run.ok(.hub, ["history", id, "--json", "--db", h.hubDB], in: h.dir).stdout
        let entries = try JSONDecoder().decode([HistoryEntry].self, from: raw)
        #expect(Self.inOrder(entries))
        #expect(entries.allSatisfy { $0.applied && $0.verification == .verified && $0.unit == "TTQLCK" })
        let titles = entries.filter { $0.field == "title" }
        #expect(titles.count == 3)
        let byA = try #require(titles.first { $0.origin == a && !$0.supersedes.isEmpty })
        let byB = try #require(titles.first { $0.origin == b })
        #expect(byA.machine == "may-a" && byB.machine == "may-b")
        #expect(byA.supersedes.map(\.value) == [.text("Phát tờ rơi tại cửa khẩu Hữu Nghị")])
        #expect(byB.supersedes == byA.supersedes)
        // The replicas tell the same history as the hub.
        #expect(try h.clientOK("may-a", "history", id, "--json") == String(decoding: raw, as: UTF8.self))
        #expect(try h.clientOK("may-b", "history", id, "--json") == String(decoding: raw, as: UTF8.self))

        let text = try h.hubOK("history", id)
        #expect(text.hasPrefix("Lịch sử hoạt động \(id) — hiện trạng: đang có hiệu lực (chưa xóa); đang xung đột: title"), "\(text)")
        #expect(text.contains("máy «may-a»") && text.contains("máy «may-b»") && text.contains("Xác minh:   đã xác minh"))
        // A replica's registration has a history too: its unit, label and key.
        let registration = try JSONDecoder().decode(
            [HistoryEntry].self, from: try Run.ok(.hub, ["history", "RE.\(a)", "--json", "--db", h.hubDB], in: h.dir).stdout)
        #expect(Set(registration.map(\.field)) == ["unit", "label", "key"])
        #expect(registration.first { $0.field == "label" }?.value == .text("may-a"))
    }

    @Test("Cơ sở dữ liệu của phiên bản trước: thao tác cũ chưa ký / ops of the previous release are shown as legacy")
    func legacyOpsOfThePreviousRelease() throws {
        let dir = try TempDir("history-previous")
        let hub = try PreviousVersionTests.copy("hub.sqlite", to: dir)
        let id = "HD.CPCM-QHXDMT.42c59f1c.12"
        let entries = try JSONDecoder().decode(
            [HistoryEntry].self, from: try Run.ok(.hub, ["history", id, "--json", "--db", hub], in: dir.url).stdout)
        #expect(!entries.isEmpty && Self.inOrder(entries))
        #expect(entries.allSatisfy { $0.verification == .legacy && $0.origin == "42c59f1c" && $0.unit == "CPCM-QHXDMT" && $0.machine == "vm" })
        #expect(entries.first { $0.field == "title" }?.value == .text("Tin bài dịch vụ công trực tuyến (sau ngày chốt quý I)"))
        let text = try Run.ok(.hub, ["history", id, "--db", hub], in: dir.url).out
        #expect(text.contains("Xác minh:   dữ liệu cũ chưa ký") && !text.contains("đã xác minh"), "\(text)")
    }
}

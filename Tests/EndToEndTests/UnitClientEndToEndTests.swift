import Foundation
import SyncCore
import Testing

/// The built `unit-client` on three replicas in a temporary folder, exchanging plain ops files.
@Suite(.serialized) struct UnitClientEndToEndTests {
    /// Two replicas of TTQLCK (so they can edit the same activities) and one of the Office.
    struct Replicas {
        let dir: TempDir
        let a: String
        let b: String
        let vp: String

        init() throws {
            dir = try TempDir()
            a = dir.path("ttqlck-a.sqlite")
            b = dir.path("ttqlck-b.sqlite")
            vp = dir.path("vp.sqlite")
            try Fixtures.replica(a, unit: "TTQLCK", replica: "aaaa0001", label: "Máy A", in: dir.url)
            try Fixtures.replica(b, unit: "TTQLCK", replica: "bbbb0002", label: "Máy B", in: dir.url)
            try Fixtures.replica(vp, unit: "VP", replica: "cccc0003", label: "Văn phòng", in: dir.url)
        }

        var all: [String] { [a, b, vp] }

        @discardableResult
        func run(_ args: [String], sourceLocation: SourceLocation = #_sourceLocation) throws -> ProcessResult {
            try Run.ok(.unitClient, args, in: dir.url, sourceLocation: sourceLocation)
        }

        /// Adds an activity on `db` and returns its id.
        func add(
            _ db: String, form: String, content: String, date: String, title: String, quantity: Int? = nil, participants: Int? = nil,
            url: String? = nil, sourceLocation: SourceLocation = #_sourceLocation
        ) throws -> String {
            try Fixtures.addActivity(
                db: db, in: dir.url, form: form, content: content, date: date, title: title, quantity: quantity, participants: participants,
                url: url, sourceLocation: sourceLocation)
        }

        /// Exports every op of `db` to a file named after it.
        func export(_ db: String, suffix: String = "") throws -> String {
            let out = db + suffix + ".ops.json"
            try run(["ops", "export", "--db", db, "--out", out])
            return out
        }

        func importFile(_ db: String, _ file: String) throws { try run(["ops", "import", "--db", db, file]) }

        func dump(_ db: String) throws -> Data { try run(["dump", "--db", db]).stdout }

        func conflicts(_ db: String) throws -> [ConflictRow] {
            try JSONDecoder().decode([ConflictRow].self, from: try run(["conflicts", "--json", "--db", db]).stdout)
        }

        func opCount(_ db: String) throws -> Int {
            let status = try run(["status", "--json", "--db", db]).stdout
            let object = try JSONSerialization.jsonObject(with: status) as? [String: Any]
            return object?["ops"] as? Int ?? -1
        }

        /// Every replica exports everything; each imports the others' files in its own order.
        func exchangeAll(orders: [[Int]]) throws {
            let files = try all.map { try export($0) }
            for (i, db) in all.enumerated() {
                for j in orders[i] where j != i { try importFile(db, files[j]) }
            }
        }
    }

    @Test("Ba bản sao trao đổi tệp thao tác theo thứ tự khác nhau và hội tụ / three replicas converge through ops files")
    func threeReplicasConverge() throws {
        // Given three fresh replicas.
        let r = try Replicas()

        // When A records two activities and the Office assigns a task, and everybody syncs.
        let dialogue = try r.add(
            r.a, form: "HT02", content: "ND01,ND05", date: "2026-03-02", title: "Đối thoại doanh nghiệp tại cửa khẩu Đồng Đăng", quantity: 1,
            participants: 45)
        let article = try r.add(
            r.a, form: "HT06", content: "ND10", date: "2026-03-20", title: "Tin chuyển đổi số", url: "https://bqlkktck.langson.gov.vn/tin/1")
        let task = try r.run([
            "task", "add", "--db", r.vp, "--unit", "TTQLCK", "--item", "ND05", "--due", "2026-06-14", "--title",
            "Tuyên truyền dịch vụ công trực tuyến tại cửa khẩu",
        ]).lastLine
        #expect(task.hasPrefix("NV.TTQLCK."))
        try r.exchangeAll(orders: [[1, 2], [2, 0], [0, 1]])
        let synced = try r.dump(r.a)
        #expect(try r.dump(r.b) == synced)
        #expect(try r.dump(r.vp) == synced)
        #expect(try r.conflicts(r.a).isEmpty)

        // When, offline, A and B retitle the same activity, A edits an article that B deletes,
        // and TTQLCK and the Office set the status of the same task.
        try r.run(["activity", "edit", dialogue, "--db", r.a, "--title", "Đối thoại với doanh nghiệp xuất nhập khẩu"])
        try r.run(["activity", "edit", dialogue, "--db", r.b, "--title", "Hội nghị đối thoại doanh nghiệp quý I"])
        try r.run(["activity", "edit", article, "--db", r.a, "--quantity", "3"])
        try r.run(["activity", "delete", article, "--db", r.b])
        try r.run(["task", "update", task, "--db", r.b, "--status", "đang thực hiện", "--note", "Đã phát 500 tờ rơi"])
        try r.run(["task", "update", task, "--db", r.vp, "--status", "hoàn thành"])
        try r.run(["task", "update", "NV.TTQLCK.TN06", "--db", r.a, "--status", "dang thuc hien"])

        // And they exchange files in different orders (one of them twice).
        try r.exchangeAll(orders: [[2, 1], [0, 2], [1, 0]])
        let fileA = try r.export(r.a, suffix: ".again")
        try r.importFile(r.b, fileA)

        // Then the three dumps are byte for byte identical and list the same conflicts.
        let converged = try r.dump(r.a)
        #expect(try r.dump(r.b) == converged)
        #expect(try r.dump(r.vp) == converged)
        let conflicts = try r.conflicts(r.a)
        #expect(try r.conflicts(r.b) == conflicts)
        #expect(try r.conflicts(r.vp) == conflicts)

        // Every concurrent value survives, with who wrote it.
        let title = conflicts.first { $0.record == dialogue && $0.field == "title" }
        #expect(
            Set(title?.candidates.map(\.value) ?? [])
                == [.text("Đối thoại với doanh nghiệp xuất nhập khẩu"), .text("Hội nghị đối thoại doanh nghiệp quý I")])
        #expect(Set(title?.candidates.map(\.replica) ?? []) == ["aaaa0001", "bbbb0002"])
        #expect(title?.candidates.filter(\.winner).count == 1)
        let status = conflicts.first { $0.record == task && $0.field == "status" }
        #expect(Set(status?.candidates.map(\.value) ?? []) == [.text("dang_thuc_hien"), .text("hoan_thanh")])
        #expect(Set(status?.candidates.compactMap(\.unit) ?? []) == ["TTQLCK", "VP"])
        // The delete concurrent with an edit is a conflict for review, not a silent loss.
        let deleted = conflicts.first { $0.record == article && $0.field == "deleted" }
        #expect(deleted != nil, "delete concurrent with an edit is listed: \(conflicts)")
        #expect(deleted?.candidates.contains { $0.value == .text("quantity = 3") } == true)
        let canonical = try JSONDecoder().decode(CanonicalDump.self, from: converged)
        #expect(canonical.records[article]?["deleted"]?.value == .int(1))
        #expect(canonical.records[article]?["deleted"]?.concurrentEdits?.first?.hasPrefix("quantity@aaaa0001:") == true)
        #expect(conflicts.count == 3, "\(conflicts.map { "\($0.record) \($0.field)" })")

        // When A resolves the title, restores the article, and everybody syncs again.
        try r.run(["conflicts", "resolve", dialogue, "title", "--db", r.a, "--value", "Đối thoại doanh nghiệp quý I/2026"])
        try r.run(["conflicts", "resolve", article, "deleted", "--db", r.a, "--value", "0"])
        try r.exchangeAll(orders: [[1, 2], [0, 2], [0, 1]])

        // Then the resolution reached everybody and only the task status remains in conflict.
        let resolved = try r.dump(r.vp)
        #expect(try r.dump(r.a) == resolved)
        #expect(try r.dump(r.b) == resolved)
        #expect(try r.conflicts(r.b).map { "\($0.record) \($0.field)" } == ["\(task) status"])
        let shown = try JSONDecoder().decode(ActivityRow.self, from: try r.run(["activity", "show", dialogue, "--json", "--db", r.b]).stdout)
        #expect(shown.title == "Đối thoại doanh nghiệp quý I/2026")
        let restored = try JSONDecoder().decode(ActivityRow.self, from: try r.run(["activity", "show", article, "--json", "--db", r.vp]).stdout)
        #expect(restored.quantity == 3, "the concurrent edit survived the delete and the restore")

        // And importing everything once more changes nothing.
        let counts = try r.all.map { try r.opCount($0) }
        try r.exchangeAll(orders: [[2, 1], [2, 0], [1, 0]])
        #expect(try r.all.map { try r.opCount($0) } == counts)
        #expect(try r.dump(r.a) == resolved)
    }

    @Test("Xuất --since chỉ gửi phần còn thiếu; nhận trước khoảng trống thì chờ / partial export and held-back ops")
    func partialExportAndGaps() throws {
        let r = try Replicas()
        let first = try r.add(r.a, form: "HT04", content: "ND06", date: "2026-01-10", title: "Tờ rơi một cửa")
        let full = try r.export(r.a, suffix: ".1")
        let vvAfterFirst = try JSONSerialization.jsonObject(with: try r.run(["status", "--json", "--db", r.a]).stdout) as? [String: Any]
        let vector = (vvAfterFirst?["version_vector"] as? [String: Int] ?? [:]).map { "\($0.key):\($0.value)" }.joined(separator: ",")
        try r.run(["activity", "edit", first, "--db", r.a, "--quantity", "200"])
        let tail = r.a + ".tail.ops.json"
        let exported = try r.run(["ops", "export", "--db", r.a, "--since", vector, "--out", tail])
        #expect(exported.out.contains("Đã xuất 1 thao tác"), "\(exported)")

        // Given B receives the tail before the beginning: it is held back, not applied.
        let early = try r.run(["ops", "import", "--db", r.b, tail])
        #expect(early.out.contains("1 chờ"), "\(early)")
        #expect(try r.run(["activity", "list", "--json", "--db", r.b]).out.contains(first) == false)
        // When the beginning arrives, the held-back op follows.
        try r.importFile(r.b, full)
        let shown = try JSONDecoder().decode(ActivityRow.self, from: try r.run(["activity", "show", first, "--json", "--db", r.b]).stdout)
        #expect(shown.quantity == 200)
        let status = try JSONSerialization.jsonObject(with: try r.run(["status", "--json", "--db", r.b]).stdout) as? [String: Any]
        #expect(status?["pending"] as? Int == 0)
        try r.importFile(r.vp, try r.export(r.a, suffix: ".2"))
        try r.importFile(r.vp, try r.export(r.b, suffix: ".2"))
        try r.importFile(r.a, try r.export(r.b, suffix: ".3"))
        try r.importFile(r.a, try r.export(r.vp, suffix: ".3"))
        try r.importFile(r.b, try r.export(r.a, suffix: ".4"))
        #expect(try r.dump(r.a) == r.dump(r.b))
        #expect(try r.dump(r.a) == r.dump(r.vp))
    }

    @Test("Tìm không dấu và sắp xếp theo thứ tự tiếng Việt / diacritic-free search and Vietnamese order")
    func searchAndOrder() throws {
        let r = try Replicas()
        for title in ["Đông", "Dung", "Bình", "Ân"] {
            _ = try r.add(r.a, form: "HT01", content: "ND02", date: "2026-02-02", title: title)
        }
        let dongDang = try r.add(r.a, form: "HT03", content: "ND03", date: "2026-04-01", title: "Hội thi tìm hiểu CCHC tại Đồng Đăng")
        // Typed decomposed (NFD), stored and found as NFC.
        let nfd = try r.add(
            r.a, form: "HT09", content: "ND10", date: "2026-04-02", title: "Trợ lý ảo ở cửa khẩu Đồng Đăng".decomposedStringWithCanonicalMapping)

        func list(_ extra: [String]) throws -> [ActivityRow] {
            try JSONDecoder().decode([ActivityRow].self, from: try r.run(["activity", "list", "--json", "--db", r.a] + extra).stdout)
        }
        #expect(try list(["--period", "2026-Q1"]).map(\.title) == ["Ân", "Bình", "Dung", "Đông"])
        #expect(try list(["--search", "dong dang"]).map(\.id) == [dongDang, nfd])
        #expect(try list(["--search", "ĐỒNG ĐĂNG"]).map(\.id) == [dongDang, nfd])
        #expect(try list(["--search", "Đồng Đăng".decomposedStringWithCanonicalMapping]).map(\.id) == [dongDang, nfd])
        #expect(try list(["--search", "dong"]).map(\.title) == ["Đông", "Hội thi tìm hiểu CCHC tại Đồng Đăng", "Trợ lý ảo ở cửa khẩu Đồng Đăng"])
        #expect(try list(["--search", "huu nghi"]).isEmpty)
        let stored = try list(["--search", "tro ly"]).first?.title
        #expect(stored.map { Array($0.unicodeScalars) } == Array("Trợ lý ảo ở cửa khẩu Đồng Đăng".unicodeScalars))
        // The text listing shows the same order.
        let text = try r.run(["activity", "list", "--period", "2026-Q1", "--db", r.a]).out
        let positions = ["Ân", "Bình", "Dung", "Đông"].compactMap { text.range(of: "  \($0)")?.lowerBound }
        #expect(positions.count == 4 && positions == positions.sorted(), "\(text)")
    }
}

import Foundation
import GRDB
import SyncCore
import Testing

/// Every bad input of issue 2 §5 through the built `unit-client`: a Vietnamese message naming the
/// field and the value, the exit code the README's table documents (written out here, not read
/// from the code under test), and the database unchanged.
@Suite struct BadInputTests {
    static let invalid: Int32 = 2
    static let notFound: Int32 = 3
    static let forbidden: Int32 = 4
    static let database: Int32 = 5
    static let conflict: Int32 = 6
    static let corrupt: Int32 = 7

    /// A TTQLCK replica with one activity, and what it looks like before the bad input.
    struct Fixture {
        let dir: TempDir
        let db: String
        let activity: String

        init() throws {
            dir = try TempDir()
            db = dir.path("ttqlck.sqlite")
            try Fixtures.replica(db, unit: "TTQLCK", replica: "aaaa0001", in: dir.url)
            activity = try Fixtures.addActivity(
                db: db, in: dir.url, form: "HT02", content: "ND05", date: "2026-03-02", title: "Đối thoại doanh nghiệp", quantity: 2)
        }

        /// The canonical dump and the op count: what "unchanged" compares.
        func snapshot() throws -> (dump: Data, ops: String) {
            let dump = try Run.ok(.unitClient, ["dump", "--db", db], in: dir.url).stdout
            let status = try Run.ok(.unitClient, ["status", "--json", "--db", db], in: dir.url).stdout
            let object = try JSONSerialization.jsonObject(with: status) as? [String: Any]
            return (dump, "\(object?["ops"] ?? "?") ops, \(object?["pending"] ?? "?") pending")
        }

        /// Runs a bad command and checks the exit code, the message and that nothing changed.
        func expectRefused(
            _ args: [String], exit: Int32, field: String?, value: String?, mentions: [String] = [], sourceLocation: SourceLocation = #_sourceLocation
        ) throws {
            let before = try snapshot()
            let r = try Run.unitClient(args + ["--db", db], in: dir.url, sourceLocation: sourceLocation)
            let command = "unit-client \(args.joined(separator: " "))"
            #expect(r.status == exit, "\(command): \(r)", sourceLocation: sourceLocation)
            #expect(r.stderr.hasPrefix("Lỗi: "), "\(command): \(r)", sourceLocation: sourceLocation)
            if let field {
                #expect(r.stderr.contains("«\(field)»"), "\(command) names the field «\(field)»: \(r.stderr)", sourceLocation: sourceLocation)
            }
            if let value {
                #expect(r.stderr.contains("«\(value)»"), "\(command) names the value «\(value)»: \(r.stderr)", sourceLocation: sourceLocation)
            }
            for m in mentions { #expect(r.stderr.contains(m), "\(command) says «\(m)»: \(r.stderr)", sourceLocation: sourceLocation) }
            #expect(!r.stderr.contains("Fatal error") && r.status < 128, "\(command) crashed: \(r)", sourceLocation: sourceLocation)
            let after = try snapshot()
            #expect(after.dump == before.dump, "\(command) changed the dump", sourceLocation: sourceLocation)
            #expect(after.ops == before.ops, "\(command) changed the op log: \(before.ops) → \(after.ops)", sourceLocation: sourceLocation)
        }

        func add(_ overrides: [String: String]) -> [String] {
            var fields = ["form": "HT02", "content": "ND05", "date": "2026-03-02", "title": "Hội nghị đối thoại"]
            for (k, v) in overrides { fields[k] = v }
            return ["activity", "add"] + fields.sorted { $0.key < $1.key }.flatMap { ["--\($0.key)", $0.value] }
        }
    }

    @Test("Mã hình thức, mã nội dung không có trong Kế hoạch / unknown form and content codes")
    func unknownCodes() throws {
        let f = try Fixture()
        try f.expectRefused(
            f.add(["form": "HT10"]), exit: Self.invalid, field: "form", value: "HT10", mentions: ["Kế hoạch năm 2026", "HT01", "HT09"])
        try f.expectRefused(
            f.add(["content": "ND05,ND12"]), exit: Self.invalid, field: "content", value: "ND12", mentions: ["Kế hoạch năm 2026", "ND01", "ND11"])
        try f.expectRefused(["activity", "edit", f.activity, "--form", "HT99"], exit: Self.invalid, field: "form", value: "HT99")
        try f.expectRefused(["activity", "edit", f.activity, "--content", "ND00"], exit: Self.invalid, field: "content", value: "ND00")
    }

    @Test("Ngày không tồn tại / an impossible date")
    func impossibleDate() throws {
        let f = try Fixture()
        try f.expectRefused(f.add(["date": "2026-02-30"]), exit: Self.invalid, field: "date", value: "2026-02-30")
        try f.expectRefused(["activity", "edit", f.activity, "--date", "2026-02-30"], exit: Self.invalid, field: "date", value: "2026-02-30")
        try f.expectRefused(f.add(["date": "02/03/2026"]), exit: Self.invalid, field: "date", value: "02/03/2026")
    }

    @Test("Số âm, số không phải số / negative and non-numeric counts")
    func negativeCounts() throws {
        let f = try Fixture()
        try f.expectRefused(f.add(["quantity": "-3"]), exit: Self.invalid, field: "quantity", value: "-3", mentions: ["âm"])
        try f.expectRefused(f.add(["participants": "-1"]), exit: Self.invalid, field: "participants", value: "-1")
        try f.expectRefused(["activity", "edit", f.activity, "--quantity", "-3"], exit: Self.invalid, field: "quantity", value: "-3")
        try f.expectRefused(f.add(["quantity": "ba"]), exit: Self.invalid, field: "quantity", value: "ba")
        // Above the bound (a report's totals could otherwise overflow).
        try f.expectRefused(
            f.add(["participants": "9223372036854775807"]), exit: Self.invalid, field: "participants", value: "9223372036854775807",
            mentions: ["một tỷ"])
    }

    @Test("Tiêu đề trống / an empty title")
    func emptyTitle() throws {
        let f = try Fixture()
        try f.expectRefused(f.add(["title": ""]), exit: Self.invalid, field: "title", value: "", mentions: ["trống"])
        try f.expectRefused(f.add(["title": "   "]), exit: Self.invalid, field: "title", value: "   ")
        try f.expectRefused(["activity", "edit", f.activity, "--title", " "], exit: Self.invalid, field: "title", value: " ")
    }

    @Test("Đường dẫn không phải http(s) / a URL that is not http(s)")
    func badURL() throws {
        let f = try Fixture()
        try f.expectRefused(
            f.add(["url": "ftp://bqlkktck.langson.gov.vn/a"]), exit: Self.invalid, field: "url", value: "ftp://bqlkktck.langson.gov.vn/a")
        try f.expectRefused(f.add(["url": "javascript:alert(1)"]), exit: Self.invalid, field: "url", value: "javascript:alert(1)")
        try f.expectRefused(
            ["activity", "edit", f.activity, "--url", "bqlkktck.langson.gov.vn"], exit: Self.invalid, field: "url", value: "bqlkktck.langson.gov.vn")
        // HT06 (a web article) must carry the URL of what was published.
        try f.expectRefused(f.add(["form": "HT06"]), exit: Self.invalid, field: "url", value: nil, mentions: ["HT06"])
    }

    @Test("Mã không tồn tại: sửa, xóa, cập nhật nhiệm vụ / unknown ids")
    func unknownIDs() throws {
        let f = try Fixture()
        let missing = "HD.TTQLCK.aaaa0001.999"
        try f.expectRefused(["activity", "edit", missing, "--title", "Mới"], exit: Self.notFound, field: nil, value: missing)
        try f.expectRefused(["activity", "delete", missing], exit: Self.notFound, field: nil, value: missing)
        try f.expectRefused(["activity", "show", missing], exit: Self.notFound, field: nil, value: missing)
        try f.expectRefused(["task", "update", "NV.TTQLCK.ND99", "--status", "xong"], exit: Self.notFound, field: nil, value: "NV.TTQLCK.ND99")
        try f.expectRefused(["activity", "edit", "abc", "--title", "Mới"], exit: Self.invalid, field: "id", value: "abc")
        try f.expectRefused(["conflicts", "resolve", f.activity, "title", "--value", "X"], exit: Self.notFound, field: nil, value: nil)
        // A deleted activity is gone for edits too.
        try Run.ok(.unitClient, ["activity", "delete", f.activity, "--db", f.db], in: f.dir.url)
        try f.expectRefused(["activity", "edit", f.activity, "--title", "Mới"], exit: Self.notFound, field: nil, value: f.activity)
        try f.expectRefused(["activity", "delete", f.activity], exit: Self.notFound, field: nil, value: f.activity)
    }

    @Test("Trạng thái sai, quyền ghi / a bad status and a write the unit may not make")
    func statusAndAuthority() throws {
        let f = try Fixture()
        try f.expectRefused(["task", "update", "NV.TTQLCK.TN06", "--status", "xong rồi"], exit: Self.invalid, field: "status", value: "xong rồi")
        // TTQLCK may not change the title of its task (the Office does), nor touch the Office's task.
        try f.expectRefused(["task", "update", "NV.TTQLCK.TN06", "--title", "Đổi tên"], exit: Self.forbidden, field: "title", value: nil)
        try f.expectRefused(["task", "update", "NV.VP.TN01", "--status", "xong"], exit: Self.forbidden, field: "status", value: nil)
        try f.expectRefused(
            ["task", "add", "--unit", "TTQLCK", "--item", "ND05", "--title", "Tự giao"], exit: Self.forbidden, field: nil, value: nil)
    }

    @Test("Kỳ báo cáo không tồn tại / a period that does not exist")
    func badPeriod() throws {
        let f = try Fixture()
        for p in ["2026-Q5", "2026-Q0", "2026-H3", "2026-02-30_2026-03-31"] {
            try f.expectRefused(["activity", "list", "--period", p], exit: Self.invalid, field: "period", value: p, mentions: ["2026-Q1"])
        }
    }

    @Test("Tệp thao tác hỏng hoặc không có / a damaged or missing ops file")
    func badOpsFile() throws {
        let f = try Fixture()
        let junk = f.dir.path("junk.json")
        try Data("{\"format\": \"khác\"}".utf8).write(to: URL(fileURLWithPath: junk))
        try f.expectRefused(["ops", "import", junk], exit: Self.corrupt, field: nil, value: nil, mentions: [junk])
        try f.expectRefused(["ops", "import", f.dir.path("none.json")], exit: Self.notFound, field: nil, value: nil, mentions: ["none.json"])
        try f.expectRefused(
            ["ops", "export", "--since", "genesis:x", "--out", f.dir.path("o.json")], exit: Self.invalid, field: "since", value: "genesis:x")
    }

    @Test("Tệp --db không có: lỗi rõ ràng, không tạo tệp / a missing --db file")
    func missingDatabase() throws {
        let dir = try TempDir()
        let db = dir.path("khong-co.sqlite")
        try expectDatabaseRefused([["dump"], ["activity", "list"], ["status"], f(add: [])], db: db, in: dir.url, saying: "init") {
            !FileManager.default.fileExists(atPath: db)
        }
    }

    /// Runs each command on `db`: refused with the database exit code, the message names the file
    /// and says `phrase`, and `unchanged()` still holds afterwards.
    func expectDatabaseRefused(
        _ commands: [[String]], db: String, in dir: URL, saying phrase: String, sourceLocation: SourceLocation = #_sourceLocation,
        unchanged: () throws -> Bool
    ) throws {
        for args in commands {
            let r = try Run.unitClient(args + ["--db", db], in: dir)
            #expect(r.status == Self.database, "\(args): \(r)", sourceLocation: sourceLocation)
            #expect(r.stderr.contains("«\(db)»") && r.stderr.contains(phrase), "\(r.stderr)", sourceLocation: sourceLocation)
            #expect(try unchanged(), "\(args) changed \(db)", sourceLocation: sourceLocation)
        }
    }

    func f(add extra: [String]) -> [String] {
        ["activity", "add", "--form", "HT02", "--content", "ND05", "--date", "2026-03-02", "--title", "Một hoạt động"] + extra
    }

    @Test("Tệp --db không phải SQLite: lỗi rõ ràng, tệp giữ nguyên / a --db file that is not SQLite")
    func notSQLite() throws {
        let dir = try TempDir()
        let db = dir.path("ghi-chu.txt")
        let bytes = Data("Đây là ghi chú, không phải cơ sở dữ liệu.\n".utf8)
        try bytes.write(to: URL(fileURLWithPath: db))
        try expectDatabaseRefused(
            [["dump"], ["activity", "list"], f(add: []), ["init", "--unit", "TTQLCK"]], db: db, in: dir.url, saying: "SQLite"
        ) {
            try Data(contentsOf: URL(fileURLWithPath: db)) == bytes
        }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.url.path).filter { !$0.hasPrefix(".") }
        #expect(leftovers == ["ghi-chu.txt"], "no -wal/-shm left beside the file")
    }

    @Test("Tệp --db rỗng: báo chưa khởi tạo, không biến thành cơ sở dữ liệu / an empty --db file")
    func emptyFile() throws {
        let dir = try TempDir()
        let db = dir.path("rong.sqlite")
        FileManager.default.createFile(atPath: db, contents: Data())
        try expectDatabaseRefused([["dump"], ["activity", "list"], f(add: [])], db: db, in: dir.url, saying: "init") {
            try Data(contentsOf: URL(fileURLWithPath: db)).isEmpty
        }
        // An empty file is still a fine place to create a replica.
        try Fixtures.replica(db, unit: "TTQLCK", in: dir.url)
        try Run.ok(.unitClient, ["dump", "--db", db], in: dir.url)
    }

    @Test("Cơ sở dữ liệu từ phiên bản mới hơn: từ chối, không sửa / a database from a newer schema")
    func newerSchema() throws {
        let f = try Fixture()
        let before = try f.snapshot()
        let known = try sqlite(f.db, "SELECT identifier FROM grdb_migrations ORDER BY identifier")
        // A migration this build does not know, as a newer release would have recorded it.
        try sqlite(f.db, "INSERT INTO grdb_migrations(identifier) VALUES ('v99-tuong-lai')")
        try expectDatabaseRefused(
            [["dump"], ["activity", "list"], ["activity", "edit", f.activity, "--title", "Mới"], ["ops", "import", "x.json"]], db: f.db,
            in: f.dir.url,
            saying: "phiên bản mới hơn"
        ) { try sqlite(f.db, "SELECT identifier FROM grdb_migrations ORDER BY identifier") == known + "v99-tuong-lai\n" }
        // Nothing was migrated: the known migrations and the future one, no more.
        #expect(try sqlite(f.db, "SELECT identifier FROM grdb_migrations ORDER BY identifier") == known + "v99-tuong-lai\n")
        try sqlite(f.db, "DELETE FROM grdb_migrations WHERE identifier = 'v99-tuong-lai'")
        let after = try f.snapshot()
        #expect(after.dump == before.dump)
        #expect(after.ops == before.ops)
    }

    @Test("Cơ sở dữ liệu của bản phát triển cũ: từ chối rõ ràng, không sửa / a database from a pre-release development build")
    func preReleaseSchema() throws {
        let f = try Fixture()
        // The op log as development builds before the dot key made it (migration recorded as done).
        try sqlite(f.db, "DROP TABLE op")
        try sqlite(
            f.db,
            "CREATE TABLE op (origin INTEGER NOT NULL, counter INTEGER NOT NULL, hlc INTEGER NOT NULL, record INTEGER NOT NULL, field INTEGER NOT NULL, value, supersedes BLOB, PRIMARY KEY (origin, counter)) WITHOUT ROWID"
        )
        let schema = try sqlite(f.db, "SELECT coalesce(sql, name) FROM sqlite_schema ORDER BY name")
        try expectDatabaseRefused(
            [["dump"], ["activity", "list"], ["status"]], db: f.db, in: f.dir.url, saying: "bản phát triển trước khi phát hành"
        ) { try sqlite(f.db, "SELECT coalesce(sql, name) FROM sqlite_schema ORDER BY name") == schema }
    }

    @Test("Đơn vị không có trong danh mục khi khởi tạo / an unknown unit at init")
    func unknownUnit() throws {
        let dir = try TempDir()
        let db = dir.path("moi.sqlite")
        let r = try Run.unitClient(["init", "--unit", "XYZ", "--db", db], in: dir.url)
        #expect(r.status == Self.invalid, "\(r)")
        #expect(r.stderr.contains("«unit»") && r.stderr.contains("«XYZ»") && r.stderr.contains("TTQLCK"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: db), "a refused init leaves no database")
        let bad = try Run.unitClient(["init", "--unit", "TTQLCK", "--replica", "AB", "--db", db], in: dir.url)
        #expect(bad.status == Self.invalid && bad.stderr.contains("«replica»") && bad.stderr.contains("«AB»"), "\(bad)")
        #expect(!FileManager.default.fileExists(atPath: db))
    }

    @Test("Khởi tạo lại một bản sao đã có: từ chối, giữ nguyên / init over an existing replica")
    func initTwice() throws {
        let f = try Fixture()
        try f.expectRefused(["init", "--unit", "VP"], exit: Self.conflict, field: nil, value: nil, mentions: [f.db])
    }

    /// Raw SQL on a replica's file, as another program (or a newer release) would write it.
    @discardableResult
    func sqlite(_ db: String, _ sql: String) throws -> String {
        let queue = try DatabaseQueue(path: db)
        defer { try? queue.close() }
        if sql.hasPrefix("SELECT") {
            return try queue.read { db in try String.fetchAll(db, sql: sql) }.map { $0 + "\n" }.joined()
        }
        try queue.write { db in try db.execute(sql: sql) }
        return ""
    }
}

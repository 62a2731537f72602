import Foundation
import Testing

/// The exit-code rule of both executables (CommandSupport's `CommandFailure`), through the built
/// programs: a bad value on a well-formed command line is invalid input, exit 2 with a Vietnamese
/// message naming the field and the value, in every command that takes that kind of value; a
/// command line ArgumentParser cannot read is a bad command line, exit 64.
@Suite("Dòng lệnh: một mã thoát cho mỗi loại lỗi / the command line: one exit code per kind of error")
struct CommandLineTests {
    /// A unit replica with one activity and an initialised hub, in a folder removed at the end.
    final class Setup {
        let dir: TempDir
        let unitDB: String
        let hubDB: String
        let activity: String

        init() throws {
            dir = try TempDir()
            unitDB = dir.path("ttqlck.sqlite")
            hubDB = dir.path("hub.sqlite")
            #expect(try CLI.unit(["init", "--unit", "TTQLCK", "--replica", "aaaa0001", "--db", unitDB]).status == 0)
            let add = try CLI.unit([
                "activity", "add", "--db", unitDB, "--form", "HT02", "--content", "ND05", "--date", "2026-03-02", "--title", "Đối thoại",
            ])
            #expect(add.status == 0, "\(add.stderr)")
            activity = add.lastLine
            #expect(try CLI.hub(["init", "--db", hubDB]).status == 0)
        }

        func unit(_ args: [String]) throws -> CLI.Result { try CLI.unit(args + ["--db", unitDB]) }
        func hub(_ args: [String]) throws -> CLI.Result { try CLI.hub(args + ["--db", hubDB]) }
        /// A hub database that does not exist: a command that wrongly got past its options stops at once.
        func noHub(_ args: [String]) throws -> CLI.Result { try CLI.hub(args + ["--db", dir.path("none.sqlite")]) }
    }

    /// Invalid input: exit 2, `Lỗi: …` naming each of `names` (field and value), no usage text.
    func expectInvalid(_ r: CLI.Result, _ command: String, naming names: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(r.status == 2, "\(command): exit \(r.status) \(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stderr.hasPrefix("Lỗi: "), "\(command): \(r.stderr)", sourceLocation: sourceLocation)
        for n in names { #expect(r.stderr.contains(n), "\(command) names \(n): \(r.stderr)", sourceLocation: sourceLocation) }
        #expect(!r.stderr.contains("Usage:") && !r.stderr.contains("Error:"), "\(command): \(r.stderr)", sourceLocation: sourceLocation)
    }

    @Test("--format sai: mã thoát 2 / an unknown report format")
    func badFormat() throws {
        let s = try Setup()
        let out = s.dir.path("x.docx")
        for f in ["pdf", ""] {
            let r = try s.hub(["report", "--period", "2026-Q1", "--format", f, "--out", out])
            expectInvalid(r, "hub report --format \(f)", naming: ["«format»", "«\(f)»", "docx, md, csv"])
        }
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test("--status sai: mã thoát 2 / an unknown task status")
    func badStatus() throws {
        let s = try Setup()
        for v in ["xong rồi", "done"] {
            let r = try s.unit(["task", "update", "NV.TTQLCK.TN06", "--status", v])
            expectInvalid(r, "task update --status \(v)", naming: ["«status»", "«\(v)»", "hoàn thành"])
        }
    }

    @Test("--period sai: mã thoát 2 ở mọi lệnh / a bad period in every command that takes one")
    func badPeriod() throws {
        let s = try Setup()
        let commands: [(String, (String) throws -> CLI.Result)] = [
            ("activity list", { try s.unit(["activity", "list", "--period", $0]) }),
            ("report draft", { try s.unit(["report", "draft", "--period", $0]) }),
            ("report show", { try s.unit(["report", "show", "--period", $0]) }),
            ("report submit", { try s.unit(["report", "submit", "--period", $0]) }),
            ("hub report", { try s.hub(["report", "--period", $0, "--out", s.dir.path("x.md"), "--format", "md"]) }),
        ]
        for (name, run) in commands {
            for p in ["2026-Q5", "Q1-2026"] {
                expectInvalid(try run(p), "\(name) --period \(p)", naming: ["«period»", "«\(p)»", "2026-Q1"])
            }
        }
        // A unit's own report has no ad-hoc window; the hub's report does.
        let window = "2026-03-01_2026-03-31"
        expectInvalid(try s.unit(["report", "draft", "--period", window]), "report draft --period \(window)", naming: ["«period»", "«\(window)»"])
    }

    @Test("Số đếm sai: mã thoát 2 ở mọi lệnh / a bad count in every command that takes one")
    func badCounts() throws {
        let s = try Setup()
        let add = ["activity", "add", "--form", "HT02", "--content", "ND05", "--date", "2026-03-02", "--title", "Hội nghị"]
        let cases: [([String], [String], (([String]) throws -> CLI.Result))] = [
            (add + ["--quantity", "-3"], ["«quantity»", "«-3»", "âm"], s.unit),
            (add + ["--participants", "ba"], ["«participants»", "«ba»"], s.unit),
            (["activity", "edit", s.activity, "--quantity", "mười"], ["«quantity»", "«mười»"], s.unit),
            (["report", "draft", "--period", "2026-Q1", "--tthc-total", "-3"], ["«tthc_total»", "«-3»", "âm"], s.unit),
            (["report", "draft", "--period", "2026-Q1", "--dossiers-online", "ba"], ["«dossiers_online»", "«ba»"], s.unit),
            (["sync", "--page-size", "abc"], ["«page_size»", "«abc»"], s.unit),
            (["sync", "--page-size", "0"], ["--page-size", "«0»"], s.unit),
            (["sync", "--attempts", "0"], ["--attempts", "«0»"], s.unit),
            (["sync", "--timeout", "lâu"], ["«timeout»", "«lâu»"], s.unit),
            (["nightly", "--keep", "bảy"], ["«keep»", "«bảy»"], s.noHub),
            (["nightly", "--keep", "0"], ["--keep", "«0»"], s.noHub),
            (["serve", "--port", "cổng"], ["«port»", "«cổng»"], s.noHub),
            (["serve", "--port", "70000"], ["--port", "«70000»"], s.noHub),
        ]
        let before = try s.unit(["dump"]).stdout
        for (args, names, run) in cases {
            expectInvalid(try run(args), args.joined(separator: " "), naming: names)
        }
        #expect(try s.unit(["dump"]).stdout == before, "a refused count changes nothing")
    }

    @Test("Thiếu giá trị mà lệnh đòi: mã thoát 2 / a value the command's own rule requires")
    func commandRuleMissing() throws {
        let s = try Setup()
        let r = try s.hub(["report", "--out", s.dir.path("x.md")])
        expectInvalid(r, "hub report without --period", naming: ["Thiếu «--period»"])
        let db = s.dir.path("moi.sqlite")
        expectInvalid(try CLI.unit(["init", "--db", db]), "init without --unit", naming: ["--enrolment", "--unit"])
        #expect(!FileManager.default.fileExists(atPath: db))
    }

    @Test("Dòng lệnh sai (tùy chọn, lệnh không có; thiếu tùy chọn bắt buộc): mã thoát 64 / a bad command line")
    func badCommandLine() throws {
        let s = try Setup()
        let results: [(String, CLI.Result)] = [
            ("unit-client activity list --khong-co", try s.unit(["activity", "list", "--khong-co"])),
            ("unit-client report draft --period 2026-Q1 --nope 1", try s.unit(["report", "draft", "--period", "2026-Q1", "--nope", "1"])),
            ("unit-client khong-co", try CLI.unit(["khong-co"])),
            ("unit-client report draft (no --period)", try s.unit(["report", "draft"])),
            ("unit-client activity list --period (no value)", try CLI.unit(["activity", "list", "--db", s.unitDB, "--period"])),
            ("hub report --khong-co", try s.hub(["report", "--period", "2026-Q1", "--out", s.dir.path("x.md"), "--khong-co"])),
            ("hub khong-co", try CLI.hub(["khong-co"])),
            ("hub bundle export (no --replica)", try s.hub(["bundle", "export", "--out", s.dir.path("x.bundle")])),
        ]
        for (command, r) in results {
            #expect(r.status == 64, "\(command): exit \(r.status) \(r.stderr)")
            #expect(!r.stderr.hasPrefix("Lỗi: "), "\(command): \(r.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: s.dir.path("x.md")))
    }

    @Test("Giá trị đúng vẫn chạy / good values still run")
    func goodValues() throws {
        let s = try Setup()
        #expect(try s.unit(["task", "update", "NV.TTQLCK.TN06", "--status", "dang"]).status == 0)
        #expect(try s.unit(["activity", "edit", s.activity, "--quantity", "3", "--participants", ""]).status == 0)
        #expect(try s.unit(["activity", "list", "--period", "2026-q1"]).out.contains("Đối thoại"))
        #expect(try s.unit(["report", "draft", "--period", "2026-Q1", "--tthc-total", "40", "--tthc-online", "36"]).status == 0)
        let out = s.dir.path("q1.md")
        let r = try s.hub(["report", "--period", "2026-Q1", "--format", "markdown", "--out", out])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(FileManager.default.fileExists(atPath: out))
    }
}

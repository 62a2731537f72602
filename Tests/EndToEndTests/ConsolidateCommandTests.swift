import Foundation
import SyncCore
import TestSupport
import Testing

/// The Office's quarterly routine with the real programs: activities with their duties, a
/// direction document, `report consolidate` (options and `--edit`), the hub's report from the
/// draft, external and internal versions, the section to paste.
@Suite("Văn phòng lập dự thảo tổng hợp / the Office's consolidated draft, end to end", .serialized)
struct ConsolidateCommandTests {
    @Test("directive, activity --duty, report consolidate (--edit too) and hub report --audience/--part; other units refused, nothing changed")
    func officeRoutine() throws {
        let temp = try TempDir("consolidate")
        let dir = temp.url
        let vp = temp.path("vp.sqlite")
        let tt = temp.path("tt.sqlite")
        try Fixtures.replica(vp, unit: "VP", in: dir)
        try Fixtures.replica(tt, unit: "TTQLCK", in: dir)
        // The suggestion names the duty; an explicit --duty wins; a duty of another unit is refused.
        let bulletin = try Run.ok(
            .unitClient,
            [
                "activity", "add", "--db", vp, "--form", "HT08", "--content", "ND05", "--date", "2026-01-12", "--title", "Bản tin CCHC số 1",
                "--quantity", "1",
            ],
            in: dir)
        #expect(bulletin.out.contains("Nhiệm vụ phục vụ: TN02"), "\(bulletin.out)")
        try Run.ok(
            .unitClient,
            [
                "activity", "add", "--db", vp, "--form", "HT01", "--content", "ND03", "--date", "2026-03-10", "--title", "Kiểm tra CCHC tại TTQLCK",
                "--duty", "tn03", "--quantity", "1", "--participants", "12",
            ], in: dir)
        let before = try Run.ok(.unitClient, ["dump", "--db", vp], in: dir).stdout
        let wrong = try Run.unitClient(
            ["activity", "add", "--db", vp, "--form", "HT01", "--content", "ND03", "--date", "2026-03-11", "--title", "x", "--duty", "TN06"], in: dir)
        #expect(wrong.status == 2 && wrong.stderr.contains("duty") && wrong.stderr.contains("TN06"), "\(wrong.stderr)")
        try Run.ok(
            .unitClient,
            ["directive", "add", "--db", vp, "--symbol", "15/BQLKKTCK-VP", "--issued", "2026-01-06", "--summary", "về việc triển khai Kế hoạch"],
            in: dir)
        #expect(try Run.ok(.unitClient, ["dump", "--db", vp], in: dir).stdout != before)
        // Another unit may not write the Office's records: exit 4, its replica unchanged.
        let ttBefore = try Run.ok(.unitClient, ["dump", "--db", tt], in: dir).stdout
        for args in [
            ["report", "consolidate", "--db", tt, "--period", "2026-Q1"],
            ["directive", "add", "--db", tt, "--symbol", "1/X", "--issued", "2026-01-06", "--summary", "x"],
        ] {
            let r = try Run.unitClient(args, in: dir)
            #expect(r.status == 4 && r.stderr.contains("Văn phòng"), "\(args): \(r.stderr)")
        }
        #expect(try Run.ok(.unitClient, ["dump", "--db", tt], in: dir).stdout == ttBefore)

        // First run: the suggestion, with the causes given.
        let first = try Run.ok(
            .unitClient, ["report", "consolidate", "--db", vp, "--period", "2026-Q1", "--causes", "Chưa bố trí công chức phụ trách."], in: dir)
        #expect(first.out.contains("TH.VP.2026-Q1") && first.out.contains("Nguyên nhân: 1 ý"), "\(first.out)")
        // --edit through an editor that rewrites the proposals part.
        let editor = temp.path("editor.sh")
        try Data(
            """
            #!/bin/sh
            python3 - "$1" <<'PY'
            import sys
            p = sys.argv[1]
            s = open(p, encoding='utf-8').read()
            head, sep, rest = s.partition('## Đề xuất, kiến nghị')
            open(p, 'w', encoding='utf-8').write(head + sep + '\\n- Đề nghị Sở Nội vụ tập huấn kỹ năng truyền thông số.\\n')
            PY

            """.utf8
        ).write(to: URL(fileURLWithPath: editor))
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: editor)
        let edited = try Run.unitClient(
            ["report", "consolidate", "--db", vp, "--period", "2026-Q1", "--edit"], in: dir, environment: ["EDITOR": editor])
        #expect(edited.status == 0, "\(edited.stderr)")
        // An editor that saves a heading that is not a part: refused, the draft unchanged.
        let bad = temp.path("bad.sh")
        try Data("#!/bin/sh\necho '## Linh tinh' >> \"$1\"\n".utf8).write(to: URL(fileURLWithPath: bad))
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: bad)
        let draftBefore = try Run.ok(.unitClient, ["dump", "--db", vp], in: dir).stdout
        let refused = try Run.unitClient(
            ["report", "consolidate", "--db", vp, "--period", "2026-Q1", "--edit"], in: dir, environment: ["EDITOR": bad])
        #expect(refused.status == 2 && refused.stderr.contains("Linh tinh"), "\(refused.stderr)")
        #expect(try Run.ok(.unitClient, ["dump", "--db", vp], in: dir).stdout == draftBefore)
        let json = try Run.ok(.unitClient, ["report", "consolidate", "--db", vp, "--period", "2026-Q1", "--json"], in: dir)
        let view = try #require(try JSONSerialization.jsonObject(with: json.stdout) as? [String: Any])
        let draft = try #require(view["draft"] as? [String: Any])
        #expect(draft["proposals"] as? String == "- Đề nghị Sở Nội vụ tập huấn kỹ năng truyền thông số.")
        #expect(draft["causes"] as? String == "Chưa bố trí công chức phụ trách.")
        #expect(view["ops_written"] as? Int == 0)

        // The hub's report from the Office's ops file: the draft's text, both versions.
        let hub = temp.path("hub.sqlite")
        try Run.ok(.hub, ["init", "--db", hub], in: dir)
        let ops = temp.path("vp.ops")
        try Run.ok(.unitClient, ["ops", "export", "--db", vp, "--out", ops], in: dir)
        let store = try ReplicaStore.open(path: hub)
        try store.apply(try OpsFile.read(path: ops).batch, source: .peer(authenticated: nil, unit: nil))
        try store.close()
        let external = temp.path("q1.md")
        let internalFile = temp.path("q1-internal.md")
        let section = temp.path("q1-section.md")
        try Run.ok(.hub, ["report", "--db", hub, "--period", "2026-Q1", "--format", "md", "--out", external], in: dir)
        try Run.ok(.hub, ["report", "--db", hub, "--period", "2026-Q1", "--format", "md", "--audience", "internal", "--out", internalFile], in: dir)
        try Run.ok(.hub, ["report", "--db", hub, "--period", "2026-Q1", "--format", "md", "--part", "section", "--out", section], in: dir)
        let ext = try String(contentsOfFile: external, encoding: .utf8)
        let inside = try String(contentsOfFile: internalFile, encoding: .utf8)
        let part = try String(contentsOfFile: section, encoding: .utf8)
        #expect(ext.contains("- Văn bản số 15/BQLKKTCK-VP ngày 06/01/2026 về việc triển khai Kế hoạch."))
        #expect(ext.contains("- Đề nghị Sở Nội vụ tập huấn kỹ năng truyền thông số.") && ext.contains("Chưa bố trí công chức phụ trách."))
        #expect(ext.contains("Số:       /BC-BQLKKTCK"), "the number is blank by default")
        #expect(!ext.contains("TN03") && inside.contains("TN03"))
        #expect(!ext.contains("Tình hình gửi báo cáo") && inside.contains("Tình hình gửi báo cáo"))
        let tn03 = try #require(Catalog.standard.duty("TN03"))
        #expect(ext.contains("- \(tn03.title): đã thực hiện 01 hoạt động (01 lớp/buổi, 12 lượt người tham dự)."))
        #expect(part.hasPrefix("# CÔNG TÁC THÔNG TIN, TUYÊN TRUYỀN CẢI CÁCH HÀNH CHÍNH") && !part.contains("Nơi nhận"))
        // Bad values are named.
        for (args, field, value) in [(["--audience", "tinh"], "audience", "tinh"), (["--part", "half"], "part", "half")] {
            let r = try Run.hub(["report", "--db", hub, "--period", "2026-Q1", "--out", temp.path("x.md")] + args, in: dir)
            #expect(r.status == 2 && r.stderr.contains(field) && r.stderr.contains(value), "\(r.stderr)")
        }
    }
}

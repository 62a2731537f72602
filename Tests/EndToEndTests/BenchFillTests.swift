import Foundation
import SyncCore
import Testing

/// `cchc-bench fill` writes through the ordinary local write path: what it wrote is what
/// `unit-client` then reads, lists and dumps; and the benchmarks still run.
@Suite struct BenchFillTests {
    /// Exit code for invalid input (README, "Exit codes").
    static let invalid: Int32 = 2

    struct Summary: Decodable {
        var replica: String
        var unit: String
        var created: Bool
        var activities: Int
        var edits: Int
        var deletes: Int
        var remaining: Int
        var ops: Int
        var bytes: Int
    }

    func fill(_ db: String, activities: Int, seed: Int, in dir: TempDir) throws -> Summary {
        let r = try Run.ok(.cchcBench, ["fill", "--db", db, "--activities", "\(activities)", "--seed", "\(seed)", "--json"], in: dir.url)
        return try JSONDecoder().decode(Summary.self, from: r.stdout)
    }

    /// The dump's activity records: id → the winner of `deleted` (0 or 1).
    func activityRecords(_ dump: Data) throws -> [String: Int] {
        let object = try JSONSerialization.jsonObject(with: dump) as? [String: Any]
        let records = object?["records"] as? [String: [String: Any]] ?? [:]
        var out: [String: Int] = [:]
        for (id, fields) in records where id.hasPrefix("HD.") {
            out[id] = ((fields["deleted"] as? [String: Any])?["value"] as? NSNumber)?.intValue ?? -1
        }
        return out
    }

    @Test func fillWritesRealActivitiesThatUnitClientReads() throws {
        let dir = try TempDir("bench")
        let db = dir.path("fill.sqlite")
        let n = 300
        let s = try fill(db, activities: n, seed: 42, in: dir)
        #expect(s.created && s.unit == "TTQLCK" && s.activities == n)
        #expect(s.edits > 0 && s.deletes > 0, "about 10% edited and 3% deleted: \(s.edits) edits, \(s.deletes) deletes")
        #expect(s.remaining == n - s.deletes)
        #expect(s.ops >= n * 7 && s.bytes > 0)

        let list = try Run.ok(.unitClient, ["activity", "list", "--json", "--db", db], in: dir.url).stdout
        let rows = try JSONDecoder().decode([ActivityRow].self, from: list)
        #expect(rows.count == n - s.deletes)
        let listed = Set(rows.map(\.id))
        #expect(listed.count == rows.count)
        let catalog = Catalog.standard
        for a in rows {
            #expect(a.unit == "TTQLCK" && (a.date >= "2025-12-15" && a.date <= "2026-12-14"), "\(a)")
            #expect(catalog.form(a.form) != nil, "\(a.form)")
            #expect((1...3).contains(a.content.count) && a.content.allSatisfy { $0.hasPrefix("ND") }, "\(a.content)")
            #expect(a.title == a.title.precomposedStringWithCanonicalMapping && !a.title.isEmpty)
            #expect(a.quantity != nil)
        }
        #expect(rows.contains { $0.title.contains("ư") || $0.title.contains("ộ") || $0.title.contains("ế") }, "Vietnamese titles")

        let status = try Run.ok(.unitClient, ["status", "--json", "--db", db], in: dir.url).stdout
        let st = try JSONSerialization.jsonObject(with: status) as? [String: Any]
        #expect(st?["replica_id"] as? String == s.replica)
        #expect(st?["unit"] as? String == "TTQLCK")
        #expect((st?["conflicts"] as? NSNumber)?.intValue == 0)
        #expect(((st?["ops"] as? NSNumber)?.intValue ?? 0) >= s.ops)

        let dump = try Run.ok(.unitClient, ["dump", "--db", db], in: dir.url).stdout
        let records = try activityRecords(dump)
        #expect(records.count == n)
        let deleted = Set(records.filter { $0.value == 1 }.map(\.key))
        #expect(deleted.count == s.deletes)
        #expect(deleted.isDisjoint(with: listed), "deleted activities are not listed")
        #expect(Set(records.filter { $0.value == 0 }.map(\.key)) == listed)

        // The same seed gives the same replica, byte for byte; another seed another one.
        let again = dir.path("again.sqlite")
        let s2 = try fill(again, activities: n, seed: 42, in: dir)
        #expect(s2.replica == s.replica && s2.edits == s.edits && s2.deletes == s.deletes && s2.ops == s.ops)
        let dump2 = try Run.ok(.unitClient, ["dump", "--db", again], in: dir.url).stdout
        #expect(dump2 == dump, "same seed, same dump")
        let other = dir.path("other.sqlite")
        _ = try fill(other, activities: n, seed: 43, in: dir)
        #expect(try Run.ok(.unitClient, ["dump", "--db", other], in: dir.url).stdout != dump)

        // Filling an existing replica adds to it.
        let more = try fill(db, activities: 50, seed: 7, in: dir)
        #expect(!more.created && more.replica == s.replica)
        let after = try JSONDecoder().decode(
            [ActivityRow].self, from: try Run.ok(.unitClient, ["activity", "list", "--json", "--db", db], in: dir.url).stdout)
        #expect(after.count == n - s.deletes + 50 - more.deletes)
    }

    @Test func fillRefusesBadOptions() throws {
        let dir = try TempDir("bench")
        let db = dir.path("bad.sqlite")
        for (args, field, value) in [
            (["--activities", "-1"], "activities", "-1"), (["--activities", "0"], "activities", "0"),
            (["--activities", "10000001"], "activities", "10000001"), (["--activities", "nhiều"], "activities", "nhiều"),
            (["--activities", "5", "--unit", "XYZ"], "unit", "XYZ"), (["--activities", "5", "--seed", "-3"], "seed", "-3"),
        ] {
            let r = try Run.tool(.cchcBench, ["fill", "--db", db] + args, in: dir.url)
            #expect(r.status == Self.invalid, "\(args): \(r)")
            #expect(r.stderr.hasPrefix("Lỗi: ") && r.stderr.contains("«\(field)»") && r.stderr.contains("«\(value)»"), "\(args): \(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: db), "\(args) created no replica")
        }
        // A replica of another unit is not filled as if it were TTQLCK's.
        try Run.ok(.unitClient, ["init", "--unit", "VP", "--replica", "aaaa0002", "--db", db], in: dir.url)
        let r = try Run.tool(.cchcBench, ["fill", "--db", db, "--activities", "5", "--unit", "TTQLCK"], in: dir.url)
        #expect(r.status == Self.invalid && r.stderr.contains("«unit»") && r.stderr.contains("VP"), "\(r)")
    }

    @Test func benchmarksRunWithSmallParameters() throws {
        let dir = try TempDir("bench")
        let merge = try Run.ok(.cchcBench, ["merge", "--changes", "60", "--records", "40", "--repeat", "1", "--dir", dir.path("merge")], in: dir.url)
        #expect(merge.out.contains("tỉ lệ so với trần:"), "\(merge)")
        #expect(merge.out.contains("hợp nhất (merge):"), "\(merge)")

        let report = try Run.ok(.cchcBench, ["report", "--units", "3", "--activities-per-unit", "40", "--runs", "1"], in: dir.url)
        #expect(report.out.contains("Chuẩn bị: 3 đơn vị × 40 hoạt động"), "\(report)")
        #expect(report.out.contains("(120 hoạt động,"), "every activity reached the report through the op log: \(report)")
        #expect(report.out.contains("docx:"), "\(report)")

        // The initial sync runs `hub serve` of the same build over the client's HTTP transport.
        let sync = try Run.ok(.cchcBench, ["sync", "--ops", "3000", "--small-ops", "300", "--dir", dir.path("sync")], in: dir.url)
        #expect(sync.out.contains("đường truyền (wire):"), "\(sync)")
        #expect(sync.out.contains("đồng bộ 10 thao tác (sync 10 ops):"), "\(sync)")
        #expect(sync.out.contains("đồng bộ lần đầu (initial sync):"), "\(sync)")
    }
}

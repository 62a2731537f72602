import Foundation
import SyncCore
import Testing

/// Ops files read, verified and applied page by page (issue 10): the real `unit-client` imports a
/// 200,000-op file in bounded memory (its peak RSS measured, against the previous release's
/// whole-file form of the same ops, which a non-streaming import reads at once), and a file cut,
/// flipped, spliced or forged anywhere — also after pages that verify — changes nothing. Bundles
/// the same, both ways through `hub bundle import|export` and `unit-client bundle import`.
@Suite struct StreamingFileTests {
    /// A child's exit status and peak resident memory: its `VmHWM` (/proc/PID/status), read every
    /// 2 ms until it exits. Not `ru_maxrss`: Linux carries the spawning process's high-water mark
    /// across `exec`, so a child of this (large) test process would report the test's own size.
    struct Measured {
        var status: Int32
        var maxRSSMB: Double
        var stdout: String
        var stderr: String
    }

    static func measured(_ args: [String], in dir: TempDir, tool: Run.Tool = .unitClient) throws -> Measured {
        let exe = try tool.executable().path
        let out = dir.path("measured-\(UUID().uuidString.prefix(6)).out")
        let err = out + ".err"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, err, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let argv: [UnsafeMutablePointer<CChar>?] = ([exe] + args).map { strdup($0) } + [nil]
        let env: [UnsafeMutablePointer<CChar>?] = Run.environment(adding: [:]).map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for p in argv + env { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, exe, &actions, nil, argv, env)
        guard rc == 0 else { throw SyncError(.internal, "posix_spawn \(rc)") }
        var status: Int32 = 0
        var peakKB = 0
        while true {
            if let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
                let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
                let kb = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
            {
                peakKB = max(peakKB, kb)
            }
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { break }
            if r < 0 && errno != EINTR { throw SyncError(.internal, "waitpid \(errno)") }
            usleep(2_000)
        }
        let exit = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        return Measured(
            status: exit, maxRSSMB: Double(peakKB) / 1024, stdout: (try? String(contentsOfFile: out, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOfFile: err, encoding: .utf8)) ?? "")
    }

    /// `n` activities written by `cchc-bench fill` into a new replica of `unit`.
    static func filled(_ db: String, activities n: Int, seed: Int, unit: String = "TTQLCK", in dir: TempDir) throws {
        try Run.ok(.cchcBench, ["fill", "--db", db, "--activities", "\(n)", "--seed", "\(seed)", "--unit", unit], in: dir.url)
    }

    static func vector(_ db: String) throws -> VersionVector { try ReplicaStore.open(path: db).versionVector() }

    /// Whether `db` holds every op `vv` counts.
    static func holds(_ db: String, _ vv: VersionVector) throws -> Bool {
        let have = try vector(db)
        return vv.sorted.allSatisfy { have[$0.0] == $0.1 }
    }

    @Test(
        "A 200,000-op compact file is imported page by page: every op applied, peak RSS bounded; the whole-file form of the same ops exceeds the bound"
    )
    func largeImportInBoundedMemory() throws {
        let dir = try TempDir("stream")
        let source = dir.path("source.sqlite")
        try Self.filled(source, activities: 25_000, seed: 11, in: dir)
        let file = dir.path("all.ops")
        let export = try Run.ok(.unitClient, ["ops", "export", "--db", source, "--out", file], in: dir.url)
        #expect(try Data(contentsOf: URL(fileURLWithPath: file)).starts(with: Data("CCHC-OPS/3\n".utf8)))
        let sourceVector = try Self.vector(source)
        // Ops of the plan's seed are never carried; everything else is.
        let carried = Int(sourceVector.sorted.filter { $0.0 != .genesis }.reduce(UInt64(0)) { $0 + $1.1 })
        #expect(carried >= 200_000, "\(carried) ops")
        #expect(export.out.contains("Đã xuất \(carried) thao tác"), "\(export)")

        try Fixtures.replica(dir.path("target.sqlite"), unit: "VP", in: dir.url)
        let opsBefore = try ReplicaStore.open(path: dir.path("target.sqlite")).opCount()
        let r = try Self.measured(["ops", "import", "--db", dir.path("target.sqlite"), file], in: dir)
        #expect(r.status == 0, "\(r)")
        #expect(r.stdout.contains("Đã nhập: \(carried) mới, 0 đã có, 0 chờ"), "\(r.stdout) \(r.stderr)")
        #expect(try Self.holds(dir.path("target.sqlite"), sourceVector))
        #expect(try ReplicaStore.open(path: dir.path("target.sqlite")).opCount() == opsBefore + carried)

        // The same ops in the previous release's compact form are decoded whole before applying.
        let whole = dir.path("whole.ops")
        try OpsFile.read(path: file).encodedCompactV2().write(to: URL(fileURLWithPath: whole))
        try Fixtures.replica(dir.path("whole.sqlite"), unit: "VP", in: dir.url)
        let w = try Self.measured(["ops", "import", "--db", dir.path("whole.sqlite"), whole], in: dir)
        #expect(w.status == 0, "\(w)")
        #expect(try Self.holds(dir.path("whole.sqlite"), sourceVector))
        print("StreamingFileTests: \(carried) ops; peak RSS streaming \(r.maxRSSMB) MB, whole file \(w.maxRSSMB) MB")
        // Streaming holds one page (about 4,096 ops); the whole file about 0.65 KB per op.
        let bound = 80.0
        #expect(r.maxRSSMB < bound, "streaming import peak RSS \(r.maxRSSMB) MB")
        #expect(w.maxRSSMB > bound, "the bound must be one a whole-file import exceeds: \(w.maxRSSMB) MB")
    }

    /// A replica's dump and op count, to show a refused import changed nothing.
    static func state(_ db: String, in dir: TempDir) throws -> (Data, Int) {
        (try Run.ok(.unitClient, ["dump", "--db", db], in: dir.url).stdout, try ReplicaStore.open(path: db).opCount())
    }

    @Test("A file cut, flipped or spliced anywhere, or forged in a late page, is refused whole: exit 7 or 4, the replica unchanged")
    func damagedFilesChangeNothing() throws {
        let dir = try TempDir("stream-bad")
        try Self.filled(dir.path("a.sqlite"), activities: 3_000, seed: 21, in: dir)
        try Self.filled(dir.path("b.sqlite"), activities: 3_000, seed: 22, unit: "CPCM-QLDTDN", in: dir)
        try Run.ok(.unitClient, ["ops", "export", "--db", dir.path("a.sqlite"), "--out", dir.path("a.ops")], in: dir.url)
        try Run.ok(.unitClient, ["ops", "export", "--db", dir.path("b.sqlite"), "--out", dir.path("b.ops")], in: dir.url)
        let a = [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir.path("a.ops"))))
        let b = [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir.path("b.ops"))))
        let reader = try OpsFileReader(path: dir.path("a.ops"))
        var pages: [OpBatch] = []
        while let p = try reader.next() { pages.append(p) }
        #expect(pages.count >= 4, "several pages: \(pages.count)")

        let target = dir.path("target.sqlite")
        try Fixtures.replica(target, unit: "VP", in: dir.url)
        let before = try Self.state(target, in: dir)

        func refused(_ bytes: [UInt8], _ what: String) throws {
            let path = dir.path("bad.ops")
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let r = try Run.unitClient(["ops", "import", "--db", target, path], in: dir.url)
            #expect(r.status == 7, "\(what): \(r)")
            #expect(r.stderr.contains("bad.ops") && r.stderr.contains("không thay đổi"), "\(what): \(r)")
            let after = try Self.state(target, in: dir)
            #expect(after.0 == before.0 && after.1 == before.1, "\(what): the replica changed")
        }
        // Cut: at the magic line, in the first page, in the middle, near the end, the trailer.
        for cut in [5, 40, a.count / 3, a.count / 2, a.count * 9 / 10, a.count - 5, a.count - 1] {
            try refused(Array(a[..<cut]), "cut at \(cut) of \(a.count)")
        }
        // Flipped bytes in late pages too (after pages that would verify).
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<12 {
            var bad = a
            let at = Int.random(in: 12..<a.count, using: &rng)
            bad[at] ^= UInt8.random(in: 1...255, using: &rng)
            try refused(bad, "byte \(at) flipped")
        }
        // Spliced: the start of one file and the end of another; garbage appended.
        try refused(Array(a[..<(a.count / 2)]) + Array(b[(b.count / 2)...]), "A's first half, B's second half")
        try refused(a + [0, 1, 2, 3], "4 bytes appended")
        try refused(a + b, "B appended to A")

        // Forged: re-encoded with every page intact but one value changed in the last page.
        var forged = pages
        let last = forged.count - 1
        let i = forged[last].ops.firstIndex { $0.value.text != nil }!
        forged[last].ops[i].value = .text("Giá trị bị sửa")
        let writer = try OpsFileWriter(path: dir.path("forged.ops"), replica: reader.replica, unit: reader.unit, versionVector: reader.versionVector)
        for p in forged { try writer.write(p) }
        try writer.finish()
        let f = try Run.unitClient(["ops", "import", "--db", target, dir.path("forged.ops")], in: dir.url)
        #expect(f.status == 4, "\(f)")
        #expect(f.stderr.contains("không khớp chữ ký") && f.stderr.contains("không thay đổi gì"), "\(f)")
        let after = try Self.state(target, in: dir)
        #expect(after.0 == before.0 && after.1 == before.1, "forged last page: the pages before it were not kept")

        // A well-formed file withholding a middle page (what any relay may do): only the verified
        // ops before the gap are applied; what follows waits, is never applied unverified.
        let withheld = try OpsFileWriter(path: dir.path("gap.ops"), replica: reader.replica, unit: reader.unit, versionVector: reader.versionVector)
        let gap = pages.count / 2
        for (k, p) in pages.enumerated() where k != gap { try withheld.write(p) }
        try withheld.finish()
        let g = try Run.ok(.unitClient, ["ops", "import", "--db", target, dir.path("gap.ops")], in: dir.url)
        let beforeGap = pages[..<gap].reduce(0) { $0 + $1.ops.count }
        let afterGap = pages[(gap + 1)...].reduce(0) { $0 + $1.ops.count }
        #expect(g.out.contains("Đã nhập: \(beforeGap) mới, 0 đã có, \(afterGap) chờ"), "\(g)")
        let origin = pages[0].ops[0].dot.origin
        #expect(try Self.vector(target)[origin] == pages[gap - 1].ops.last!.dot.counter)
        // The full file then completes it: the held ops join, everything verifies.
        try Run.ok(.unitClient, ["ops", "import", "--db", target, dir.path("a.ops")], in: dir.url)
        #expect(try Self.vector(target)[origin] == Self.vector(dir.path("a.sqlite"))[origin])
        #expect(try ReplicaStore.open(path: target).pendingCount() == 0)
    }

    @Test("Bundles of 200,000 ops go unit → hub → unit page by page in bounded memory; cut, flipped or spliced ones change nothing")
    func largeBundlesInBoundedMemory() throws {
        let h = try HubHarness("stream-bundle")
        try h.replica("a", unit: "TTQLCK")
        try h.replica("b", unit: "VP")
        try Run.ok(.cchcBench, ["fill", "--db", h.db("a"), "--activities", "22000", "--seed", "5"], in: h.dir)
        let vectorA = try Self.vector(h.db("a"))
        let own = Int(vectorA[try h.enrolment("a").replicaID])
        #expect(own >= 200_000, "\(own) ops")
        let bound = 80.0

        let up = h.path("a.bundle")
        #expect(try h.clientOK("a", "bundle", "export", "--out", up).contains("\(own) thao tác"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: up)).starts(with: Data("CCHC-BUNDLE/2\n".utf8)))
        let imported = try Self.measured(["bundle", "import", "--db", h.hubDB, up], in: h.folder, tool: .hub)
        #expect(imported.status == 0 && imported.stdout.contains("\(own) thao tác mới"), "\(imported)")
        #expect(try Self.holds(h.hubDB, vectorA))

        let down = h.path("b.bundle")
        let exported = try Self.measured(
            ["bundle", "export", "--db", h.hubDB, "--replica", try h.enrolment("b").replicaID.rawValue, "--out", down], in: h.folder, tool: .hub)
        #expect(exported.status == 0, "\(exported)")
        print("StreamingFileTests: bundle of \(own) ops; peak RSS hub import \(imported.maxRSSMB) MB, hub export \(exported.maxRSSMB) MB")
        #expect(imported.maxRSSMB < bound && exported.maxRSSMB < bound, "hub import \(imported.maxRSSMB) MB, export \(exported.maxRSSMB) MB")

        // Damaged on the way to the unit: each refused with exit 7, the replica unchanged.
        let good = [UInt8](try Data(contentsOf: URL(fileURLWithPath: down)))
        let other = [UInt8](try Data(contentsOf: URL(fileURLWithPath: up)))
        let before = try Self.state(h.db("b"), in: h.folder)
        func refused(_ bytes: [UInt8], _ what: String) throws {
            let p = h.path("bad.bundle")
            try Data(bytes).write(to: URL(fileURLWithPath: p))
            let r = try h.client("b", ["bundle", "import", p])
            #expect(r.status == 7, "\(what): \(r)")
            #expect(r.stderr.contains("bad.bundle"), "\(what): \(r)")
            let after = try Self.state(h.db("b"), in: h.folder)
            #expect(after.0 == before.0 && after.1 == before.1, "\(what): the replica changed")
        }
        try refused(Array(good[..<(good.count / 2)]), "cut in half")
        var flipped = good
        flipped[good.count - 100] ^= 0x01
        try refused(flipped, "a byte flipped near the end (after pages that verify)")
        // Spliced: a run of another bundle's bytes over the middle, the length kept, so the header
        // and its HMAC still hold: the pages, the stream or the SHA-256 fail.
        var spliced = good
        let mid = good.count / 2
        spliced.replaceSubrange(mid..<(mid + 4_096), with: other[mid..<(mid + 4_096)])
        try refused(spliced, "4 KiB of another bundle spliced in the middle")

        let r = try Self.measured(["bundle", "import", "--db", h.db("b"), down], in: h.folder)
        #expect(r.status == 0, "\(r)")
        print("StreamingFileTests: unit bundle import peak RSS \(r.maxRSSMB) MB")
        #expect(r.maxRSSMB < bound, "unit bundle import \(r.maxRSSMB) MB")
        #expect(try Self.holds(h.db("b"), vectorA))
    }
}

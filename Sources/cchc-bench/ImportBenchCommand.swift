import ArgumentParser
import CommandSupport
import Foundation
import SyncCore

/// `cchc-bench import`: the real command-line path of an ops file against the in-process merge of
/// the same ops (issue 10). Fills a replica with `cchc-bench fill`, exports it with
/// `unit-client ops export`, then imports the file into two copies of one fresh replica of
/// another unit: once with `unit-client ops import` as a child process (wall time, and the child's
/// peak RSS, `VmHWM` sampled every 2 ms), once in this process by applying the whole decoded batch in one
/// `ReplicaStore.apply` (the merge alone, decoding not counted). The two results must match.
struct ImportBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Đo «unit-client ops import» (tiến trình con, bộ nhớ đỉnh) so với hợp nhất trong tiến trình cùng các thao tác đó.",
        discussion: """
            Ví dụ: cchc-bench import --dir /tmp/cchc-import --activities 110000   (khoảng 1.000.000 thao tác)
            Bản sao nguồn trong thư mục được giữ lại và dùng lại ở lần chạy sau nếu cùng số hoạt động.
            """)

    @Option(help: "Thư mục làm việc (giữ bản sao nguồn để chạy lại).")
    var dir: String
    @Option(help: "Số hoạt động của bản sao nguồn (mặc định: 110000, khoảng một triệu thao tác).", transform: Count.readingInt("activities"))
    var activities = 110_000
    @Option(name: .customLong("repeat"), help: "Số lần đo xen kẽ (mặc định: 1).", transform: Count.readingInt("repeat"))
    var repetitions = 1

    func validate() throws {
        guard (1...10_000_000).contains(activities) else {
            throw SyncError(.invalidInput, "--activities phải từ 1 đến 10000000 (nhận «\(activities)»).", field: "activities")
        }
        guard (1...20).contains(repetitions) else {
            throw SyncError(.invalidInput, "--repeat phải từ 1 đến 20 (nhận «\(repetitions)»).", field: "repeat")
        }
    }

    func run() async throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
        func path(_ name: String) -> String { (dir as NSString).appendingPathComponent(name) }
        let me = Bundle.main.executableURL ?? URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        let unitClient = me.deletingLastPathComponent().appendingPathComponent("unit-client").path
        guard fm.isExecutableFile(atPath: unitClient) else {
            throw SyncError(
                .notFound, "Không tìm thấy tệp chạy «unit-client» cạnh cchc-bench (\(unitClient)); hãy build cả gói.", field: "unit-client",
                value: unitClient)
        }
        let source = path("nguon-\(activities).sqlite")
        if !fm.fileExists(atPath: source) {
            FileHandle.standardError.write(Data("Tạo bản sao nguồn: cchc-bench fill --activities \(activities)…\n".utf8))
            let fill = try Child.run(me.path, ["fill", "--db", source + ".tam", "--activities", String(activities)], log: path("fill.log"))
            guard fill.status == 0 else { throw Child.failed("cchc-bench fill", fill, log: path("fill.log")) }
            for suffix in ["-wal", "-shm"] { try? fm.removeItem(atPath: source + ".tam" + suffix) }
            try fm.moveItem(atPath: source + ".tam", toPath: source)
        }
        let file = path("ops.cchc")
        let export = try Child.run(unitClient, ["ops", "export", "--db", source, "--out", file], log: path("export.log"))
        guard export.status == 0 else { throw Child.failed("unit-client ops export", export, log: path("export.log")) }
        let template = path("dich-moi.sqlite")
        for suffix in ["", "-wal", "-shm"] { try? fm.removeItem(atPath: template + suffix) }
        let initRun = try Child.run(unitClient, ["init", "--unit", "VP", "--db", template], log: path("init.log"))
        guard initRun.status == 0 else { throw Child.failed("unit-client init", initRun, log: path("init.log")) }
        let expected = try ReplicaStore.open(path: source).versionVector()

        var cli: [Double] = []
        var inProcess: [Double] = []
        var rss: [Double] = []
        var ops = 0
        for round in 0..<repetitions {
            let a = path("dich-cli.sqlite")
            let b = path("dich-trong-tien-trinh.sqlite")
            for target in [a, b] {
                for suffix in ["", "-wal", "-shm"] { try? fm.removeItem(atPath: target + suffix) }
                try fm.copyItem(atPath: template, toPath: target)
            }
            // The command-line path: the child reads, verifies and applies page by page.
            let child = try Child.run(unitClient, ["ops", "import", "--db", a, file], log: path("import.log"))
            guard child.status == 0 else { throw Child.failed("unit-client ops import", child, log: path("import.log")) }
            cli.append(child.seconds)
            rss.append(child.maxRSSMB)
            // The in-process merge of the same ops: the whole batch decoded first, then one apply.
            let batch = try OpsFile.read(path: file).batch
            let store = try ReplicaStore.open(path: b)
            let t0 = DispatchTime.now().uptimeNanoseconds
            let report = try store.apply(batch, source: .peer(authenticated: nil, unit: nil))
            inProcess.append(secondsSince(t0))
            ops = batch.count
            // Both paths must have applied the same ops: vectors and op counts compared.
            let viaCLI = try ReplicaStore.open(path: a)
            let vvA = try viaCLI.versionVector()
            let vvB = try store.versionVector()
            let countA = try viaCLI.opCount()
            let countB = try store.opCount()
            guard vvA == vvB, countA == countB, report.applied == batch.count, expected.counters.allSatisfy({ vvA[$0.key] >= $0.value }) else {
                throw SyncError(
                    .internal,
                    "Hai đường nhập cho kết quả khác nhau: véc-tơ \(vvA) / \(vvB), \(countA) / \(countB) thao tác, \(report.applied) áp dụng trên \(batch.count)."
                )
            }
            FileHandle.standardError.write(
                Data(
                    String(
                        format: "lần %d: ops import %.2f s (RSS %.1f MB), trong tiến trình %.2f s\n", round + 1, child.seconds, child.maxRSSMB,
                        inProcess.last!
                    ).utf8))
        }
        let cliMedian = cli.sorted()[cli.count / 2]
        let inMedian = inProcess.sorted()[inProcess.count / 2]
        print(
            String(
                format: "tệp thao tác (ops file):         %d thao tác, %.1f MB (%.1f B/thao tác)", ops, Double(fileBytes(file)) / 1e6,
                Double(fileBytes(file)) / Double(max(1, ops))))
        print(String(format: "ops export (tiến trình con):     %.2f s, bộ nhớ đỉnh (peak RSS) %.1f MB", export.seconds, export.maxRSSMB))
        print(
            String(
                format: "ops import (tiến trình con):     %.2f s = %.0f thao tác/s, bộ nhớ đỉnh (peak RSS) %.1f MB (lớn nhất %d lần)", cliMedian,
                Double(ops) / cliMedian, rss.max() ?? 0, rss.count))
        print(
            String(format: "hợp nhất trong tiến trình:       %.2f s = %.0f thao tác/s (cùng các thao tác, một lô)", inMedian, Double(ops) / inMedian))
        print(String(format: "tỉ lệ (ratio) CLI / trong tiến trình: %.2f× (mục tiêu ≥ 0.5×; trung vị %d lần)", inMedian / cliMedian, cli.count))
    }
}

/// A child process started with `posix_spawn`, its wall time and peak resident memory measured.
enum Child {
    struct Result {
        var status: Int32
        var seconds: Double
        var maxRSSMB: Double
    }

    static func run(_ executable: String, _ arguments: [String], log: String) throws -> Result {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var pid: pid_t = 0
        let t0 = DispatchTime.now().uptimeNanoseconds
        let rc = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        guard rc == 0 else { throw SyncError(.internal, "Không chạy được «\(executable)» (mã \(rc)).") }
        var status: Int32 = 0
        var peakKB = 0
        while true {
            peakKB = max(peakKB, highWaterKB(pid))
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { break }
            if r < 0 && errno != EINTR { throw SyncError(.internal, "waitpid thất bại (mã \(errno)).") }
            usleep(2_000)
        }
        let seconds = secondsSince(t0)
        let exit = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        return Result(status: exit, seconds: seconds, maxRSSMB: Double(peakKB) / 1024)
    }

    /// The child's peak resident memory so far (`VmHWM` in /proc/PID/status), in KiB; 0 once it
    /// has exited. Not `ru_maxrss` from `wait4`: Linux keeps the spawning process's high-water
    /// mark across `exec`, so a child of this benchmark (which holds a million ops in memory for
    /// the in-process merge) would report the benchmark's size.
    static func highWaterKB(_ pid: pid_t) -> Int {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") })
        else { return 0 }
        return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0
    }

    static func failed(_ what: String, _ r: Result, log: String) -> SyncError {
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        return SyncError(.internal, "«\(what)» thoát với mã \(r.status): \(text.suffix(2_000))")
    }
}

import ArgumentParser
import CommandSupport
import Foundation
import Simulation
import SyncCore

/// `cchc-sim`: the deterministic simulator of issue 13 (docs/SIMULATION.md).
@main
struct CCHCSim: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cchc-sim",
        abstract: "Mô phỏng tất định toàn hệ thống: nhiều bản sao và hub trong một tiến trình, mạng/đồng hồ/sự cố mô phỏng, kiểm tra bất biến.",
        discussion: """
            Một seed điều khiển mọi thứ; lịch sử thứ k của lần chạy từ seed S có seed S+k và chạy lại riêng bằng
            «cchc-sim --seed S+k --histories 1» (cùng --steps, --replicas). Thoát khác 0 khi có vi phạm.
            Deterministic simulation of replicas and a hub in one process (docs/SIMULATION.md).
            """
    )

    @Option(help: "Số lịch sử (histories) cần chạy (mặc định: 100).", transform: Count.readingInt("histories"))
    var histories = 100
    @Option(help: "Seed của lịch sử đầu tiên (mặc định: seed mới ngẫu nhiên, được in ra).")
    var seed: UInt64?
    @Option(help: "Số bước mỗi lịch sử (mặc định: 40).", transform: Count.readingInt("steps"))
    var steps = 40
    @Option(help: "Số máy (bản sao) ban đầu mỗi lịch sử, 2–12 (mặc định: 4).", transform: Count.readingInt("replicas"))
    var replicas = 4
    @Option(help: "Số lịch sử chạy song song (mặc định: số lõi CPU).", transform: Count.readingInt("jobs"))
    var jobs = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "Thư mục cho các tệp cơ sở dữ liệu tạm (mặc định: /dev/shm nếu có, nếu không thư mục tạm).")
    var dir: String?
    @Option(help: "Lỗi cố ý (chỉ để chứng minh bất biến bắt được): \(SimBug.allCases.map(\.rawValue).joined(separator: ", ")).")
    var bug: String?
    @Option(help: "Số dòng vết (trace) in cho lịch sử vi phạm (mặc định: 14).", transform: Count.readingInt("trace"))
    var trace = 14
    @Option(
        help:
            "Bảng bước: current (mặc định) hoặc first (bảng trước khi có gói tin, khôi phục hub, đĩa đầy: để chạy lại seed tìm được khi đó, như 20255)."
    )
    var stepTable = "current"
    @Option(
        help:
            "Thư mục có hub.sqlite và TTQLCK.sqlite của phiên bản trước (như Tests/EndToEndTests/Fixtures/previous-main): một phần tư số lịch sử bắt đầu từ bản sao của chúng."
    )
    var previousRelease: String?
    @Flag(
        help:
            "Một nửa số bước «đĩa đầy» thay bằng lỗi vào/ra: một lần ghi hoặc fsync của cơ sở dữ liệu của một máy hay của hub thất bại (VFS giả lập của SQLite)."
    )
    var ioErrors = false
    @Flag(
        help:
            "Người quản trị hub thỉnh thoảng thu hồi một máy («hub revoke»); máy bị từ chối có tên rồi chuyển sang ghi danh thay thế («hub enrol --replaces», «unit-client rehome»)."
    )
    var revocations = false
    @Flag(help: "In từng dòng vết của mọi lịch sử ra stderr khi chạy (kèm seed của lịch sử).")
    var echo = false
    @Flag(help: "In kết quả dạng JSON.")
    var json = false

    func validate() throws {
        guard (2...12).contains(replicas) else {
            throw SyncError(.invalidInput, "--replicas phải từ 2 đến 12 (nhận «\(replicas)»).", field: "replicas", value: String(replicas))
        }
        guard (1...64).contains(jobs) else {
            throw SyncError(.invalidInput, "--jobs phải từ 1 đến 64 (nhận «\(jobs)»).", field: "jobs", value: String(jobs))
        }
        guard (1...10_000).contains(steps) else {
            throw SyncError(.invalidInput, "--steps phải từ 1 đến 10000 (nhận «\(steps)»).", field: "steps", value: String(steps))
        }
        guard SimStepTable(rawValue: stepTable) != nil else {
            throw SyncError(
                .invalidInput, "--step-table phải là current hoặc first (nhận «\(stepTable)»).", field: "step-table", value: stepTable)
        }
        if let previousRelease {
            for f in ["hub.sqlite", "TTQLCK.sqlite"]
            where !FileManager.default.fileExists(atPath: (previousRelease as NSString).appendingPathComponent(f)) {
                throw SyncError(
                    .invalidInput, "--previous-release: thư mục «\(previousRelease)» không có «\(f)».", field: "previous-release",
                    value: previousRelease)
            }
        }
        if let bug, SimBug(rawValue: bug) == nil {
            throw SyncError(
                .invalidInput, "--bug phải là một trong \(SimBug.allCases.map(\.rawValue).joined(separator: ", ")) (nhận «\(bug)»).",
                field: "bug", value: bug)
        }
    }

    struct Report: Encodable {
        var seed: UInt64
        var histories: Int
        var stats: SimStats
        var seconds: Double
        var digest: String
        var violations: [String]
        var replay: String?
    }

    func replay(_ s: UInt64) -> String {
        "cchc-sim --seed \(s) --histories 1 --steps \(steps) --replicas \(replicas)\(bug.map { " --bug \($0)" } ?? "")\(stepTable == "current" ? "" : " --step-table \(stepTable)")\(previousRelease.map { " --previous-release \($0)" } ?? "")\(ioErrors ? " --io-errors" : "")\(revocations ? " --revocations" : "")"
    }

    func run() async throws {
        let first = seed ?? Simulator.freshSeed()
        var config = SimConfig()
        config.replicas = replicas
        config.steps = steps
        config.traceLength = max(1, trace)
        config.echo = echo
        config.previousRelease = previousRelease
        config.ioErrors = ioErrors
        config.revocations = revocations
        if let dir { config.directory = dir }
        config.bug = bug.flatMap(SimBug.init(rawValue:))
        config.stepTable = SimStepTable(rawValue: stepTable) ?? .current
        let err = FileHandle.standardError
        err.write(Data("cchc-sim: seed \(first), \(histories) lịch sử × \(steps) bước, \(replicas) máy (chạy lại / replay: --seed \(first))\n".utf8))
        let every = max(1, histories / 20)
        let r = try await Simulator.run(seed: first, histories: histories, config: config, jobs: jobs) { done, stats in
            if done % every == 0 && done < histories {
                err.write(Data("  … \(done)/\(histories) lịch sử, \(stats.steps) bước, \(stats.faultTotal) lỗi đưa vào\n".utf8))
            }
        }
        let failed = r.violations.first.map { replay($0.seed) }
        if json {
            try printJSON(
                Report(
                    seed: first, histories: r.stats.histories, stats: r.stats, seconds: r.seconds, digest: r.digest,
                    violations: r.violations.map(\.description),
                    replay: failed))
        } else {
            print("seed đầu (first seed):      \(first)")
            print("lịch sử (histories):        \(r.stats.histories)")
            print(
                "bước (steps):               \(r.stats.steps) (đồng bộ \(r.stats.syncs), ghi cục bộ \(r.stats.localWrites), sửa Kế hoạch \(r.stats.planAmendments))"
            )
            if r.stats.previousRelease > 0 { print("từ phiên bản trước:         \(r.stats.previousRelease) lịch sử (previous release)") }
            print(
                "khôi phục / chuyển ghi danh / bỏ nhánh: \(r.stats.recoveries) / \(r.stats.rehomes) / \(r.stats.branchesSetAside); đồng bộ nối lại (resumed): \(r.stats.resumedSyncs)"
            )
            print(
                "gói tin / sao lưu đêm hub:  \(r.stats.bundleSyncs) lần đồng bộ bằng gói / \(r.stats.hubBackups) bản sao lưu; gói hỏng vô hại (chữ hoa/thường của HMAC): \(r.stats.harmlessBundleFlips); đĩa đầy từ chối: \(r.stats.diskFullRefusals)\(ioErrors ? "; lỗi vào/ra từ chối: \(r.stats.ioErrorRefusals), thấy nguyên vẹn sau mất điện: \(r.stats.ioErrorFoundWhole)" : "")"
            )
            if revocations {
                print(
                    "thu hồi / ghi danh thay thế / để riêng thao tác hub không có: \(r.stats.faults[FaultKind.revoked.rawValue] ?? 0) / \(r.stats.replacements) / \(r.stats.revokedSetAside) (\(r.stats.revokedSetAsideByBundle) khi nhập gói của hub)"
                )
            }
            print("từ chối có nêu tên:         \(r.stats.refusals)")
            print("lỗi đưa vào (faults):       \(r.stats.faultTotal)")
            for k in FaultKind.allCases {
                if let n = r.stats.faults[k.rawValue] { print("  \(k.rawValue.padding(toLength: 24, withPad: " ", startingAt: 0)) \(n)") }
            }
            print("vi phạm (violations):       \(r.stats.violations)")
            print("dấu vân tay (digest):       \(r.digest) (giống nhau ở mọi lần chạy lại cùng seed / equal on every replay)")
            print(String(format: "thời gian (time):           %.1f s", r.seconds))
            for v in r.violations { print("\n\(v)") }
        }
        if let failed {
            err.write(Data("cchc-sim: có vi phạm bất biến; chạy lại / replay: \(failed)\n".utf8))
            throw ExitCode(1)
        }
    }

    static func main() async { await mainReportingErrors() }
}

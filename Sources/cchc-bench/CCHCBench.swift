import ArgumentParser
import CommandSupport
import Foundation
import SyncCore

@main
struct CCHCBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cchc-bench",
        abstract: "Đo hiệu năng (lệnh đo, không phải kiểm thử có giới hạn thời gian) và tạo bản sao lớn để thử tải.",
        discussion: """
            Build release để có số đo có ý nghĩa: swift build -c release, rồi .build/release/cchc-bench merge.
            Benchmarks and a replica filler for load tests; not part of the library or of unit-client and hub.
            """,
        subcommands: [MergeCommand.self, SyncBenchCommand.self, ReportCommand.self, FillCommand.self, ImportBenchCommand.self]
    )

    /// Failures reported by the one rule of both CLIs (`CommandFailure`): a bad value exits 2.
    static func main() async { await mainReportingErrors() }
}

/// Seconds since `start` (a `DispatchTime` uptime in nanoseconds).
func secondsSince(_ start: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }

/// The size of a file in bytes (0 when it does not exist).
func fileBytes(_ path: String) -> Int {
    ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
}

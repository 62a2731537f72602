import ArgumentParser
import CommandSupport
import Foundation
import SyncCore

/// `cchc-bench merge`: the replica-core benchmark of issue 2 (see `MergeBenchmark`).
struct MergeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Hợp nhất 10 bản sao × 10.000 thay đổi vào một bản sao trên đĩa; so với trần SQLite đo cùng lần chạy.")

    @Option(help: "Thư mục làm việc (mặc định: thư mục tạm, xóa sau khi chạy).")
    var dir: String?
    @Option(help: "Số thay đổi mỗi bản sao (mặc định: 10000).", transform: Count.readingInt("changes"))
    var changes = 10_000
    @Option(help: "Số bản ghi (mặc định: 20000).", transform: Count.readingInt("records"))
    var records = 20_000
    @Option(
        name: .customLong("repeat"), help: "Số lần đo trần và hợp nhất (xen kẽ); lấy trung vị (mặc định: 5).", transform: Count.readingInt("repeat"))
    var repetitions = 5
    @Flag(help: "In kết quả dạng JSON.")
    var json = false

    func validate() throws {
        // The workload needs every replica to own at least one record.
        let least = MergeBenchmark().replicas
        guard (least...1_000_000).contains(records) else {
            throw SyncError(.invalidInput, "--records phải từ \(least) đến 1000000 (nhận «\(records)»).", field: "records")
        }
        guard (1...1_000_000).contains(changes) else {
            throw SyncError(.invalidInput, "--changes phải từ 1 đến 1000000 (nhận «\(changes)»).", field: "changes")
        }
        guard (1...100).contains(repetitions) else {
            throw SyncError(.invalidInput, "--repeat phải từ 1 đến 100 (nhận «\(repetitions)»).", field: "repeat")
        }
    }

    func run() async throws {
        let base = dir.map { URL(fileURLWithPath: $0) } ?? FileManager.default.temporaryDirectory.appendingPathComponent("cchc-bench-\(getpid())")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        defer { if dir == nil { try? FileManager.default.removeItem(at: base) } }
        var bench = MergeBenchmark()
        bench.changesPerReplica = changes
        bench.records = records
        bench.repetitions = repetitions
        let r = try bench.run(directory: base) { FileHandle.standardError.write(Data("\($0)\n".utf8)) }
        if json {
            try printJSON(r)
            return
        }
        print(String(format: "thao tác (ops):                  %d trên %d bản ghi, %d trường xung đột", r.ops, r.records, r.conflicts))
        let n = r.mergeRuns.count
        print(
            String(
                format: "hợp nhất (merge):                %.2f s  = %.0f ops/s (trung vị %d lần; nhanh nhất %.2f s)", r.mergeSeconds, r.opsPerSecond,
                n,
                r.mergeRuns.min() ?? 0))
        print(
            String(
                format: "trần SQLite (plain upserts):     %.2f s  = %.0f upserts/s (trung vị %d lần; nhanh nhất %.2f s)", r.ceilingSeconds,
                r.ceilingUpsertsPerSecond, n, r.ceilingRuns.min() ?? 0))
        print(
            String(
                format: "tỉ lệ so với trần:               %.2f× (trung vị); %.2f× (lần nhanh nhất mỗi bên)", r.ratioToCeiling, r.bestRatioToCeiling))
        print(
            String(
                format: "thời gian CPU hợp nhất / trần:   %.2f s / %.2f s = %.2f× (máy dùng chung: tỉ lệ CPU ít nhiễu hơn)", r.mergeCPUSeconds,
                r.ceilingCPUSeconds, r.ceilingCPUSeconds / max(r.mergeCPUSeconds, 1e-9)))
        print(
            String(
                format: "dung lượng CSDL / bảng thường:   %.1f MB / %.1f MB = %.2f×", Double(r.databaseBytes) / 1e6, Double(r.plainTableBytes) / 1e6,
                r.sizeRatio))
        print(String(format: "siêu dữ liệu đồng bộ:            %.1f byte/op", r.metadataBytesPerOp))
        print(
            String(
                format: "ghi cục bộ (activity add):       %.2f ms so với %.2f ms chèn thường = %.2f×", r.localWriteSeconds * 1000 / 300,
                r.plainInsertSeconds * 1000 / 300, r.localWriteOverhead))
        print(String(format: "bộ nhớ đỉnh (peak RSS):          %.0f MB", r.peakMemoryMB))
    }
}

import ArgumentParser
import CommandSupport
import Foundation
import SyncCore

#if canImport(Glibc)
    import Glibc
#endif

/// `cchc-bench report`: the yearly consolidated report over many units (issue 4).
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Đo thời gian lập báo cáo năm: 50 đơn vị × 2.000 hoạt động (mục tiêu ≤ 1 giây cho lập + xuất).",
        discussion: """
            Dữ liệu tổng hợp sinh ngẫu nhiên (có hạt giống) trong một cơ sở dữ liệu tạm trong bộ nhớ; không chạm tới hub thật.
            Mỗi đơn vị có một bản sao; thao tác của nó được áp dụng như khi hub nhận từ đơn vị (chuẩn bị mất vài giây, không tính vào số đo).
            """)
    @Option(help: "Số đơn vị (mặc định: 50).", transform: Count.readingInt("units"))
    var units = 50
    @Option(
        name: .customLong("activities-per-unit"), help: "Số hoạt động mỗi đơn vị (mặc định: 2000).",
        transform: Count.readingInt("activities-per-unit"))
    var perUnit = 2000
    @Option(help: "Số lần đo (mặc định: 3).", transform: Count.readingInt("runs"))
    var runs = 3
    @Option(help: "Hạt giống ngẫu nhiên.")
    var seed: UInt64 = 20_260_316

    func validate() throws {
        guard (2...500).contains(units) else { throw SyncError(.invalidInput, "--units phải từ 2 đến 500 (đã nhập \(units)).", field: "units") }
        guard (0...20_000).contains(perUnit) else {
            throw SyncError(.invalidInput, "--activities-per-unit phải từ 0 đến 20000 (đã nhập \(perUnit)).", field: "activities-per-unit")
        }
        guard (1...20).contains(runs) else { throw SyncError(.invalidInput, "--runs phải từ 1 đến 20 (đã nhập \(runs)).", field: "runs") }
    }

    func run() async throws {
        let clock = ContinuousClock()
        func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
        func fmt(_ s: Double) -> String { String(format: "%.3f s", s) }
        // CPU time of the process, printed beside wall time: on a shared machine the wall
        // time includes waiting for a core.
        func cpu() -> Double { MergeBenchmark.cpuSeconds() }
        let catalog = try ReportBenchmark.syntheticCatalog(units: units)
        let t0 = clock.now
        let store = try ReplicaStore.inMemory(catalog: catalog)
        try store.initialise(identity: nil)
        try ReportBenchmark.fill(store, catalog: catalog, perUnit: perUnit, year: 2026, seed: seed)
        let setup = seconds(clock.now - t0)
        print("Chuẩn bị: \(units) đơn vị × \(perUnit) hoạt động (hạt giống \(seed)) trong \(fmt(setup)).")
        if setup > 3 {
            print("  (dữ liệu được áp dụng qua nhật ký thao tác như trên hub thật nên chuẩn bị lâu hơn; thời gian này không tính vào số đo)")
        }
        let heading = ReportHeading(catalog: catalog, number: "99", date: "2026-12-16")
        var totals: [ReportFormat: [Double]] = [:]
        var cpuTotals: [ReportFormat: [Double]] = [:]
        for run in 1...runs {
            let a0 = clock.now
            let c0 = cpu()
            let report = try ReportSource(store: store).consolidatedReport(for: .year(2026), heading: heading)
            let assemble = seconds(clock.now - a0)
            let assembleCPU = cpu() - c0
            var line =
                "Lần \(run): lập báo cáo năm \(fmt(assemble)) (\(report.totals.activities) hoạt động, \(report.totals.lateEntries) nhập muộn)"
            for f in [ReportFormat.json, .csv, .md, .docx] {
                let e0 = clock.now
                let ec = cpu()
                let data = try report.export(f)
                let export = seconds(clock.now - e0)
                totals[f, default: []].append(assemble + export)
                cpuTotals[f, default: []].append(assembleCPU + cpu() - ec)
                line += "; \(f.rawValue) \(fmt(export)) (\(data.count / 1024) KiB)"
            }
            print(line)
        }
        print("Trung vị thời gian lập + xuất (mục tiêu ≤ 1 s), thời gian thực / thời gian CPU:")
        func median(_ v: [Double]?) -> Double { MergeBenchmark.median(v ?? []) }
        for f in [ReportFormat.json, .csv, .md, .docx] {
            let wall = median(totals[f])
            print("  \(f.rawValue): \(fmt(wall)) / CPU \(fmt(median(cpuTotals[f])))\(wall <= 1 ? "" : "  (vượt mục tiêu)")")
        }
    }
}

import ArgumentParser
import Foundation
import SyncCore

/// `hub bench …`: measurements of the speed targets (never enforced by timed tests).
struct HubBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Đo hiệu năng (benchmark).", subcommands: [BenchReportCommand.self])
}

struct BenchReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Đo thời gian lập báo cáo năm: 50 đơn vị × 2.000 hoạt động (mục tiêu ≤ 1 giây cho lập + xuất).",
        discussion: "Dữ liệu tổng hợp sinh ngẫu nhiên (có hạt giống) trong một cơ sở dữ liệu tạm trong bộ nhớ; không chạm tới hub thật.")
    @Option(help: "Số đơn vị.")
    var units = 50
    @Option(name: .customLong("activities-per-unit"), help: "Số hoạt động mỗi đơn vị.")
    var perUnit = 2000
    @Option(help: "Số lần đo.")
    var runs = 3
    @Option(help: "Hạt giống ngẫu nhiên.")
    var seed: UInt64 = 20_260_316

    func validate() throws {
        guard (2...500).contains(units) else { throw ValidationError("--units phải từ 2 đến 500 (đã nhập \(units)).") }
        guard (0...20_000).contains(perUnit) else { throw ValidationError("--activities-per-unit phải từ 0 đến 20000 (đã nhập \(perUnit)).") }
        guard (1...20).contains(runs) else { throw ValidationError("--runs phải từ 1 đến 20 (đã nhập \(runs)).") }
    }

    func run() async throws {
        try await hubReportingErrors {
            let clock = ContinuousClock()
            func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
            func fmt(_ s: Double) -> String { String(format: "%.3f s", s) }
            let catalog = ReportBenchmark.syntheticCatalog(units: units)
            let t0 = clock.now
            let store = try ReplicaStore.inMemory(catalog: catalog)
            try store.initialise(identity: nil)
            try ReportBenchmark.fill(store, catalog: catalog, perUnit: perUnit, year: 2026, seed: seed)
            print("Chuẩn bị: \(units) đơn vị × \(perUnit) hoạt động (hạt giống \(seed)) trong \(fmt(seconds(clock.now - t0))).")
            let heading = ReportHeading(catalog: catalog, number: "99", date: "2026-12-16")
            var totals: [ReportFormat: [Double]] = [:]
            for run in 1...runs {
                let a0 = clock.now
                let report = try store.consolidatedReport(for: .year(2026), heading: heading)
                let assemble = seconds(clock.now - a0)
                var line =
                    "Lần \(run): lập báo cáo năm \(fmt(assemble)) (\(report.totals.activities) hoạt động, \(report.totals.lateEntries) nhập muộn)"
                for f in [ReportFormat.json, .csv, .md, .docx] {
                    let e0 = clock.now
                    let data = try report.export(f)
                    let export = seconds(clock.now - e0)
                    totals[f, default: []].append(assemble + export)
                    line += "; \(f.rawValue) \(fmt(export)) (\(data.count / 1024) KiB)"
                }
                print(line)
            }
            print("Trung vị thời gian lập + xuất (mục tiêu ≤ 1 s):")
            for f in [ReportFormat.json, .csv, .md, .docx] {
                let v = (totals[f] ?? []).sorted()
                let median = v.isEmpty ? 0 : v[v.count / 2]
                print("  \(f.rawValue): \(fmt(median))\(median <= 1 ? "" : "  (vượt mục tiêu)")")
            }
        }
    }
}

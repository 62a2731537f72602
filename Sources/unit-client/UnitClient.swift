import ArgumentParser
import CommandSupport
import Foundation
import SyncCore

@main
struct UnitClient: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unit-client",
        abstract: "Bản sao ngoại tuyến của đơn vị: nhiệm vụ, hoạt động tuyên truyền CCHC, báo cáo và đồng bộ với máy chủ (hub).",
        discussion: """
            Mọi lệnh đều chạy ngoại tuyến trên cơ sở dữ liệu của đơn vị (--db, mặc định $UNIT_DB hoặc ./unit.sqlite).
            The unit's offline replica: tasks, CCHC communication activities, reports, and sync with the hub.
            """,
        subcommands: [
            InitCommand.self, PlanCommand.self, TaskCommand.self, ActivityCommand.self,
            DirectiveCommand.self, ConflictsCommand.self, HistoryCommand.self, StatusCommand.self, DumpCommand.self, OpsCommand.self,
            ReportCommand.self, SyncCommand.self,
            BundleCommand.self, RehomeCommand.self, VerifyCommand.self, RepairCommand.self,
        ]
    )

    /// Failures are reported by the rule of `CommandFailure`: `Lỗi: …` and the README's exit codes.
    static func main() async { await mainReportingErrors(faultHook: true) }
}

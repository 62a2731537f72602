import ArgumentParser
import CommandSupport
import Foundation
import SyncCore

@main
struct Hub: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hub",
        abstract: "Máy chủ đồng bộ của Ban Quản lý: hợp nhất thay đổi của các đơn vị, ghi danh bản sao, gói tin ngoại tuyến, báo cáo tổng hợp.",
        discussion: "Cơ sở dữ liệu: --db, mặc định $HUB_DB hoặc ./hub.sqlite. The Board's sync hub.",
        subcommands: [
            HubInitCommand.self, HubEnrolCommand.self, HubRevokeCommand.self, HubServeCommand.self, HubStatusCommand.self,
            HubConflictsCommand.self, HubHistoryCommand.self, HubDumpCommand.self, HubReportCommand.self, HubBundleCommand.self,
            HubOpsCommand.self, HubNightlyCommand.self, HubVerifyCommand.self, HubRepairCommand.self,
        ]
    )

    /// Failures are reported by the rule of `CommandFailure`: `Lỗi: …` and the README's exit codes.
    static func main() async { await mainReportingErrors(faultHook: true) }
}

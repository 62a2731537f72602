import ArgumentParser
import CommandSupport
import Foundation
import SyncCore

struct HubConflictsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conflicts", abstract: "Các trường đang xung đột trên hub: mọi giá trị, đơn vị và bản sao đã ghi, thời điểm.")
    @OptionGroup var store: HubStoreOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try printConflicts(
            try store.open().conflicts(), json: output.json,
            footer: "(* giá trị đang hiển thị trên mọi bản sao; đơn vị sở hữu giải quyết bằng «unit-client conflicts resolve».)")
    }
}

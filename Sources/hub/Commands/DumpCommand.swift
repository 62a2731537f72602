import ArgumentParser
import Foundation
import SyncCore

struct HubDumpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dump", abstract: "In trạng thái chuẩn tắc (giống «unit-client dump») để so sánh các bản sao.")
    @OptionGroup var store: HubStoreOptions

    func run() async throws {
        let data = try store.open().dump().json()
        FileHandle.standardOutput.write(data)
    }
}

import ArgumentParser
import Foundation
import SyncCore

struct DumpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dump", abstract: "In trạng thái chuẩn tắc (JSON, khóa sắp xếp) để so sánh các bản sao.")
    @OptionGroup var store: StoreOptions

    func run() async throws {
        FileHandle.standardOutput.write(try store.open().dump().json())
    }
}

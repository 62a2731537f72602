import ArgumentParser
import Foundation
import SyncCore

struct HubConflictsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conflicts", abstract: "Các trường đang xung đột trên hub: mọi giá trị, đơn vị và bản sao đã ghi, thời điểm.")
    @OptionGroup var store: HubStoreOptions
    @Flag(help: "In kết quả dạng JSON.")
    var json = false

    func run() async throws {
        try await hubReportingErrors {
            let list = try store.open().conflicts()
            if json {
                try printJSON(list)
                return
            }
            if list.isEmpty { print("Không có xung đột.") }
            for c in list {
                print("\(c.record)  trường «\(c.field)»:")
                for v in c.candidates {
                    print("  \(v.winner ? "*" : " ") \(v.value)    — \(v.unit ?? "?") / bản sao \(v.replica), \(v.time) [\(v.dot)]")
                }
            }
            if !list.isEmpty { print("(* giá trị đang hiển thị trên mọi bản sao; đơn vị sở hữu giải quyết bằng «unit-client conflicts resolve».)") }
        }
    }
}

import ArgumentParser
import CommandSupport
import Foundation
import SyncCore

struct HubEnrolCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enrol", abstract: "Ghi danh một bản sao mới cho đơn vị; ghi tệp ghi danh cho «unit-client init --enrolment».",
        discussion: "Hub chỉ lưu băm SHA-256 của khóa bí mật; tệp ghi danh là bản duy nhất chứa khóa, hãy chuyển an toàn.")
    @OptionGroup var store: HubStoreOptions
    @Option(help: "Mã đơn vị (VP, CPCM-QLDTDN, CPCM-QHXDMT, TTQLCK).")
    var unit: String
    @Option(help: "Tệp ghi danh ra.")
    var out: String
    @Option(help: "Địa chỉ hub mà bản sao sẽ đồng bộ tới, ví dụ http://10.0.0.5:8080.")
    var url: String?
    @Option(help: "Mã bản sao mong muốn (mặc định: ngẫu nhiên).")
    var replica: String?
    @OptionGroup var output: OutputOptions

    func run() async throws {
        if let url { _ = try SyncClient.hubURL(url, field: "url") }
        let id = try replica.map { try ReplicaID.parse($0) }
        let s = try store.open()
        let file = try s.enrol(unit: unit, hubURL: url, replica: id)
        do {
            try file.write(path: out)
        } catch {
            // Without the file the secret is lost: take the enrolment back.
            try? s.withdrawEnrolment(file.replicaID)
            throw error
        }
        if output.json {
            let d = try JSONEncoder.canonical.encode(["replica_id": file.replicaID.rawValue, "unit": file.unit, "file": out])
            print(String(decoding: d, as: UTF8.self))
        } else {
            print("Đã ghi danh bản sao \(file.replicaID) cho đơn vị \(file.unit); tệp ghi danh: \(out)")
        }
    }
}

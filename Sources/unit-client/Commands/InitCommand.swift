import ArgumentParser
import CommandSupport
import Foundation
import SyncCore

struct InitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Tạo bản sao mới cho một đơn vị (VP, CPCM-…, TTQLCK).",
        discussion: """
            Ví dụ: unit-client init --enrolment ttqlck.enrol --db ttqlck.sqlite (đơn vị, mã bản sao và khóa lấy từ tệp do «hub enrol» cấp)
            hoặc, chỉ làm việc ngoại tuyến: unit-client init --unit TTQLCK --db ttqlck.sqlite
            """)

    @OptionGroup var store: StoreOptions
    @Option(help: "Mã đơn vị theo danh mục (VP, CPCM-QLDTDN, CPCM-QHXDMT, TTQLCK).")
    var unit: String?
    @Option(help: "Mã bản sao do hub cấp (mặc định: tạo ngẫu nhiên).")
    var replica: String?
    @Option(help: "Tên máy, để nhận ra bản sao trong danh sách của hub.")
    var label: String?
    @Option(help: "Tệp ghi danh do «hub enrol» cấp: đơn vị, mã bản sao, địa chỉ hub và khóa bí mật.")
    var enrolment: String?
    @OptionGroup var output: OutputOptions

    /// One of the two is required by this command's rule, not by ArgumentParser: invalid input (exit 2).
    func validate() throws {
        guard unit != nil || enrolment != nil else {
            throw SyncError(
                .invalidInput, "Cần --enrolment TỆP (tệp ghi danh của hub) hoặc --unit: mã đơn vị (VP, CPCM-QLDTDN, CPCM-QHXDMT, TTQLCK).",
                field: "unit")
        }
    }

    func run() async throws {
        let enrolled = try enrolment.map { try EnrolmentFile.read(path: $0) }
        if let enrolled, let unit, unit != enrolled.unit {
            throw SyncError.invalid("unit", unit, "tệp ghi danh cấp cho đơn vị \(enrolled.unit).")
        }
        if let enrolled, let replica, replica != enrolled.replicaID.rawValue {
            throw SyncError.invalid("replica", replica, "tệp ghi danh cấp mã bản sao \(enrolled.replicaID).")
        }
        let unitCode = enrolled?.unit ?? unit ?? ""
        let catalog = Catalog.standard
        _ = try catalog.requireUnit(unitCode, field: "unit")
        let id = try enrolled?.replicaID ?? replica.map { try ReplicaID.parse($0, field: "replica") } ?? ReplicaID.random()
        if FileManager.default.fileExists(atPath: store.path) {
            let existing = try ReplicaStore.open(path: store.path, create: true)
            if try existing.isInitialised() {
                throw SyncError(.conflict, "Cơ sở dữ liệu «\(store.path)» đã được khởi tạo; không ghi đè.", field: "db", value: store.path)
            }
        }
        let s = try ReplicaStore.open(path: store.path, create: true)
        try s.initialise(identity: .init(replica: id, unit: unitCode), label: label ?? ProcessInfo.processInfo.hostName)
        if let enrolled {
            try s.saveCredentials(HubCredentials(enrolment: enrolled))
        }
        if output.json {
            try printJSON(["replica_id": id.rawValue, "unit": unitCode, "db": store.path])
        } else {
            print("Đã tạo bản sao \(id) cho đơn vị \(unitCode) (\(catalog.unit(unitCode)?.name ?? "")) tại \(store.path).")
        }
    }
}

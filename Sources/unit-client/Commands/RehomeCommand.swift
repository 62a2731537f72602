import ArgumentParser
import CommandSupport
import Foundation
import SyncCore

struct RehomeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rehome", abstract: "Chuyển công việc của máy này sang một tệp ghi danh mới (khi tệp ghi danh cũ đã được dùng trên máy khác).",
        discussion: """
            Một tệp ghi danh chỉ dùng cho một máy: hub gắn nó với khóa ký của máy đầu tiên đồng bộ. Máy thứ hai dùng cùng
            tệp bị từ chối (mã thoát 4) và công việc của nó vẫn được giữ. Hãy xin Văn phòng một tệp ghi danh mới
            («hub enrol --unit ĐƠN_VỊ»), rồi chạy: unit-client rehome --enrolment moi.enrol --db ttqlck.sqlite
            Mọi thay đổi máy này đã ghi được ghi lại dưới bản sao mới (bản ghi máy này tạo được tạo lại với mã mới);
            tệp cơ sở dữ liệu cũ được giữ bên cạnh. Sau đó chạy «unit-client sync» như thường lệ.
            Máy đã bị thu hồi («hub revoke»): cần tệp ghi danh thay thế («hub enrol --unit ĐƠN_VỊ --replaces MÃ_CŨ»); những
            gì hub đã nhận của máy này được giữ nguyên, chỉ phần hub chưa nhận được ghi lại, nên không hoạt động nào bị đếm hai lần.
            """)
    @OptionGroup var store: StoreOptions
    @Option(help: "Tệp ghi danh mới do «hub enrol» cấp cho đơn vị này.")
    var enrolment: String
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let file = try EnrolmentFile.read(path: enrolment)
        let s = try store.open()
        let r = try Recovery.rehome(store: s, enrolment: file)
        if output.json { return try printJSON(r) }
        let kept = file.replaces.map { "giữ \(r.from - 1) thao tác hub đã có của bản sao \($0.replica); " } ?? ""
        print(
            "Đã chuyển sang bản sao \(r.replica): \(kept)ghi lại \(r.setAside) thao tác (\(r.recordsRewritten) bản ghi sửa, \(r.recordsRecreated) bản ghi tạo lại với mã mới); "
                + "tệp cũ giữ tại \(r.oldFile). Hãy chạy «unit-client sync».")
    }
}

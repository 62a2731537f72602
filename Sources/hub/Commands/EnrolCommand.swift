import ArgumentParser
import CommandSupport
import Foundation
import SyncCore

struct HubEnrolCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enrol", abstract: "Ghi danh một bản sao mới cho đơn vị; ghi tệp ghi danh cho «unit-client init --enrolment».",
        discussion: """
            Hub chỉ lưu băm SHA-256 của khóa bí mật; tệp ghi danh là bản duy nhất chứa khóa, hãy chuyển an toàn.
            Với hub chạy https («hub serve --tls-cert»), cần --url https://… và --tls-cert cùng tệp chứng chỉ: dấu vân tay
            SHA-256 của chứng chỉ được ghi vào tệp ghi danh, và unit-client chỉ chấp nhận đúng chứng chỉ đó.
            Sau khi khôi phục hub từ bản sao lưu: «hub enrol --restore TỆP.enrol» ghi danh lại bản sao mà hub đã cấp sau
            bản sao lưu đó (giữ mã và khóa, không tạo tệp mới); lần đồng bộ sau của máy đó trả lại cho hub các thao tác hub đã mất.
            Cấp lại cho một máy đã bị thu hồi (hoặc cần thu hồi): «hub enrol --unit ĐƠN_VỊ --replaces MÃ_CŨ --out moi.enrol» thu hồi
            bản sao cũ (nếu chưa) và ghi vào tệp mới số thao tác hub giữ của nó; trên máy đó «unit-client rehome --enrolment moi.enrol»
            giữ nguyên những gì hub đã có và chỉ ghi lại phần hub chưa nhận, nên không hoạt động nào bị đếm hai lần.
            """)
    @OptionGroup var store: HubStoreOptions
    @Option(help: "Mã đơn vị (VP, CPCM-QLDTDN, CPCM-QHXDMT, TTQLCK).")
    var unit: String?
    @Option(help: "Tệp ghi danh ra.")
    var out: String?
    @Option(help: "Ghi danh lại từ tệp ghi danh hub đã cấp (sau khi khôi phục hub từ bản sao lưu cũ hơn tệp đó); không dùng cùng --unit/--out.")
    var restore: String?
    @Option(help: "Địa chỉ hub mà bản sao sẽ đồng bộ tới, ví dụ http://10.0.0.5:8080.")
    var url: String?
    @Option(help: "Tệp chứng chỉ PEM mà «hub serve --tls-cert» dùng (bắt buộc với --url https://…): ghim dấu vân tay SHA-256 của nó.")
    var tlsCert: String?
    @Option(help: "Mã bản sao mong muốn (mặc định: ngẫu nhiên).")
    var replica: String?
    @Option(help: "Mã bản sao cũ (cùng đơn vị) mà ghi danh mới thay thế: thu hồi nó nếu chưa, và ghi số thao tác hub giữ của nó vào tệp mới.")
    var replaces: String?
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if restore != nil {
            for (name, given) in [("unit", unit), ("out", out), ("url", url), ("tls-cert", tlsCert), ("replica", replica), ("replaces", replaces)]
            where given != nil {
                throw SyncError(
                    .invalidInput, "--\(name) «\(given ?? "")» không dùng cùng --restore: bản sao giữ mã, đơn vị và khóa trong tệp ghi danh cũ.",
                    field: name, value: given)
            }
        } else {
            guard unit != nil else { throw SyncError(.invalidInput, "Thiếu «--unit»: mã đơn vị của bản sao mới.", field: "unit") }
            guard out != nil else { throw SyncError(.invalidInput, "Thiếu «--out»: tệp ghi danh sẽ ghi ra.", field: "out") }
        }
    }

    func run() async throws {
        if let restore {
            let file = try EnrolmentFile.read(path: restore)
            let added = try store.open().restoreEnrolment(file, path: restore)
            if output.json {
                let d = try JSONEncoder.canonical.encode([
                    "replica_id": file.replicaID.rawValue, "unit": file.unit, "restored": added ? "yes" : "already-enrolled",
                ])
                print(String(decoding: d, as: UTF8.self))
            } else if added {
                print(
                    "Đã ghi danh lại bản sao \(file.replicaID) của đơn vị \(file.unit) từ «\(restore)»; lần đồng bộ sau của máy đó trả lại thao tác hub còn thiếu."
                )
            } else {
                print("Hub đã có bản sao \(file.replicaID) của đơn vị \(file.unit) với đúng khóa này; không thay đổi gì.")
            }
            return
        }
        guard let unit, let out else { return }
        let https = try url.map { try SyncClient.hubURL($0, field: "url").scheme?.lowercased() == "https" } ?? false
        var pin: String?
        if let tlsCert {
            guard https else {
                throw SyncError.invalid(
                    "tls_cert", tlsCert, "chỉ dùng với --url https://…; địa chỉ «\(url ?? "")» không phải https nên không có chứng chỉ để ghim.")
            }
            pin = try TLSPin.fingerprint(pemFile: tlsCert, field: "tls_cert")
        } else if https {
            throw SyncError(
                .invalidInput,
                "Thiếu «--tls-cert»: địa chỉ hub «\(url ?? "")» dùng https, cần tệp chứng chỉ mà «hub serve --tls-cert» dùng để ghim dấu vân tay SHA-256 của nó vào tệp ghi danh.",
                field: "tls_cert")
        }
        let id = try replica.map { try ReplicaID.parse($0) }
        let old = try replaces.map { try ReplicaID.parse($0, field: "replaces") }
        let s = try store.open()
        let file = try s.enrol(unit: unit, hubURL: url, replica: id, tlsPin: pin, replacing: old)
        do {
            try file.write(path: out)
        } catch {
            // Without the file the secret is lost: take the enrolment back.
            try? s.withdrawEnrolment(file.replicaID)
            throw error
        }
        if output.json {
            var fields = ["replica_id": file.replicaID.rawValue, "unit": file.unit, "file": out]
            if let pin { fields["hub_tls_sha256"] = pin }
            if let r = file.replaces {
                fields["replaces"] = r.replica.rawValue
                fields["replaces_held"] = String(r.held)
            }
            let d = try JSONEncoder.canonical.encode(fields)
            print(String(decoding: d, as: UTF8.self))
        } else {
            print(
                "Đã ghi danh bản sao \(file.replicaID) cho đơn vị \(file.unit); tệp ghi danh: \(out)"
                    + (pin.map { "; ghim chứng chỉ hub SHA-256 \($0)" } ?? "")
                    + (file.replaces.map {
                        "; thay cho bản sao \($0.replica) (đã thu hồi; hub giữ \($0.held) thao tác của nó): trên máy đó chạy «unit-client rehome --enrolment \(out)»"
                    } ?? ""))
        }
    }
}

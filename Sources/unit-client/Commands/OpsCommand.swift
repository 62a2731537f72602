import ArgumentParser
import CommandSupport
import Foundation
import SyncCore

struct OpsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ops", abstract: "Trao đổi thao tác dạng tệp giữa các bản sao, kể cả chuyển tiếp (thao tác đã ký, được kiểm tra khi nhập).",
        subcommands: [Export.self, Import.self])

    enum FileForm: String, CaseIterable {
        case compact, json
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "export", abstract: "Ghi các thao tác ra tệp (tất cả, hoặc những gì sau véc-tơ --since), kèm chữ ký của tác giả.",
            discussion: """
                Tệp mang thao tác của mọi bản sao mà máy này giữ, mỗi chuỗi kèm chữ ký của tác giả: máy nhận kiểm tra
                lại toàn bộ, nên một máy trung gian (ví dụ máy xách tay của TTQLCK) có thể mang thao tác của Văn phòng
                và của hub sang máy khác. Mặc định dạng gọn (mã hóa như khi đồng bộ); --format json cho dạng đọc được,
                vẫn được kiểm tra khi nhập: sửa bất kỳ giá trị nào thì tệp bị từ chối.
                """)
        @OptionGroup var store: StoreOptions
        @Option(help: "Chỉ xuất thao tác sau véc-tơ này, dạng «bản_sao:số,bản_sao:số».")
        var since: String?
        @Option(help: "Dạng tệp: compact (mặc định) hoặc json.", transform: Choice<FileForm>.reading("format"))
        var format: FileForm = .compact
        @Option(help: "Tệp ra.")
        var out: String

        func run() async throws {
            let vv = try since.map { try VersionVector.parse($0, field: "since") } ?? VersionVector()
            let s = try store.open()
            let me = try s.requireIdentity()
            try s.prepareToSend()
            var have = VersionVector()
            let count: Int
            let heads: Int
            if format == .json {
                // The readable form is built in memory (for reading and small files); the compact
                // form is written page by page.
                let batch = try s.ops(after: vv)
                have = try s.versionVector()
                let file = OpsFile(replica: me.replica, unit: me.unit, versionVector: have, batch: batch)
                try UserFile.write(try file.encoded(), to: out, field: "out")
                (count, heads) = (batch.count, batch.heads.count)
            } else {
                var writer: OpsFileWriter?
                try s.forEachOpsPage(
                    after: vv,
                    start: { v in
                        have = v
                        writer = try OpsFileWriter(path: out, replica: me.replica, unit: me.unit, versionVector: v)
                    },
                    { page in try writer?.write(page) })
                guard let writer else { throw SyncError(.internal, "Không bắt đầu được tệp «\(out)».") }
                try writer.finish()
                (count, heads) = (writer.ops, writer.heads)
            }
            // Ops received from the release before signing (not yet covered by their author's
            // signature) cannot be verified by a receiver, so they are not carried.
            var lacking: UInt64 = 0
            for (o, c) in have.sorted where o != .genesis && c > vv[o] { lacking += c - vv[o] }
            let left = lacking > UInt64(count) ? lacking - UInt64(count) : 0
            print(
                "Đã xuất \(count) thao tác (\(heads) chữ ký) ra \(out)."
                    + (left > 0 ? " \(left) thao tác cũ chưa được tác giả ký không được xuất; chúng sẽ đến qua hub." : ""))
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import",
            abstract: "Nhập thao tác từ tệp sau khi kiểm tra chuỗi và chữ ký; thao tác đã có được bỏ qua, nhập lại không thay đổi gì.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "Tệp thao tác.")
        var file: String

        func run() async throws {
            let s = try store.open()
            // The compact form is read, verified and applied page by page in one transaction: a
            // file found cut or damaged at any page changes nothing (docs/PROTOCOL.md, "Ops files").
            let r = try OpsFileReader.importing(path: file) { pages in try s.apply(pages: pages, source: .peer(authenticated: nil, unit: nil)) }
            print("Đã nhập: \(r.applied) mới, \(r.duplicates) đã có, \(r.heldBack) chờ, \(r.conflicts) xung đột.")
        }
    }
}

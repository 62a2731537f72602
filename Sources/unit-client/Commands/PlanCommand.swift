import ArgumentParser
import CommandSupport
import Foundation
import SyncCore

struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan", abstract: "Kế hoạch tuyên truyền CCHC theo năm: xem, sửa đổi (Văn phòng), nhập Kế hoạch năm mới (Văn phòng).",
        discussion: """
            Kế hoạch là dữ liệu được đồng bộ: Văn phòng sửa đổi hoặc nhập Kế hoạch năm mới, mọi đơn vị nhận được sau khi đồng bộ,
            không cần cài lại chương trình. Năm Kế hoạch tính theo ngày chốt số liệu: từ 15/12 năm trước đến 14/12.
            """,
        subcommands: [Show.self, Amend.self, Import.self], defaultSubcommand: Show.self)

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show", abstract: "Kế hoạch đang áp dụng cho một năm: đơn vị, nội dung (ND), hình thức (HT), nhiệm vụ (TN).")
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions
        @Option(help: "Năm Kế hoạch (mặc định: năm Kế hoạch của hôm nay, hoặc năm mới nhất bản sao có).")
        var year: Int?

        func run() async throws {
            // Without a replica (before `init`), the plan that ships with the programs.
            let book: PlanBook
            var shipped = false
            if FileManager.default.fileExists(atPath: store.path), let s = try? ReplicaStore.open(path: store.path), try s.isInitialised() {
                book = try s.planBook()
            } else {
                let base = Catalog.standard
                book = PlanBook(base: base, years: [base.plan.year: base])
                shipped = true
            }
            let wanted = year ?? PlanBook.planYear(of: CalendarDay.today())
            let y = year ?? (book.plan(year: wanted) != nil ? wanted : book.years.keys.max() ?? wanted)
            let c = try book.requirePlan(year: y, field: "year", value: String(y))
            if output.json { return try printJSON(c) }
            print(c.plan.title)
            if shipped { print("(Kế hoạch kèm chương trình; chưa có bản sao ở «\(store.path)», nên chưa gồm các sửa đổi của Văn phòng.)") }
            let others = book.years.keys.sorted().filter { $0 != y }
            if !others.isEmpty { print("Bản sao còn có Kế hoạch năm: \(others.map(String.init).joined(separator: ", ")) (--year).") }
            func dates(_ from: String?, _ retired: String?) -> String {
                var out = ""
                if let from { out += " [áp dụng từ \(CalendarDay.vietnamese(from))]" }
                if let retired { out += " [thôi áp dụng từ \(CalendarDay.vietnamese(retired))]" }
                return out
            }
            print("\nĐơn vị:")
            for u in c.units { print("  \(u.code.padding(toLength: 12, withPad: " ", startingAt: 0)) \(u.name)") }
            print("\nNội dung tuyên truyền:")
            for i in c.contentItems { print("  \(i.code)  \(i.title)\(dates(i.validFrom, i.retiredOn))") }
            print("\nHình thức tuyên truyền (đơn vị tính):")
            for f in c.forms {
                var m = f.quantityUnit
                if let p = f.participantsUnit { m += "; \(p)" }
                if f.requiresURL { m += "; kèm đường dẫn" }
                print("  \(f.code)  \(f.title) (\(m))\(dates(f.validFrom, f.retiredOn))")
            }
            print("\nNhiệm vụ tổ chức thực hiện:")
            for d in c.duties { print("  \(d.code)  [\(d.units.joined(separator: ", "))] \(d.title)\(dates(d.validFrom, d.retiredOn))") }
            let cal = c.calendar
            print("\nKỳ báo cáo (theo \(cal.basis)\(c.reporting == nil ? ", mặc định" : "")):")
            let py = c.plan.year
            for p in [ReportPeriod.quarter(py, 1), .quarter(py, 2), .halfYear(py), .quarter(py, 3), .nineMonths(py), .quarter(py, 4), .year(py)] {
                let w = cal.window(p)
                let due = cal.deadline(p).map { "; hạn gửi \(CalendarDay.vietnamese($0))" } ?? ""
                print(
                    "  \(p.description.padding(toLength: 8, withPad: " ", startingAt: 0)) \(CalendarDay.vietnamese(w.from)) → \(CalendarDay.vietnamese(w.to))\(due)"
                )
            }
        }
    }

    struct Amend: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "amend", abstract: "Sửa đổi Kế hoạch của một năm (chỉ Văn phòng): thêm nội dung, hình thức, nhiệm vụ; thôi áp dụng một mục.",
            discussion: """
                Ví dụ:
                  unit-client plan amend --year 2026 --add-content ND12 --title "Tuyên truyền Luật Dữ liệu"
                  unit-client plan amend --year 2026 --add-form HT10 --title "Phóng sự truyền hình" --measure "phóng sự"
                  unit-client plan amend --year 2026 --add-duty TN07 --unit TTQLCK --title "Tuyên truyền thủ tục xuất nhập cảnh"
                  unit-client plan amend --year 2026 --retire-content ND09 --on 2026-07-01
                Một mục đã thôi áp dụng vẫn đúng cho các hoạt động trước ngày đó và vẫn có trong báo cáo các kỳ gồm ngày đó.
                """)
        @OptionGroup var store: StoreOptions
        @Option(help: "Năm Kế hoạch được sửa đổi.")
        var year: Int
        @Option(name: .customLong("add-content"), help: "Thêm nội dung tuyên truyền (mã ND.., cần --title).")
        var addContent: String?
        @Option(name: .customLong("add-form"), help: "Thêm hình thức tuyên truyền (mã HT.., cần --title và --measure).")
        var addForm: String?
        @Option(name: .customLong("add-duty"), help: "Thêm nhiệm vụ (mã TN.., cần --title và ít nhất một --unit); giao nhiệm vụ cho từng đơn vị.")
        var addDuty: String?
        @Option(help: "Tên của mục được thêm.")
        var title: String?
        @Option(help: "Đơn vị tính của hình thức được thêm (ví dụ: tin bài, buổi).")
        var measure: String?
        @Option(help: "Đơn vị tính số người của hình thức được thêm (ví dụ: lượt người tham dự).")
        var people: String?
        @Flag(name: .customLong("requires-url"), help: "Hoạt động của hình thức được thêm phải kèm đường dẫn.")
        var requiresURL = false
        @Option(name: .customLong("unit"), help: "Đơn vị thực hiện nhiệm vụ được thêm (lặp lại cho nhiều đơn vị).")
        var units: [String] = []
        @Option(help: "Ngày bắt đầu áp dụng mục được thêm (YYYY-MM-DD; mặc định: cả năm Kế hoạch).")
        var from: String?
        @Option(name: .customLong("retire-content"), help: "Thôi áp dụng một nội dung (mã ND..).")
        var retireContent: String?
        @Option(name: .customLong("retire-form"), help: "Thôi áp dụng một hình thức (mã HT..).")
        var retireForm: String?
        @Option(name: .customLong("retire-duty"), help: "Thôi áp dụng một nhiệm vụ (mã TN..).")
        var retireDuty: String?
        @Option(help: "Ngày thôi áp dụng (YYYY-MM-DD; mặc định: hôm nay).")
        var on: String?

        func run() async throws {
            func need(_ value: String?, _ field: String, _ why: String) throws -> String {
                guard let value, !value.trimmingCharacters(in: .whitespaces).isEmpty else { throw SyncError.invalid(field, "", why) }
                return value
            }
            var amendments: [PlanAmendment] = []
            if let code = addContent?.uppercased() {
                amendments.append(.addContent(code: code, title: try need(title, "title", "cần --title cho nội dung \(code)."), from: from))
            }
            if let code = addForm?.uppercased() {
                amendments.append(
                    .addForm(
                        code: code, title: try need(title, "title", "cần --title cho hình thức \(code)."),
                        measure: try need(measure, "measure", "cần --measure (đơn vị tính) cho hình thức \(code)."), people: people,
                        requiresURL: requiresURL, from: from))
            }
            if let code = addDuty?.uppercased() {
                guard !units.isEmpty else { throw SyncError.invalid("unit", "", "cần ít nhất một --unit cho nhiệm vụ \(code).") }
                amendments.append(
                    .addDuty(code: code, title: try need(title, "title", "cần --title cho nhiệm vụ \(code)."), units: units, from: from))
            }
            let day = on ?? CalendarDay.today()
            for code in [retireContent, retireForm, retireDuty].compactMap({ $0?.uppercased() }) { amendments.append(.retire(code: code, on: day)) }
            guard !amendments.isEmpty else {
                throw SyncError.invalid(
                    "amend", "", "cần ít nhất một thay đổi: --add-content, --add-form, --add-duty, --retire-content, --retire-form, --retire-duty.")
            }
            let adds = [addContent, addForm, addDuty].compactMap { $0 }.count
            if adds > 1 { throw SyncError.invalid("amend", "", "mỗi lần chỉ thêm một mục (--title dùng cho mục đó).") }
            let s = try store.open()
            let r = try s.amendPlan(year: year, amendments)
            print(
                "Đã sửa đổi Kế hoạch năm \(year): \(r.entries) mục\(r.tasks > 0 ? ", giao \(r.tasks) nhiệm vụ cho đơn vị" : "") (\(r.ops) thay đổi).")
            print("Các đơn vị nhận được sau khi đồng bộ («unit-client sync»).")
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import", abstract: "Nhập Kế hoạch một năm từ tệp JSON (chỉ Văn phòng), ví dụ plans/2027.json.",
            discussion: """
                Tệp có dạng của plans/2026.json (có thể không có «units»). Nhập lại một tệp chỉ ghi những gì khác với Kế hoạch đang có.
                Mỗi nhiệm vụ (TN..) được giao cho các đơn vị tệp nêu.
                """)
        @OptionGroup var store: StoreOptions
        @Argument(help: "Tệp Kế hoạch (JSON).")
        var file: String

        func run() async throws {
            let data = try UserFile.read(file, field: "file")
            let plan: Catalog
            do {
                plan = try JSONDecoder().decode(Catalog.self, from: data)
            } catch let DecodingError.keyNotFound(key, context) {
                let path = (context.codingPath + [key]).map(\.stringValue).joined(separator: ".")
                throw SyncError.invalid("file", file, "tệp Kế hoạch thiếu trường «\(path)» (xem plans/2026.json).")
            } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
                let path = context.codingPath.map(\.stringValue).joined(separator: ".")
                throw SyncError.invalid("file", file, "trường «\(path)» của tệp Kế hoạch sai kiểu dữ liệu (xem plans/2026.json).")
            } catch {
                throw SyncError.invalid("file", file, "không phải tệp JSON hợp lệ.")
            }
            let s = try store.open()
            let r = try s.importPlan(plan)
            if r.ops == 0 {
                print("Kế hoạch năm \(r.year) đã có đúng như tệp; không có gì thay đổi.")
            } else {
                print("Đã nhập Kế hoạch năm \(r.year): \(r.entries) mục, giao \(r.tasks) nhiệm vụ cho đơn vị (\(r.ops) thay đổi).")
                print("Các đơn vị nhận được sau khi đồng bộ («unit-client sync»).")
            }
        }
    }
}

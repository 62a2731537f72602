import ArgumentParser
import CommandSupport
import Foundation
import SyncCore

extension ActivityCommand {
    /// Fields shared by add and edit.
    struct Fields: ParsableArguments {
        @Option(help: "Hình thức (HT01–HT09, xem «unit-client plan»).")
        var form: String?
        @Option(help: "Nội dung, một hoặc nhiều mã cách nhau bằng dấu phẩy (ND01–ND11).")
        var content: String?
        @Option(help: "Ngày thực hiện (YYYY-MM-DD).")
        var date: String?
        @Option(help: "Tiêu đề.")
        var title: String?
        @Option(help: "Mô tả.")
        var description: String?
        @Option(
            parsing: .unconditional, help: "Số lượng, theo đơn vị tính của hình thức (lớp, tin bài, tờ rơi…).",
            transform: CountChange.reading("quantity"))
        var quantity: CountChange?
        @Option(parsing: .unconditional, help: "Số người tham dự / được tiếp cận.", transform: CountChange.reading("participants"))
        var participants: CountChange?
        @Option(help: "Đường dẫn (http/https) tới tin, bài, bài đăng.")
        var url: String?
        @Option(help: "Ghi chú.")
        var note: String?
        @Option(
            help:
                "Nhiệm vụ của Kế hoạch mà hoạt động phục vụ (TN01…, xem «unit-client plan»); khi thêm mà không ghi thì gợi ý theo đơn vị, hình thức và nội dung."
        )
        var duty: String?

        func changes() -> [(String, Value)] {
            var c: [(String, Value)] = []
            if let date { c.append(("date", .text(date))) }
            if let form { c.append(("form", .text(form.uppercased()))) }
            if let content { c.append(("content", .text(content))) }
            if let title { c.append(("title", .text(title))) }
            if let description { c.append(("description", description.isEmpty ? .null : .text(description))) }
            if let quantity { c.append(("quantity", quantity.value)) }
            if let participants { c.append(("participants", participants.value)) }
            if let url { c.append(("url", url.isEmpty ? .null : .text(url))) }
            if let note { c.append(("note", note.isEmpty ? .null : .text(note))) }
            if let duty { c.append(("duty", duty.isEmpty ? .null : .text(duty.uppercased()))) }
            return c
        }
    }
}

/// Forms the plan marks (web articles and social posts, HT06, HT07 in 2026) must carry the URL of
/// what was published: checked against the plan of the activity's date.
func checkURLRequirement(store: ReplicaStore, date: String?, form: String?, url: String?) throws {
    guard let form, let date, CalendarDay.isValid(date), let plan = try store.planBook().plan(year: PlanBook.planYear(of: date)),
        let f = plan.form(form.uppercased()), f.requiresURL
    else { return }
    if url == nil || url?.isEmpty == true {
        throw SyncError.invalid("url", "", "hình thức \(f.code) (\(f.title)) cần đường dẫn tới bài đã đăng (--url).")
    }
}

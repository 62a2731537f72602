import Foundation
import SyncCore

/// A record's audit history, as `unit-client history` and `hub history` print it: as JSON (the
/// array of `HistoryEntry`), or a header with the record's state and one block per op.
public func printHistory(_ h: RecordHistory, json: Bool) throws {
    if json { return try printJSON(h.entries) }
    let kind = h.record.kind
    let state: String
    if !h.exists {
        state = "chưa áp dụng (mọi thao tác về bản ghi đang chờ khoảng trống)"
    } else if h.deleted {
        state = "đã xóa"
    } else {
        state = kind == .replica ? "đang có hiệu lực (bản đăng ký không xóa được)" : "đang có hiệu lực (chưa xóa)"
    }
    let conflicts = h.conflicts.isEmpty ? "" : "; đang xung đột: \(h.conflicts.joined(separator: ", "))"
    print("Lịch sử \(kind.label) \(h.record.rawValue) — hiện trạng: \(state)\(conflicts)")
    print("\(h.entries.count) thao tác, theo thứ tự áp dụng (HLC, rồi mã thao tác); giờ Việt Nam (Asia/Ho_Chi_Minh).")
    let specs = EntitySchema.fields(kind)
    func fieldName(_ f: String) -> String {
        guard let label = specs.first(where: { $0.name == f })?.label else { return f }
        return "\(f) (\(label))"
    }
    for (n, e) in h.entries.enumerated() {
        print("")
        let held = e.applied ? "" : "  [đang chờ — chưa áp dụng]"
        // The plan's seed carries no time (HLC 0): every replica makes it at `init`.
        let seed = e.origin == ReplicaID.genesis.rawValue
        let time = seed && e.hlc == 0 ? "(khi khởi tạo)" : e.time
        print("#\(n + 1)  \(time)  \(fieldName(e.field)) = \(shown(e.value, field: e.field))\(held)")
        if seed {
            print("    Người ghi:  genesis — dữ liệu gốc của kế hoạch, mọi bản sao tự tạo từ danh mục")
        } else {
            let machine = e.machine.map { " — máy «\($0)»" } ?? " — máy chưa rõ"
            print("    Người ghi:  bản sao \(e.origin) — đơn vị \(e.unit ?? "chưa rõ")\(machine)")
        }
        print("    Thao tác:   \(e.dot), HLC \(e.hlc) (\(HLC(rawValue: e.hlc)))")
        if e.supersedes.isEmpty {
            print("    Thay thế:   không (giá trị đầu tiên của trường trên máy ghi)")
        } else {
            for (i, r) in e.supersedes.enumerated() {
                let what = r.known ? "\(r.field.map(fieldName) ?? "?") = \(shown(r.value, field: r.field ?? ""))" : "(thao tác chưa có ở đây)"
                print("    \(i == 0 ? "Thay thế:  " : "           ") \(r.dot) — \(what)")
            }
        }
        print("    Xác minh:   \(e.verification.label)")
    }
}

/// A value as the history shows it: text in «», a number, ∅ for none; `deleted` says what it did.
private func shown(_ v: Value, field: String) -> String {
    switch v {
    case .null: return "∅ (trống)"
    case .int(let i) where field == "deleted": return i == 1 ? "1 (xóa)" : "\(i) (không xóa)"
    case .int(let i): return String(i)
    case .text(let s): return "«\(s)»"
    }
}

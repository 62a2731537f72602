import Foundation
import GRDB

extension ReplicaStore {
    /// The hub's import of an ops file carried from a laptop (`hub ops import`): ops of any origin,
    /// each verified as every receiver verifies them (chain and signature) and applied in one
    /// transaction, but only for origins this hub enrolled and has not revoked, and a replica's
    /// registration only for the unit it was enrolled for. What it is for: a hub put back from a
    /// backup lacks the ops acknowledged after it; their authors give them back at their next
    /// sync, and one whose author no longer syncs is carried in by another laptop that holds it.
    public func importRelayed(pages next: () throws -> OpBatch?, path: String) throws -> ApplyReport {
        nonisolated(unsafe) let next = next
        return try writeVerifying(source: "ops-file") { db in
            var enrolled: [ReplicaID: String] = [:]
            let checked: () throws -> OpBatch? = {
                guard let page = try next() else { return nil }
                for op in page.ops where op.dot.origin != .genesis {
                    let origin = op.dot.origin
                    let unit: String
                    if let known = enrolled[origin] {
                        unit = known
                    } else {
                        guard let e = try Self.enrolment(db, origin) else {
                            throw SyncError(
                                .forbidden,
                                "Tệp «\(path)» mang thao tác \(op.dot) của bản sao \(origin) chưa được ghi danh ở hub này; không nhập gì. Nếu hub vừa được khôi phục từ bản sao lưu cũ hơn lần ghi danh đó, chạy trước «hub enrol --restore TỆP.enrol».",
                                field: "origin", value: origin.rawValue)
                        }
                        if let revoked = e.revokedAt {
                            throw SyncError(
                                .forbidden,
                                "Tệp «\(path)» mang thao tác \(op.dot) của bản sao \(origin), đã bị thu hồi lúc \(revoked); không nhập gì.",
                                field: "origin", value: origin.rawValue)
                        }
                        enrolled[origin] = e.unit
                        unit = e.unit
                    }
                    if op.field == "unit", let record = try? RecordID.parse(op.record), record.kind == .replica, record.owner == origin.rawValue,
                        op.value.text != unit
                    {
                        throw SyncError(
                            .forbidden,
                            "Tệp «\(path)»: bản sao \(origin) được ghi danh cho đơn vị \(unit), không phải \(op.value) (thao tác \(op.dot)); không nhập gì.",
                            field: "unit", value: op.value.description)
                    }
                }
                return page
            }
            return try self.applyPages(checked, source: .peer(authenticated: nil, unit: nil), in: db, allowLegacy: false)
        }
    }
}

/// Who may write what (docs/SYNC-CONTRACT.md, "Who may write what"): a pure function of the writer's unit and the op.
/// The hub runs it on every op it receives; the client runs the same code before writing.
public struct Authority: Sendable {
    public let officeCode: String

    public init(officeCode: String) { self.officeCode = officeCode }

    /// Throws `forbidden` when a replica of `writerUnit` may not write `field` of `record`.
    public func check(writer: ReplicaID, writerUnit: String, record: RecordID, field: String, value: Value) throws {
        func deny(_ why: String) -> SyncError {
            SyncError(
                .forbidden, "Đơn vị \(writerUnit) không được ghi «\(field)» của \(record.kind.label) \(record.rawValue): \(why)", field: field,
                value: record.rawValue)
        }
        switch record.kind {
        case .replica:
            guard record.owner == writer.rawValue else { throw deny("chỉ bản sao đó tự đăng ký.") }
        case .activity, .report:
            guard record.owner == writerUnit else { throw deny("chỉ đơn vị sở hữu được ghi.") }
        case .directive, .draft:
            guard writerUnit == officeCode, record.owner == officeCode else {
                throw deny("chỉ Văn phòng (\(officeCode)) ghi văn bản chỉ đạo và dự thảo báo cáo tổng hợp của Ban.")
            }
        case .plan:
            guard writerUnit == officeCode else {
                throw deny("chỉ Văn phòng (\(officeCode)) chủ trì, đề xuất và sửa đổi Kế hoạch.")
            }
            return
        case .task:
            if writerUnit == officeCode { return }
            guard record.owner == writerUnit, field == "status" || field == "note" else {
                throw deny("đơn vị được giao chỉ cập nhật trạng thái và ghi chú; Văn phòng giao và sửa nhiệm vụ.")
            }
        }
        if field == "unit", value.text != record.owner, record.kind != .replica {
            throw SyncError.invalid("unit", value.description, "phải trùng với đơn vị trong mã bản ghi \(record.rawValue).")
        }
    }
}

/// Where a batch of ops comes from, which decides how far it is trusted.
public enum OpSource: Sendable {
    /// The plan's seed data, identical on every replica.
    case genesis
    /// This replica's own writes.
    case local
    /// Another replica, through the hub, a bundle or an ops file. When `authenticated` is set
    /// (the hub receiving from an enrolled replica), every op's origin must be that replica and
    /// its registration must name the enrolled unit.
    case peer(authenticated: ReplicaID?, unit: String?)
}

/// The rules every op must pass before it is applied, beside `Authority`: the schema (the field
/// exists, the value is valid and normalised) and the origin (an authenticated sender writes only
/// as itself, nobody writes as `genesis`, a replica registers its unit once, with its first op,
/// and writes only after registering). Pure: the caller supplies the origin's registered unit.
struct OpRules {
    let validator: FieldValidator
    let authority: Authority
    /// The kinds and fields this program applies; ops naming others are kept for an upgrade.
    let schema: SchemaVersion
    /// Whether `schema` is this program's whole schema (the usual case: no per-op check).
    let completeSchema: Bool

    init(catalog: Catalog, schema: SchemaVersion = .current) {
        validator = FieldValidator(catalog: catalog)
        authority = Authority(officeCode: catalog.officeCode)
        self.schema = schema
        completeSchema = schema == .current
    }

    /// Checks who wrote the op. `registeredUnit` is the unit the op's origin registered before
    /// this op (nil if none yet); `value` is the normalised value. Genesis ops are not checked.
    func checkOrigin(of op: Op, record: RecordID, value: Value, source: OpSource, registeredUnit: String?) throws {
        let origin = op.dot.origin
        switch source {
        case .genesis:
            return
        case .local, .peer:
            if case .peer(let sender?, let enrolledUnit) = source {
                guard origin == sender else {
                    throw SyncError(
                        .forbidden, "Thao tác \(op.dot) không phải của bản sao đã xác thực \(sender).", field: "origin", value: origin.rawValue)
                }
                if record.kind == .replica, op.field == "unit", let enrolledUnit, value.text != enrolledUnit {
                    throw SyncError(
                        .forbidden, "Bản sao \(sender) được đăng ký cho đơn vị \(enrolledUnit), không phải \(value).", field: "unit",
                        value: value.description)
                }
            }
            if origin == .genesis {
                throw SyncError(
                    .forbidden, "Dữ liệu khởi tạo của Kế hoạch không thể bị ghi thêm (\(op.dot)).", field: "origin", value: origin.rawValue)
            }
            let writerUnit: String
            if record.kind == .replica, record.owner == origin.rawValue, op.field == "unit" {
                guard op.dot.counter == 1, registeredUnit == nil else {
                    throw SyncError(.forbidden, "Đơn vị của bản sao \(origin) không thể thay đổi.", field: "unit", value: value.description)
                }
                writerUnit = value.text ?? ""
            } else {
                guard let registeredUnit else {
                    throw SyncError(
                        .forbidden, "Bản sao \(origin) chưa đăng ký đơn vị (thao tác \(op.dot)).", field: "origin", value: origin.rawValue)
                }
                writerUnit = registeredUnit
            }
            try authority.check(writer: origin, writerUnit: writerUnit, record: record, field: op.field, value: value)
        }
    }
}

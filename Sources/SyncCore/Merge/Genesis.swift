/// The plan's seed data as ops of the reserved `genesis` origin: the duties TN01–TN06 assigned
/// to their responsible units, with fixed ids (`NV.<unit>.<duty>`). Every replica applies the
/// same ops at `init`, so two fresh replicas have identical dumps and nothing is duplicated by sync.
public enum Genesis {
    public static func ops(catalog: Catalog) -> [Op] {
        var ops: [Op] = []
        var counter: UInt64 = 0
        func add(_ record: String, _ field: String, _ value: Value) {
            counter += 1
            ops.append(Op(dot: Dot(.genesis, counter), hlc: .zero, record: record, field: field, value: value, supersedes: []))
        }
        for duty in catalog.duties {
            for unit in duty.units {
                let id = RecordID(kind: .task, owner: unit, suffix: duty.code).rawValue
                add(id, "unit", .text(unit))
                add(id, "item", .text(duty.code))
                add(id, "title", .text(VietnameseText.nfc(duty.title)))
                add(id, "status", .text(TaskStatus.notStarted.rawValue))
                add(id, "deleted", .int(0))
            }
        }
        return ops
    }
}

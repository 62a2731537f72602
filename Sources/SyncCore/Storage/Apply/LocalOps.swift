import Foundation

/// This replica's own writes: a user's change to a record becomes one op per changed field, each
/// superseding the values of that field this replica sees.
extension ApplySession {
    mutating func makeLocalOps(
        record: RecordID, changes: [(String, Value)], delete: Bool, resolve: Bool, me: ReplicaStore.Identity, nowMillis: UInt64
    ) throws -> [Op] {
        let current = try load(record)
        let specs = EntitySchema.fields(record.kind)
        var ops: [Op] = []
        var counter = vv[me.replica]
        func next(_ field: String, _ value: Value, _ supersedes: [Dot]) {
            counter += 1
            hlc = HLC.tick(last: hlc, nowMillis: nowMillis)
            // In dot order, as the op log stores them and the chain hashes them.
            ops.append(
                Op(dot: Dot(me.replica, counter), hlc: hlc, record: record.rawValue, field: field, value: value, supersedes: supersedes.sorted()))
        }
        var changes = changes
        if delete, !changes.contains(where: { $0.0 == "deleted" }) { changes.append(("deleted", .int(1))) }
        for (field, raw) in changes {
            guard let index = specs.firstIndex(where: { $0.name == field }) else {
                throw SyncError.invalid("field", field, "\(record.kind.label) không có trường này.")
            }
            let value = try rules.validator.normalise(raw, for: specs[index])
            try rules.authority.check(writer: me.replica, writerUnit: me.unit, record: record, field: field, value: value)
            let register = current.registers[index]
            if !resolve, register?.isConflicted != true, register != nil, current.columns[index] == value { continue }
            var supersedes = register?.survivorDots ?? []
            if field == "deleted", value == .int(1) {
                // A delete supersedes what the deleter saw of every field, so that an edit it did
                // not see stays visible as a conflict instead of disappearing.
                var seen = Set<Dot>()
                for (_, r) in current.registers.entries { for d in r.survivorDots { seen.insert(d) } }
                for d in register?.contextEntries ?? [] { seen.insert(d) }
                supersedes = Array(seen).sorted()
            }
            next(field, value, supersedes)
        }
        return ops
    }

    /// The id a record created now gets: `<prefix>.<owner>.<replica>.<counter>`, the dot of its first op.
    func newRecordID(kind: EntityKind, owner: String, me: ReplicaStore.Identity) -> RecordID {
        RecordID(kind: kind, owner: owner, suffix: "\(me.replica).\(vv[me.replica] + 1)")
    }
}

/// Local writes inside one transaction (`ReplicaStore.localWrites`).
public struct LocalWriteBatch {
    var session: ApplySession
    let me: ReplicaStore.Identity
    /// Whether any op was written (a batch that wrote none leaves the database untouched).
    var wrote = false
    /// Whether activities and tasks are checked against the plan in force (`PlanBook`); off only
    /// for the tasks a plan import derives from the plan it writes in the same batch.
    var checkPlan = true
    /// The plans as the batch started (read on first need; plan entries the batch writes are
    /// stored at its end).
    var plans: PlanBook?

    /// Checks the codes an activity or task names against the plan of its date, when the change
    /// touches them (a peer's op is checked for their shape only: `FieldValidator`).
    private mutating func checkAgainstPlan(_ record: RecordID, changes: [(String, Value)]) throws {
        guard checkPlan, record.kind == .activity || record.kind == .task else { return }
        let names = Set(changes.map(\.0))
        if changes.contains(where: { $0.0 == "deleted" && $0.1 == .int(1) }) { return }
        let current = try session.load(record)
        let specs = EntitySchema.fields(record.kind)
        func value(_ field: String) throws -> Value {
            guard let i = specs.firstIndex(where: { $0.name == field }) else { return .null }
            if let c = changes.last(where: { $0.0 == field }) { return try session.rules.validator.normalise(c.1, for: specs[i]) }
            return current.columns[i]
        }
        if plans == nil { plans = try ReplicaStore.planBook(session.db, base: session.rules.validator.catalog) }
        guard let plans else { return }
        if record.kind == .activity {
            guard !names.isDisjoint(with: ["date", "form", "content", "duty"]), let date = try value("date").text else { return }
            let content = (try value("content").text ?? "").split(separator: ",").map(String.init)
            try plans.checkActivity(date: date, form: try value("form").text, content: content)
            if let duty = try value("duty").text { try plans.checkDuty(duty, unit: record.owner, date: date) }
        } else {
            guard !names.isDisjoint(with: ["item", "due"]), let item = try value("item").text else { return }
            try plans.checkTaskItem(item, on: try value("due").text ?? CalendarDay.today())
        }
    }

    /// As `ReplicaStore.createRecord`: a record owned by `owner` with a fresh id, returned.
    public mutating func create(kind: EntityKind, owner: String, changes: [(String, Value)], nowMillis: UInt64? = nil) throws -> RecordID {
        let record = session.newRecordID(kind: kind, owner: owner, me: me)
        try checkAgainstPlan(record, changes: changes)
        let ops = try session.makeLocalOps(
            record: record, changes: changes, delete: false, resolve: true, me: me, nowMillis: nowMillis ?? ReplicaStore.nowMillis())
        try session.apply(OpBatch(ops: ops), source: .local)
        wrote = wrote || !ops.isEmpty
        return record
    }

    /// As `ReplicaStore.writeRecord`: one op per changed field; returns the ops written.
    @discardableResult
    public mutating func write(_ record: RecordID, changes: [(String, Value)], delete: Bool = false, resolve: Bool = false, nowMillis: UInt64? = nil)
        throws -> [Op]
    {
        try checkAgainstPlan(record, changes: changes)
        let ops = try session.makeLocalOps(
            record: record, changes: changes, delete: delete, resolve: resolve, me: me, nowMillis: nowMillis ?? ReplicaStore.nowMillis())
        if ops.isEmpty { return [] }
        try session.apply(OpBatch(ops: ops), source: .local)
        wrote = true
        return ops
    }
}

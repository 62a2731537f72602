/// How the op log keys an op: its dot as one integer, origin index × 2^28 + counter (`op.id`).
enum OpKey {
    static let counterBits: Int64 = 28
    /// The highest counter an op may have (2^28 - 1 = 268,435,455): a replica writing 1,000 ops
    /// a day would need seven centuries to reach it.
    static let maxCounter: UInt64 = 1 << 28 - 1
    static func id(_ originIndex: Int64, _ counter: UInt64) -> Int64 { originIndex << counterBits | Int64(counter & maxCounter) }

    /// Refuses what the op log cannot store: a timestamp too far ahead (`HLC.latestAccepted`),
    /// a counter out of range (`OpKey.maxCounter`) in the op's dot or in what it supersedes, and
    /// a `supersedes` that names a later op of the same origin. Checked for the whole batch
    /// before anything is applied or held back.
    /// Takes the three parts of the op it reads: the batch passes them out of its array, so its
    /// ops are not copied whole (record, field, value) to be checked.
    static func checkStorable(dot: Dot, hlc: HLC, supersedes: [Dot]) throws {
        if supersedes.count > 10_000 {
            throw SyncError.invalid("supersedes", String(supersedes.count), "thao tác \(dot) thay thế quá 10000 giá trị.")
        }
        if let later = supersedes.first(where: { $0.origin == dot.origin && $0.counter >= dot.counter }) {
            throw SyncError.invalid("supersedes", later.description, "thao tác \(dot) thay thế một thao tác không thể có trước nó.")
        }
        guard hlc <= .latestAccepted else {
            throw SyncError.invalid("hlc", String(hlc.rawValue), "thời điểm của thao tác \(dot) vượt quá năm 6429.")
        }
        func check(_ d: Dot) throws {
            guard d.counter == 0 || d.counter > OpKey.maxCounter else { return }
            throw SyncError.invalid("counter", String(d.counter), "bộ đếm của thao tác phải từ 1 đến \(OpKey.maxCounter).")
        }
        try check(dot)
        for d in supersedes { try check(d) }
    }
}

/// How the op log names a record and field in one integer (`op.target`): the record's reference
/// shifted left by `fieldBits`, plus the field's schema index. The reference of a record of the
/// first four kinds (codes 0–3, as v1 stored them) is `typed rowid × 4 + code`, ≥ 0; kinds added
/// later (code ≥ 4, from the plan's entries on) take the negative references
/// `~(typed rowid × 64 + code − 4)`, so no stored target ever changes meaning.
enum OpTarget {
    /// Bits for the field's schema index: every kind has fewer than 32 fields (checked by a test).
    static let fieldBits: Int64 = 5
    static func reference(_ target: Int64) -> Int64 { target >> fieldBits }
    static func field(_ target: Int64) -> Int { Int(target & (1 << fieldBits - 1)) }

    /// The reference of the record of `kind` at `rowid`.
    static func reference(kind: EntityKind, rowid: Int64) -> Int64 {
        kind.code < 4 ? rowid << 2 | kind.code : ~(rowid << 6 | (kind.code - 4))
    }

    /// The kind and typed rowid a reference names (nil kind: no kind has that code).
    static func decode(_ reference: Int64) -> (kind: EntityKind?, rowid: Int64) {
        if reference >= 0 { return (EntityKind(code: reference & 3), reference >> 2) }
        let r = ~reference
        return (EntityKind(code: (r & 63) + 4), r >> 6)
    }
}

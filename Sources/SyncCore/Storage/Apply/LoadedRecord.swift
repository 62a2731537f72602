/// One record as a batch sees it: the winners in schema order (the typed row's columns) and each
/// field's register.
struct LoadedRecord {
    let id: RecordID
    /// The typed row's rowid: with the kind, the record's reference in the op log.
    var rowid: Int64 = 0
    var columns: [Value]
    var registers = RegisterSet()
    var dirty = false
    /// Whether the record had conflicted fields when it was loaded (so its conflict rows need rewriting).
    var hadConflicts = false
    /// A record new in this batch: its rowid is reserved, its row is inserted by `finish`.
    var isNewRow = false

    init(id: RecordID) {
        self.id = id
        columns = Array(repeating: .null, count: EntitySchema.fields(id.kind).count)
    }

    var reference: Int64 { OpTarget.reference(kind: id.kind, rowid: rowid) }

    /// The op log's `target` of field `field` of this record: the reference and the field in one integer.
    func target(_ field: Int) -> Int64 { reference << OpTarget.fieldBits | Int64(field) }

    /// Applies an op to a field's register in place; returns the outcome, whether the field had
    /// no register before, and the winner after.
    mutating func apply(_ version: Version, supersedes: [Dot], to field: Int) -> (Register.Outcome, isNew: Bool, winner: Version?) {
        // In place, so the register's storage is not copied.
        let ((outcome, winner), isNew) = registers.update(field) { register in
            (register.apply(version, supersedes: supersedes), register.winner)
        }
        return (outcome, isNew, winner)
    }

    /// Binds the typed row's parameters (the fields in schema order, `meta`, rowid and, for a new
    /// row, the id) to `write`, the kind's update or insert; `buffer` is scratch for `meta`.
    mutating func bindRow(to write: RawStatement, origins: OriginTable, buffer: inout VarintWriter) throws {
        let deleted = deletedIndex
        var parameter: Int32 = 1
        for n in columns.indices {
            if n == deleted, case .null = columns[n] {
                write.bind(parameter, Int64(0))
            } else {
                write.bind(parameter, columns[n])
            }
            parameter += 1
        }
        try RegisterCodec.encode(registers, origins: origins, into: &buffer)
        write.bind(parameter, bytes: buffer.bytes, emptyIsNull: false)
        write.bind(parameter + 1, rowid)
        if isNewRow { write.bind(parameter + 2, id.rawValue) }
    }

    var deletedIndex: Int? { Self.deletedIndices[Int(id.kind.code)] }

    /// Each kind's `deleted` field index, by `EntityKind.code` (looked up by name once).
    private static let deletedIndices: [Int?] = {
        var out = [Int?](repeating: nil, count: EntityKind.allCases.count)
        for kind in EntityKind.allCases { out[Int(kind.code)] = EntitySchema.index(of: "deleted", in: kind) }
        return out
    }()

    /// Whether `conflictedFields` is not empty, decided without building the list of names.
    var hasConflictedFields: Bool {
        for (_, r) in registers.entries where r.isConflicted { return true }
        guard let di = deletedIndex, columns[di] == .int(1), let deleteRegister = registers[di] else { return false }
        return registers.entries.contains { i, r in
            i != di && r.survivors.contains { !deleteRegister.covers($0.dot) }
        }
    }

    /// The fields in conflict: those with several survivors, plus `deleted` when the record is
    /// deleted while another field holds a value the deleter had not seen (a concurrent edit).
    var conflictedFields: [String] {
        let specs = EntitySchema.fields(id.kind)
        var out: [String] = []
        for (i, r) in registers.entries where r.isConflicted { out.append(specs[i].name) }
        if let di = deletedIndex, columns[di] == .int(1), let deleteRegister = registers[di], !out.contains("deleted") {
            let concurrent = registers.entries.contains { i, r in
                i != di && r.survivors.contains { !deleteRegister.covers($0.dot) }
            }
            if concurrent { out.append("deleted") }
        }
        return out
    }
}

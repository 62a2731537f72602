import GRDB

/// The end of a batch: touched records (columns and registers), the conflict list, the vector and
/// the clock are written once, whatever the number of ops.
extension ApplySession {
    @discardableResult
    mutating func finish() throws -> ApplyReport {
        for slot in records.indices where records[slot].dirty {
            try save(slot)
            let fields = records[slot].conflictedFields
            if records[slot].hadConflicts || !fields.isEmpty {
                let id = records[slot].id.rawValue
                try db.cachedStatement(sql: "DELETE FROM conflict WHERE record = ?").execute(arguments: [id])
                let insert = try db.cachedStatement(sql: "INSERT INTO conflict(record, field) VALUES (?, ?)")
                for f in fields { try insert.execute(arguments: [id, f]) }
                records[slot].hadConflicts = !fields.isEmpty
            }
            report.conflicts += fields.count
            records[slot].dirty = false
        }
        for o in vvDirty {
            try db.execute(
                sql: "INSERT INTO version_vector(origin, counter) VALUES (?, ?) ON CONFLICT(origin) DO UPDATE SET counter = excluded.counter",
                arguments: [try index(of: o), Int64(vv[o])])
        }
        vvDirty.removeAll()
        try db.execute(
            sql: "INSERT INTO local_state(key, value) VALUES ('hlc', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            arguments: [Int64(bitPattern: hlc.rawValue)])
        return report
    }

    /// Writes one record's typed row: its winners, `deleted` as 0 rather than NULL, and its
    /// registers (`meta`); inserts the row of a record new in this batch.
    private mutating func save(_ slot: Int) throws {
        let kind = records[slot].id.kind
        let fieldCount = EntitySchema.fields(kind).count
        // Same parameters for both: the fields, meta, rowid (and, for a new row, the id).
        let isNew = records[slot].isNewRow
        let write = isNew ? try statements.recordInsert(kind, db) : try statements.recordUpdate(kind, db)
        let deleted = records[slot].deletedIndex
        var parameter: Int32 = 1
        for n in 0..<fieldCount {
            let v = records[slot].columns[n]
            write.bind(parameter, n == deleted && v == .null ? .int(0) : v)
            parameter += 1
        }
        if kind == .replica, let ui = EntitySchema.index(of: "unit", in: .replica), let u = records[slot].columns[ui].text,
            let replica = ReplicaID(records[slot].id.owner)
        {
            replicaUnits[replica] = u
        }
        try RegisterCodec.encode(records[slot].registers, origins: origins, into: &buffer)
        write.bind(parameter, bytes: buffer.bytes, emptyIsNull: false)
        write.bind(parameter + 1, records[slot].rowid)
        if isNew { write.bind(parameter + 2, records[slot].id.rawValue) }
        try write.execute(db)
        records[slot].isNewRow = false
    }
}

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
        // This machine's own ops of the batch end at a signed head.
        if let signer, vvDirty.contains(signer.replica), let hash = chains[signer.replica],
            headsOut.last(where: { $0.origin == signer.replica })?.counter != vv[signer.replica]
        {
            try signHead(signer.replica, vv[signer.replica], hash)
        }
        for o in vvDirty {
            try db.execute(
                sql: """
                    INSERT INTO version_vector(origin, counter, hash) VALUES (?, ?, ?)
                    ON CONFLICT(origin) DO UPDATE SET counter = excluded.counter, hash = excluded.hash
                    """,
                arguments: [try index(of: o), Int64(vv[o]), chains[o]?.data])
        }
        for (o, legacy) in legacyRaised {
            try db.execute(sql: "UPDATE version_vector SET legacy = max(legacy, ?) WHERE origin = ?", arguments: [Int64(legacy), try index(of: o)])
        }
        try writeHeads()
        vvDirty.removeAll()
        legacyRaised.removeAll()
        try db.execute(
            sql: "INSERT INTO local_state(key, value) VALUES ('hlc', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            arguments: [Int64(bitPattern: hlc.rawValue)])
        keepRecords()
        return report
    }

    /// Hands the records, now as written, to the store's cache (kept once the transaction
    /// commits), moving them rather than copying. A record whose reserved row was never inserted
    /// is not kept. The session holds no record afterwards (one used again is read again).
    private mutating func keepRecords() {
        var kept: [String: LoadedRecord] = [:]
        swap(&kept, &cached)
        if kept.count + records.count > RecordCache.capacity { kept = [:] }
        while let r = records.popLast() {
            if !r.dirty && !r.isNewRow { kept[r.id.rawValue] = r }
        }
        recordSlot = [:]
        lastRecord = nil
        cache.stage(cacheGeneration, kept)
    }

    /// Writes one record's typed row: its winners, `deleted` as 0 rather than NULL, and its
    /// registers (`meta`); inserts the row of a record new in this batch.
    private mutating func save(_ slot: Int) throws {
        let kind = records[slot].id.kind
        // Same parameters for both: the fields, meta, rowid (and, for a new row, the id).
        let write = records[slot].isNewRow ? try statements.recordInsert(kind, db) : try statements.recordUpdate(kind, db)
        if kind == .replica, let ui = EntitySchema.index(of: "unit", in: .replica), let u = records[slot].columns[ui].text,
            let replica = ReplicaID(records[slot].id.owner)
        {
            replicaUnits[replica] = u
        }
        // A mutating call works on the record in place; reading it through the array's getter
        // copied the whole record (ids, columns, registers) per save.
        try records[slot].bindRow(to: write, origins: origins, buffer: &buffer)
        try write.execute(db)
        records[slot].isNewRow = false
    }

    /// Stores the batch's heads, then thins each origin's verified heads so that no two kept
    /// neighbours of a dropped one are more than `SignedHead.spacing` apart.
    private mutating func writeHeads() throws {
        guard !headsOut.isEmpty else { return }
        let insert = try db.cachedStatement(
            sql: """
                INSERT INTO signed_head(origin, counter, hash, signature, checked) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(origin, counter) DO UPDATE SET hash = coalesce(excluded.hash, hash), signature = excluded.signature,
                    checked = max(checked, excluded.checked)
                """)
        var lowest: [Int64: UInt64] = [:]
        for h in headsOut {
            let index = try index(of: h.origin)
            try insert.execute(arguments: [index, Int64(h.counter), h.hash?.data, h.signature, h.checked ? 1 : 0])
            if h.hash != nil { lowest[index] = min(lowest[index] ?? .max, h.counter) }
        }
        headsOut.removeAll()
        for (index, low) in lowest {
            let from = low > 2 * SignedHead.spacing ? low - 2 * SignedHead.spacing : 0
            let rows = try Row.fetchAll(
                db, sql: "SELECT counter FROM signed_head WHERE origin = ? AND counter >= ? AND hash IS NOT NULL ORDER BY counter",
                arguments: [index, Int64(from)])
            let counters = rows.map { UInt64($0[0] as Int64) }
            guard counters.count > 2 else { continue }
            var kept = counters[0]
            let delete = try db.cachedStatement(sql: "DELETE FROM signed_head WHERE origin = ? AND counter = ?")
            for i in 1..<(counters.count - 1) {
                if counters[i + 1] - kept <= SignedHead.spacing {
                    try delete.execute(arguments: [index, Int64(counters[i])])
                } else {
                    kept = counters[i]
                }
            }
        }
    }
}

import GRDB

/// The prepared statements one batch runs per op or per record, from the connection's statement
/// cache once per batch: looking one up by its SQL text costs a hash per op, and preparing it per
/// batch was 1–3% of a merge. Per-kind statements are indexed by `EntityKind.code`.
struct StatementCache {
    private var insertOp: Statement?
    private var select: [Statement?] = Array(repeating: nil, count: EntityKind.allCases.count)
    private var update: [Statement?] = Array(repeating: nil, count: EntityKind.allCases.count)
    private var insert: [Statement?] = Array(repeating: nil, count: EntityKind.allCases.count)

    /// `INSERT INTO op(id, hlc, target, value, supersedes)`.
    mutating func opInsert(_ db: Database) throws -> RawStatement {
        if let s = insertOp { return RawStatement(s) }
        let s = try db.cachedStatement(sql: "INSERT INTO op(id, hlc, target, value, supersedes) VALUES (?, ?, ?, ?, ?)")
        insertOp = s
        return RawStatement(s)
    }

    /// Loads a record by id: its fields in schema order, then `meta`, then `rowid`.
    mutating func recordSelect(_ kind: EntityKind, _ db: Database) throws -> RawStatement {
        try cached(&select, kind, db, Self.selectSQL)
    }

    /// Writes a record's fields and `meta` by rowid.
    mutating func recordUpdate(_ kind: EntityKind, _ db: Database) throws -> RawStatement {
        try cached(&update, kind, db, Self.updateSQL)
    }

    /// Inserts a new record: its fields, `meta`, `rowid`, `id`.
    mutating func recordInsert(_ kind: EntityKind, _ db: Database) throws -> RawStatement {
        try cached(&insert, kind, db, Self.insertSQL)
    }

    private func cached(_ slots: inout [Statement?], _ kind: EntityKind, _ db: Database, _ sql: [String]) throws -> RawStatement {
        let k = Int(kind.code)
        if let s = slots[k] { return RawStatement(s) }
        let s = try db.cachedStatement(sql: sql[k])
        slots[k] = s
        return RawStatement(s)
    }

    private static func byKind(_ make: (EntityKind, [String]) -> String) -> [String] {
        var out = [String](repeating: "", count: EntityKind.allCases.count)
        for kind in EntityKind.allCases { out[Int(kind.code)] = make(kind, EntitySchema.fields(kind).map(\.name)) }
        return out
    }

    private static let selectSQL = byKind { kind, names in
        "SELECT \(names.joined(separator: ", ")), meta, rowid FROM \(kind.table) WHERE id = ?"
    }

    private static let insertSQL = byKind { kind, names in
        let all = names + ["meta", "rowid", "id"]
        return "INSERT INTO \(kind.table)(\(all.joined(separator: ", "))) VALUES (\(all.map { _ in "?" }.joined(separator: ", ")))"
    }

    private static let updateSQL = byKind { kind, names in
        "UPDATE \(kind.table) SET \((names + ["meta"]).map { "\($0) = ?" }.joined(separator: ", ")) WHERE rowid = ?"
    }
}

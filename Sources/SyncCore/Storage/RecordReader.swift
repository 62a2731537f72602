import Foundation
import GRDB

/// Reads records' registers and the values ops wrote, inside a read: what `conflicts` and the
/// canonical dump need, without a write session.
struct RecordReader {
    let db: Database
    let origins: OriginTable

    init(_ db: Database) throws {
        self.db = db
        origins = try OriginTable.load(db)
    }

    /// The record with its registers decoded from its `meta` blob (columns are not read).
    func record(_ id: RecordID, meta: Data) throws -> LoadedRecord {
        var record = LoadedRecord(id: id)
        record.registers = try RegisterCodec.decode(meta, fieldCount: record.columns.count, origins: origins)
        return record
    }

    /// The value the op `dot` wrote, from the op log (NULL for an unknown op).
    func opValue(_ dot: Dot) throws -> Value { try OpRow.value(of: dot, in: db, origins: origins) }

    /// The field an op wrote, by its target in the op log (nil for an unknown op).
    func opField(_ dot: Dot, of kind: EntityKind) throws -> String? {
        guard let originIndex = origins.indexOf[dot.origin],
            let target = try Int64.fetchOne(db, sql: "SELECT target FROM op WHERE id = ?", arguments: [OpKey.id(originIndex, dot.counter)])
        else { return nil }
        let index = OpTarget.field(target)
        let fields = EntitySchema.fields(kind)
        return fields.indices.contains(index) ? fields[index].name : "?"
    }
}

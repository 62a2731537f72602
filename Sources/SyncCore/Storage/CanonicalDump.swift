import Foundation
import GRDB

/// The replicated state in a canonical form: every record's fields with their winner and, when
/// several values survive, all of them; keys sorted, text NFC. Two replicas that know the same
/// ops produce byte-identical dumps.
public struct CanonicalDump: Codable, Sendable, Equatable {
    public struct Survivor: Codable, Sendable, Equatable {
        public var dot: String
        public var hlc: UInt64
        public var value: Value
    }

    public struct FieldState: Codable, Sendable, Equatable {
        public var value: Value
        public var conflict: [Survivor]?
        /// On `deleted`: values of other fields written concurrently with the delete.
        public var concurrentEdits: [String]?

        enum CodingKeys: String, CodingKey {
            case value, conflict
            case concurrentEdits = "concurrent_edits"
        }
    }

    public var format = "cchc-dump/1"
    public var versionVector: VersionVector
    public var records: [String: [String: FieldState]]

    enum CodingKeys: String, CodingKey {
        case format
        case versionVector = "version_vector"
        case records
    }

    /// Pretty, sorted JSON with a trailing newline.
    public func json() throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        var d = try e.encode(self)
        d.append(0x0A)
        return d
    }
}

extension ReplicaStore {
    /// The canonical dump of the replicated state (not of local facts like this replica's id).
    public func dump() throws -> CanonicalDump {
        try read { db in
            let reader = try RecordReader(db)
            var records: [String: [String: CanonicalDump.FieldState]] = [:]
            for kind in EntityKind.allCases {
                let rows = try Row.fetchCursor(db, sql: "SELECT id, meta FROM \(kind.table)")
                while let row = try rows.next() {
                    let id = try RecordID.parse(row[0] as String)
                    records[id.rawValue] = try CanonicalDump.fields(of: id, meta: row[1] as Data, reader: reader)
                }
            }
            return CanonicalDump(versionVector: try Self.versionVector(db), records: records)
        }
    }
}

extension CanonicalDump {
    /// One record's fields as the dump shows them, from its registers (`meta`) and the values
    /// its surviving ops wrote.
    static func fields(of id: RecordID, meta: Data, reader: RecordReader) throws -> [String: FieldState] {
        let specs = EntitySchema.fields(id.kind)
        var rec = try reader.record(id, meta: meta)
        var fields: [String: FieldState] = [:]
        for (i, reg) in rec.registers.entries {
            let values = try reg.survivors.map { try reader.opValue($0.dot) }
            // `conflictedFields` reads the winner of `deleted`; only registers were decoded.
            if i == rec.deletedIndex { rec.columns[i] = values.first ?? .null }
            var state = FieldState(value: values.first ?? .null, conflict: nil)
            if reg.survivors.count > 1 {
                state.conflict = zip(reg.survivors, values).map {
                    Survivor(dot: $0.0.dot.description, hlc: $0.0.hlc.rawValue, value: $0.1)
                }
            }
            fields[specs[i].name] = state
        }
        if rec.conflictedFields.contains("deleted"), let di = rec.deletedIndex, let dreg = rec.registers[di] {
            var edits: [String] = []
            for (i, reg) in rec.registers.entries where i != di {
                for s in reg.survivors where !dreg.covers(s.dot) { edits.append("\(specs[i].name)@\(s.dot)") }
            }
            fields["deleted"]?.concurrentEdits = edits.sorted()
        }
        return fields
    }
}

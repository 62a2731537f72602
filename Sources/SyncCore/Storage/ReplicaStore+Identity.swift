import Foundation
import GRDB

extension ReplicaStore {
    /// This replica's id and unit, or nil for a database with no identity (the hub's own store).
    public struct Identity: Sendable, Equatable, Codable {
        public var replica: ReplicaID
        public var unit: String

        public init(replica: ReplicaID, unit: String) {
            self.replica = replica
            self.unit = unit
        }
    }

    /// Whether genesis has been applied (the database is initialised).
    public func isInitialised() throws -> Bool {
        try read { db in try Bool.fetchOne(db, sql: "SELECT 1 FROM local_state WHERE key = 'genesis'") ?? false }
    }

    public func identity() throws -> Identity? {
        try read { db in try Self.identity(db) }
    }

    static func identity(_ db: Database) throws -> Identity? {
        guard let r = try String.fetchOne(db, sql: "SELECT value FROM local_state WHERE key = 'replica'"),
            let u = try String.fetchOne(db, sql: "SELECT value FROM local_state WHERE key = 'unit'"),
            let id = ReplicaID(r)
        else { return nil }
        return Identity(replica: id, unit: u)
    }

    /// The identity, or an error telling the user to run `init`.
    public func requireIdentity() throws -> Identity {
        guard let id = try identity() else {
            throw SyncError(
                .database, "Cơ sở dữ liệu «\(path)» chưa được khởi tạo cho đơn vị nào; hãy chạy «unit-client init».", field: "db", value: path)
        }
        return id
    }

    /// Creates the genesis state and, when `identity` is given, registers this replica for its
    /// unit (its first op). Refuses a database that is already initialised.
    /// `signingKey`: the machine's key (default: a new random one), given only by tools that
    /// must repeat a run exactly (`cchc-bench fill --seed`).
    public func initialise(identity: Identity?, label: String? = nil, signingKey: SigningKey? = nil, nowMillis: UInt64? = nil) throws {
        if let identity { _ = try catalog.requireUnit(identity.unit) }
        let genesis = Genesis.ops(catalog: catalog)
        try write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM local_state WHERE key = 'genesis'") ?? false {
                throw SyncError(.conflict, "Cơ sở dữ liệu «\(self.path)» đã được khởi tạo.", field: "db", value: self.path)
            }
            var session = try ApplySession(db: db, rules: self.rules, cache: self.recordCache)
            try session.apply(OpBatch(ops: genesis), source: .genesis)
            try session.finish()
            try db.execute(sql: "INSERT INTO local_state(key, value) VALUES ('genesis', ?)", arguments: [genesis.count])
            if let identity {
                try db.execute(
                    sql: "INSERT INTO local_state(key, value) VALUES ('replica', ?), ('unit', ?)",
                    arguments: [identity.replica.rawValue, identity.unit])
                try Self.saveSigningKey(signingKey ?? SigningKey(), db)
            }
        }
        if let identity {
            var changes: [(String, Value)] = [("unit", .text(identity.unit))]
            if let label, !label.isEmpty { changes.append(("label", .text(label))) }
            _ = try writeRecord(RecordID.replica(identity.replica), changes: changes, nowMillis: nowMillis)
        }
    }
}

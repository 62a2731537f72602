import Foundation
import GRDB

extension ReplicaStore {
    /// What a peer (by name, e.g. "hub") has acknowledged, and where it lives.
    public struct Peer: Sendable, Codable, Equatable {
        public var name: String
        public var url: String?
        public var acked: VersionVector
        public var lastSync: String?
    }

    public func peer(_ name: String) throws -> Peer? {
        try read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT name, url, acked, last_sync FROM peer WHERE name = ?", arguments: [name]) else {
                return nil
            }
            let acked = (try? JSONDecoder().decode(VersionVector.self, from: Data((row[2] as String).utf8))) ?? VersionVector()
            return Peer(name: row[0], url: row[1], acked: acked, lastSync: row[3])
        }
    }

    /// Records what a peer acknowledged (pointwise max with what was known), in `db`'s transaction.
    static func recordPeer(_ db: Database, name: String, url: String?, acked: VersionVector, at time: String?) throws {
        var current = VersionVector()
        if let s = try String.fetchOne(db, sql: "SELECT acked FROM peer WHERE name = ?", arguments: [name]) {
            current = (try? JSONDecoder().decode(VersionVector.self, from: Data(s.utf8))) ?? VersionVector()
        }
        let merged = current.merged(with: acked)
        let json = String(decoding: try JSONEncoder.canonical.encode(merged), as: UTF8.self)
        try db.execute(
            sql: """
                INSERT INTO peer(name, url, acked, last_sync) VALUES (?, ?, ?, ?)
                ON CONFLICT(name) DO UPDATE SET url = coalesce(excluded.url, url), acked = excluded.acked,
                    last_sync = coalesce(excluded.last_sync, last_sync)
                """, arguments: [name, url, json, time])
    }
}

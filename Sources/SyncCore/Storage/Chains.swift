import Foundation
import GRDB

/// Chain heads and signing keys as stored: `version_vector.hash`/`legacy`, `signed_head`, and the
/// machine's private key in `local_state` (docs/PROTOCOL.md, "Verifiable ops").
extension ReplicaStore {
    /// Migration v3: each origin's ops already held start its chain, unsigned (`legacy`) until
    /// its author signs a later head. Nothing is re-sent or re-applied.
    static func startChains(_ db: Database) throws {
        let origins = try OriginTable.load(db)
        var reader = OpReader(db: db, origins: origins)
        for row in try Row.fetchAll(db, sql: "SELECT origin, counter FROM version_vector") {
            let index: Int64 = row[0]
            let counter = UInt64(row[1] as Int64)
            guard let origin = origins.replicaAt[index], origin != .genesis, counter > 0 else { continue }
            let hash = try chainHash(reader: &reader, origin: origin, originIndex: index, from: (0, .zero), to: counter)
            try db.execute(sql: "UPDATE version_vector SET hash = ?, legacy = ? WHERE origin = ?", arguments: [hash.data, Int64(counter), index])
        }
    }

    /// H(`to`) of `origin`, hashing its ops forward from a known head `from`.
    static func chainHash(reader: inout OpReader, origin: ReplicaID, originIndex: Int64, from: (UInt64, ChainHash), to counter: UInt64) throws
        -> ChainHash
    {
        var hash = from.1
        var done = from.0
        var buffer = VarintWriter()
        while done < counter {
            var ops: [Op] = []
            let end = min(counter, done + 10_000)
            try reader.append(origin: origin, originIndex: originIndex, after: done, through: end, to: &ops)
            for (i, op) in ops.enumerated() where op.dot.counter != done + UInt64(i) + 1 {
                throw SyncError(
                    .corrupt, "Nhật ký thao tác của bản sao \(origin) thiếu thao tác \(origin):\(done + UInt64(i) + 1).", field: "origin",
                    value: origin.rawValue)
            }
            guard ops.count == Int(end - done) else {
                throw SyncError(
                    .corrupt, "Nhật ký thao tác của bản sao \(origin) thiếu thao tác \(origin):\(done + UInt64(ops.count) + 1).", field: "origin",
                    value: origin.rawValue)
            }
            for op in ops { hash = OpChain.next(hash, op, buffer: &buffer) }
            done = end
        }
        return hash
    }

    /// H(`counter`) of `origin` from the nearest stored head at or below it.
    static func chainHash(_ db: Database, origin: ReplicaID, at counter: UInt64) throws -> ChainHash? {
        let origins = try OriginTable.load(db)
        guard counter > 0 else { return .zero }
        guard let index = origins.indexOf[origin] else { return nil }
        if let row = try Row.fetchOne(db, sql: "SELECT counter, hash FROM version_vector WHERE origin = ?", arguments: [index]),
            UInt64(row[0] as Int64) == counter, let h = ChainHash(data: row[1])
        {
            return h
        }
        var base: (UInt64, ChainHash) = (0, .zero)
        if let row = try Row.fetchOne(
            db, sql: "SELECT counter, hash FROM signed_head WHERE origin = ? AND counter <= ? AND hash IS NOT NULL ORDER BY counter DESC LIMIT 1",
            arguments: [index, Int64(counter)]), let h = ChainHash(data: row[1])
        {
            base = (UInt64(row[0] as Int64), h)
        }
        var reader = OpReader(db: db, origins: origins)
        return try chainHash(reader: &reader, origin: origin, originIndex: index, from: base, to: counter)
    }

    /// This machine's signing key, if it has one yet.
    static func signingKey(_ db: Database) throws -> SigningKey? {
        guard let raw = try Data.fetchOne(db, sql: "SELECT value FROM local_state WHERE key = 'signing_key'") else { return nil }
        guard let key = SigningKey(raw: raw) else {
            throw SyncError(.corrupt, "Khóa ký của máy trong cơ sở dữ liệu bị hỏng.", field: "signing_key")
        }
        return key
    }

    /// Gives a store made before signing (which makes its key at its first write) the key
    /// `key` now, if it has none; the simulator derives it from its seed so histories replay.
    package func provideSigningKeyIfMissing(_ key: SigningKey) throws {
        try write { db in
            guard try Self.signingKey(db) == nil else { return }
            try Self.saveSigningKey(key, db)
        }
    }

    static func saveSigningKey(_ key: SigningKey, _ db: Database) throws {
        try db.execute(sql: "INSERT INTO local_state(key, value) VALUES ('signing_key', ?)", arguments: [key.raw])
    }

    /// The public key `origin` registered (its `RE.<origin>` record's `key`), if any.
    static func machineKey(_ db: Database, of origin: ReplicaID) throws -> MachineKey? {
        try String.fetchOne(db, sql: "SELECT key FROM replica WHERE id = ?", arguments: [RecordID.replica(origin).rawValue])
            .flatMap(MachineKey.init(base64:))
    }

    /// This replica's public signing key, if it has registered one.
    public func machineKey() throws -> MachineKey? {
        try read { db in
            guard let me = try Self.identity(db) else { return nil }
            return try Self.machineKey(db, of: me.replica)
        }
    }

    /// H(`counter`) of `origin` as this store holds it (nil: it holds no op of that origin there).
    public func chainHash(of origin: ReplicaID, at counter: UInt64) throws -> ChainHash? {
        try read { db in
            guard try Self.versionVector(db)[origin] >= counter else { return nil }
            return try Self.chainHash(db, origin: origin, at: counter)
        }
    }

    /// The first 8 bytes of each origin's chain head, as a sync request carries them.
    public func chainDigests() throws -> [ReplicaID: UInt64] {
        try read { db in
            var out: [ReplicaID: UInt64] = [:]
            for row in try Row.fetchAll(
                db, sql: "SELECT o.replica, v.hash FROM version_vector v JOIN origin o ON o.idx = v.origin WHERE v.hash IS NOT NULL")
            {
                if let o = ReplicaID(row[0] as String), let h = ChainHash(data: row[1]) { out[o] = h.prefix64 }
            }
            return out
        }
    }

    /// The origins whose head in `digests` (at the counter `vector` gives) differs from this
    /// store's chain at that counter: the two stores hold different ops under the same dots.
    static func divergentOrigins(_ db: Database, vector: VersionVector, digests: [ReplicaID: UInt64]) throws -> [ReplicaID] {
        let mine = try versionVector(db)
        var out: [ReplicaID] = []
        for (o, d) in digests where o != .genesis && vector[o] > 0 && vector[o] <= mine[o] {
            if let h = try chainHash(db, origin: o, at: vector[o]), h.prefix64 != d { out.append(o) }
        }
        return out
    }
}

extension ReplicaStore {
    /// Stores a head of `origin` the caller checked against this store's own copy: `hash` is
    /// H(`counter`) here and `signature` the author's on it. A head already there is kept.
    func addVerifiedHead(origin: ReplicaID, counter: UInt64, hash: ChainHash, signature: Data) throws {
        try write { db in
            guard counter > 0, signature.count == 64, try Self.versionVector(db)[origin] >= counter,
                try Self.chainHash(db, origin: origin, at: counter) == hash, let index = try OriginTable.load(db).indexOf[origin]
            else {
                throw SyncError(.internal, "Đầu chuỗi \(origin):\(counter) không khớp bản ở máy này.", field: "origin", value: "\(origin):\(counter)")
            }
            try db.execute(
                sql: "INSERT OR IGNORE INTO signed_head(origin, counter, hash, signature, checked) VALUES (?, ?, ?, ?, 1)",
                arguments: [index, Int64(counter), hash.data, signature])
        }
    }

    /// The counter up to which `origin`'s ops here were written before signing (0: none).
    func legacyMark(of origin: ReplicaID) throws -> UInt64 {
        try read { db in
            guard let index = try OriginTable.load(db).indexOf[origin] else { return 0 }
            return UInt64(try Int64.fetchOne(db, sql: "SELECT legacy FROM version_vector WHERE origin = ?", arguments: [index]) ?? 0)
        }
    }

    /// `ops` of this replica's own origin, continuing its chain, signed with its key but neither
    /// checked nor applied: a head over ops this store already verified (`rebuild`, which cuts
    /// its own chain where it never signed), or, in tests of the receivers' checks, what a
    /// replica that bypassed its own rules would send.
    package func signOwnOpsUnchecked(_ ops: [Op]) throws -> OpBatch {
        try read { db in
            guard let me = try Self.identity(db), let key = try Self.signingKey(db) else {
                throw SyncError(.database, "Bản sao chưa có khóa ký.")
            }
            let vv = try Self.versionVector(db)
            var hash = try Self.chainHash(db, origin: me.replica, at: vv[me.replica]) ?? .zero
            var counter = vv[me.replica]
            var heads: [SignedHead] = []
            for op in ops where op.dot.origin == me.replica {
                guard op.dot.counter == counter + 1 else { throw SyncError(.internal, "\(op.dot) không nối tiếp \(me.replica):\(counter).") }
                hash = OpChain.next(hash, op)
                counter = op.dot.counter
            }
            if counter > vv[me.replica] { heads.append(try key.sign(origin: me.replica, counter: counter, hash: hash)) }
            return OpBatch(ops: ops, heads: heads)
        }
    }
}

import Foundation
import GRDB

/// The work of one write transaction: applies ops through the pure merge (`Register`) and writes
/// the outcome back in one go. Its parts, one file each:
/// - this file: loading records, and applying a batch (order, duplicates, gaps, one op);
/// - `HeldBackOps.swift`: ops ahead of a gap, held in `pending_op` until it fills;
/// - `LocalOps.swift`: building this replica's own ops from a user's change;
/// - `WriteBack.swift`: writing touched records, the vector, the clock and conflicts at the end;
/// - `RecordCache.swift`: the records the last committed write left, kept for the next one.
/// The rules an op must pass are `OpRules` and `Authority` (Merge); what the op log and the
/// metadata blobs store is `OpLogKeys.swift` and `RegisterCodec.swift`.
struct ApplySession {
    let db: Database
    let rules: OpRules
    var origins: OriginTable
    var vv: VersionVector
    var vvDirty: Set<ReplicaID> = []
    /// Records touched by the batch, in first-touch order; `recordSlot` finds one by id. An array
    /// lets an op mutate its record in place with one hash of the id instead of three.
    var records: [LoadedRecord] = []
    var recordSlot: [String: Int] = [:]
    /// Units of replicas registered, as this batch has seen them.
    var replicaUnits: [ReplicaID: String] = [:]
    var hlc: HLC
    var report = ApplyReport()
    var statements = StatementCache()
    /// Per kind, the last rowid reserved for a new record (0: not read yet).
    var lastRowid: [Int64] = Array(repeating: 0, count: EntityKind.allCases.count)
    /// Ops come sorted by origin and often several in a row for one record: the last origin's
    /// index and unit, and the last record's slot, save hashing their ids for every op.
    var lastOrigin: ReplicaID?
    var lastOriginIndex: Int64 = 0
    var lastUnitOrigin: ReplicaID?
    var lastUnit = ""
    var lastRecord: String?
    var lastSlot = 0
    /// Reused for every `supersedes` and `meta` blob, so encoding one allocates nothing.
    var buffer = VarintWriter()
    /// Each origin's chain head H(vv[origin]) as the batch advanced it (absent: the zero hash).
    var chains: [ReplicaID: ChainHash] = [:]
    /// Origins whose head changed, and legacy counters raised, for `finish`.
    var legacyRaised: [ReplicaID: UInt64] = [:]
    /// Heads to store at `finish`: verified ones with their hash, held-back ones without.
    var headsOut: [(origin: ReplicaID, counter: UInt64, hash: ChainHash?, signature: Data, checked: Bool)] = []
    /// This machine's key when the batch writes local ops (they are signed at `finish`).
    var signer: (replica: ReplicaID, key: SigningKey)?
    /// Whether unsigned (legacy) heads are accepted: only from this replica's own hub.
    var allowLegacy = false
    /// Origins with held-back ops (loaded on first need).
    var heldOrigins: Set<Int64>?
    /// Public keys of origins, as registered (`RE.<origin>.key`).
    var keys: [ReplicaID: MachineKey] = [:]
    var hashBuffer = VarintWriter()
    /// The store's records as the last committed write left them (`RecordCache`): taken out
    /// here, used instead of reading a record again, given back with this session's at `finish`.
    let cache: RecordCache
    let cacheGeneration: Int
    var cached: [String: LoadedRecord]

    init(db: Database, rules: OpRules, cache: RecordCache) throws {
        self.db = db
        self.rules = rules
        self.cache = cache
        (cacheGeneration, cached) = try cache.checkOut(db)
        origins = try OriginTable.load(db)
        vv = try ReplicaStore.versionVector(db)
        for row in try Row.fetchAll(
            db, sql: "SELECT o.replica, v.hash FROM version_vector v JOIN origin o ON o.idx = v.origin WHERE v.hash IS NOT NULL")
        {
            if let id = ReplicaID(row[0] as String), let h = ChainHash(data: row[1]) { chains[id] = h }
        }
        let raw = try Int64.fetchOne(db, sql: "SELECT value FROM local_state WHERE key = 'hlc'") ?? 0
        hlc = HLC(rawValue: UInt64(bitPattern: raw))
    }

    /// The origin's index in the op log, interning it when new.
    mutating func index(of origin: ReplicaID) throws -> Int64 {
        if let last = lastOrigin, last == origin { return lastOriginIndex }
        let i = try origins.intern(origin, in: db)
        lastOrigin = origin
        lastOriginIndex = i
        return i
    }

    // MARK: Records

    /// The record as the batch sees it (loaded once, then as the batch changed it).
    mutating func load(_ id: RecordID) throws -> LoadedRecord {
        records[try slot(for: id)]
    }

    /// The slot of a record named by an op, parsing (and so checking) the id on first sight.
    mutating func slot(forRaw raw: String) throws -> Int {
        if let last = lastRecord, last == raw { return lastSlot }
        let s = try recordSlot[raw] ?? fetchSlot(RecordID.parse(raw, field: "record"))
        lastRecord = raw
        lastSlot = s
        return s
    }

    mutating func slot(for id: RecordID) throws -> Int {
        if let s = recordSlot[id.rawValue] { return s }
        return try fetchSlot(id)
    }

    private mutating func fetchSlot(_ id: RecordID) throws -> Int {
        if records.capacity == 0 {
            records.reserveCapacity(1024)
            recordSlot.reserveCapacity(1024)
        }
        records.append(try fetch(id))
        recordSlot[id.rawValue] = records.count - 1
        return records.count - 1
    }

    private mutating func fetch(_ id: RecordID) throws -> LoadedRecord {
        if !cached.isEmpty, let record = cached.removeValue(forKey: id.rawValue) { return record }
        let fieldCount = EntitySchema.fields(id.kind).count
        var record = LoadedRecord(id: id)
        let select = try statements.recordSelect(id.kind, db)
        select.bind(1, id.rawValue)
        defer { select.reset() }
        if try select.step(db) {
            for i in 0..<fieldCount { record.columns[i] = select.value(Int32(i)) }
            try select.withBlob(Int32(fieldCount)) { bytes in
                record.registers = try RegisterCodec.decode(bytes, fieldCount: fieldCount, origins: origins)
            }
            record.rowid = select.value(Int32(fieldCount + 1)).int ?? 0
            record.hadConflicts = record.hasConflictedFields
        }
        return record
    }

    /// The value an op wrote, read back from the op log.
    func opValue(_ dot: Dot) throws -> Value { try OpRow.value(of: dot, in: db, origins: origins) }

    /// The unit `origin` registered (its `RE.<origin>` record), as this batch sees it; nil if none.
    mutating func unit(of origin: ReplicaID) throws -> String? {
        if let last = lastUnitOrigin, last == origin { return lastUnit }
        // Only a known unit is remembered: a replica without one may register within the batch.
        func remember(_ u: String) -> String {
            lastUnitOrigin = origin
            lastUnit = u
            return u
        }
        if let u = replicaUnits[origin] { return remember(u) }
        if let s = recordSlot[RecordID.replica(origin).rawValue], let ui = EntitySchema.index(of: "unit", in: .replica),
            let u = records[s].columns[ui].text
        {
            replicaUnits[origin] = u
            return remember(u)
        }
        let u = try String.fetchOne(db, sql: "SELECT unit FROM replica WHERE id = ?", arguments: [RecordID.replica(origin).rawValue])
        if let u {
            replicaUnits[origin] = u
            return remember(u)
        }
        return nil
    }

    // MARK: Applying a batch

    /// Checks one op against the schema, its origin and authority; returns its record's slot, the
    /// field's index and the value normalised (the op itself is not copied).
    /// Nil when the op names a kind or field this program's schema does not know (a later
    /// program's): its origin is checked as far as it can be, and the caller keeps it.
    mutating func validate(_ op: Op, source: OpSource) throws -> (slot: Int, field: Int, value: Value)? {
        // A peer's op, or a genesis op of a release whose schema is newer than the one given
        // (a store opened with an older `SchemaVersion`), may name what this schema lacks.
        let isPeer: Bool
        switch source {
        case .peer, .genesis: isPeer = true
        case .local: isPeer = false
        }
        let slot: Int
        do {
            slot = try self.slot(forRaw: op.record)
        } catch {
            guard isPeer, RecordID.isLaterKind(op.record) else { throw error }
            try checkOriginOfUnknown(op, source: source)
            return nil
        }
        let record = records[slot].id
        let specs = EntitySchema.fields(record.kind)
        guard let field = specs.firstIndex(where: { $0.name == op.field }), rules.completeSchema || rules.schema.knows(record.kind, field: field)
        else {
            guard isPeer, SchemaVersion.isFieldName(op.field) else {
                throw SyncError.invalid("field", op.field, "\(record.kind.label) không có trường này.")
            }
            let registered = try unit(of: op.dot.origin)
            try rules.checkOrigin(of: op, record: record, value: op.value, source: source, registeredUnit: registered)
            return nil
        }
        let value = try rules.validator.normalise(op.value, for: specs[field])
        if case .genesis = source { return (slot, field, value) }
        // The chain hashed the value as sent: the stored one must be that same value.
        guard value == op.value else {
            throw SyncError.invalid(
                op.field, op.value.description, "giá trị chưa chuẩn hóa trong thao tác \(op.dot) (thao tác đã ký phải mang giá trị đã chuẩn hóa).")
        }
        let registered = try unit(of: op.dot.origin)
        try rules.checkOrigin(of: op, record: record, value: value, source: source, registeredUnit: registered)
        if record.kind == .replica, op.field == "key", let current = records[slot].columns[field].text, current != value.text {
            throw SyncError(
                .forbidden, "Khóa ký của bản sao \(op.dot.origin) không thể thay đổi (thao tác \(op.dot)).", field: "key", value: op.dot.description)
        }
        return (slot, field, value)
    }

    /// Applies a batch: per origin in counter order, skipping what is known (after checking it is
    /// the same op), verifying chains and signatures, and holding back what no verified head covers
    /// yet (`Verification.swift`).
    mutating func apply(_ batch: OpBatch, source: OpSource) throws {
        // Only the parts checked: a `for op in` loop copies every op out of the array (a retain
        // and release of each string and array in it).
        for i in batch.ops.indices {
            try OpKey.checkStorable(dot: batch.ops[i].dot, hlc: batch.ops[i].hlc, supersedes: batch.ops[i].supersedes)
        }
        if records.isEmpty {
            // A page of 5,000 ops touches up to ~2,000 records: growing the slot table as it fills
            // rehashes every id in it.
            let expected = min(batch.ops.count, 8192)
            records.reserveCapacity(max(expected, 16))
            recordSlot.reserveCapacity(max(expected, 16))
        }
        let heads = try Self.headsByOrigin(batch.heads)
        // Peers send ops in origin, counter order without repeats: then there is nothing to sort.
        var ordered = true
        for i in batch.ops.indices.dropFirst() where !(batch.ops[i - 1].dot < batch.ops[i].dot) {
            ordered = false
            break
        }
        if ordered {
            try applySorted(batch.ops, heads: heads, source: source)
        } else {
            let sorted = batch.ops.sorted { $0.dot < $1.dot }
            var unique: [Op] = []
            unique.reserveCapacity(sorted.count)
            for op in sorted {
                if let last = unique.last, last.dot == op.dot {
                    guard last.dot == op.dot, last.hlc == op.hlc, last.record == op.record, last.field == op.field, last.value == op.value,
                        last.supersedes.sorted() == op.supersedes.sorted()
                    else { throw fork(ours: last, theirs: op, theirHeads: heads[op.dot.origin] ?? [:]) }
                    report.duplicates += 1
                } else {
                    unique.append(op)
                }
            }
            try applySorted(unique, heads: heads, source: source)
        }
    }

    private mutating func applySorted(_ ops: [Op], heads: [ReplicaID: [UInt64: Data]], source: OpSource) throws {
        var seen = Set<ReplicaID>()
        // Through the buffer, each op is borrowed rather than copied out of the array.
        try ops.withUnsafeBufferPointer { ops in
            var start = 0
            while start < ops.count {
                let origin = ops[start].dot.origin
                var end = start + 1
                while end < ops.count, ops[end].dot.origin == origin { end += 1 }
                seen.insert(origin)
                try applyRun(origin, UnsafeBufferPointer(rebasing: ops[start..<end]), heads: heads[origin] ?? [:], source: source)
                start = end
            }
        }
        // A head alone may complete ops held back earlier.
        for (origin, h) in heads where !seen.contains(origin) {
            try [Op]().withUnsafeBufferPointer { try applyRun(origin, $0, heads: h, source: source) }
        }
    }

    mutating func advance(_ origin: ReplicaID, to counter: UInt64) {
        guard counter > vv[origin] else { return }
        vv[origin] = counter
        vvDirty.insert(origin)
    }

    /// Applies one op whose origin is at `vv[origin] + 1` and whose chain hash is `hash` (nil for
    /// the plan's seed); the caller advances the vector.
    mutating func applyOne(_ op: Op, source: OpSource, hash: ChainHash?) throws {
        guard let (slot, field, value) = try validate(op, source: source) else {
            if let hash { chains[op.dot.origin] = hash }
            return try keepUnknown(op)
        }
        if let hash { chains[op.dot.origin] = hash }
        try applyValidated(op, slot: slot, field: field, value: value)
    }

    /// Applies an op `validate` accepted: the op log's row, the register, the record's winner.
    mutating func applyValidated(_ op: Op, slot: Int, field: Int, value: Value) throws {
        let originIndex = try index(of: op.dot.origin)
        for d in op.supersedes where d.origin != op.dot.origin { _ = try index(of: d.origin) }
        if records[slot].rowid == 0 { try reserveRowid(slot) }
        let insert = try statements.opInsert(db)
        insert.bind(1, OpKey.id(originIndex, op.dot.counter))
        insert.bind(2, op.hlc.storageValue)
        insert.bind(3, records[slot].target(field))
        insert.bind(4, value)
        try RegisterCodec.encodeSupersedes(op.supersedes, origins: origins, into: &buffer)
        insert.bind(5, bytes: buffer.bytes, emptyIsNull: true)
        try insert.execute(db)
        let version = Version(dot: op.dot, hlc: op.hlc)
        let (outcome, isNew, winner) = records[slot].apply(version, supersedes: op.supersedes, to: field)
        if case .changed(let winnerChanged) = outcome {
            if winnerChanged {
                if let w = winner {
                    records[slot].columns[field] = w.dot == op.dot ? value : try opValue(w.dot)
                } else {
                    records[slot].columns[field] = .null
                }
            }
            records[slot].dirty = true
        } else if isNew {
            records[slot].dirty = true
        }
        hlc = HLC.receive(last: hlc, remote: op.hlc)
        report.applied += 1
    }

    /// The origin rules for an op whose record kind this program does not know: an authenticated
    /// sender writes only as itself, and the origin has registered its unit.
    private mutating func checkOriginOfUnknown(_ op: Op, source: OpSource) throws {
        if case .genesis = source { return }
        if case .peer(let sender?, _) = source, op.dot.origin != sender {
            throw SyncError(
                .forbidden, "Thao tác \(op.dot) không phải của bản sao đã xác thực \(sender).", field: "origin", value: op.dot.origin.rawValue)
        }
        guard try unit(of: op.dot.origin) != nil else {
            throw SyncError(
                .forbidden, "Bản sao \(op.dot.origin) chưa đăng ký đơn vị (thao tác \(op.dot)).", field: "origin", value: op.dot.origin.rawValue)
        }
    }

    /// Keeps an op this program does not know in `unknown_op`: in the vector and the chain like
    /// any other, relayed with its origin's ops, applied by the upgrade that knows it.
    private mutating func keepUnknown(_ op: Op) throws {
        let originIndex = try index(of: op.dot.origin)
        for d in op.supersedes where d.origin != op.dot.origin { _ = try index(of: d.origin) }
        try RegisterCodec.encodeSupersedes(op.supersedes, origins: origins, into: &buffer)
        try db.cachedStatement(
            sql: "INSERT INTO unknown_op(origin, counter, hlc, record, field, value, supersedes) VALUES (?, ?, ?, ?, ?, ?, ?)"
        ).execute(arguments: [
            originIndex, Int64(op.dot.counter), op.hlc.storageValue, op.record, op.field, op.value,
            buffer.bytes.isEmpty ? nil : Data(buffer.bytes),
        ])
        hlc = HLC.receive(last: hlc, remote: op.hlc)
        report.applied += 1
        report.unknown += 1
    }

    /// A new record gets its rowid (and so its op-log reference) at its first op and its row once,
    /// in `finish`. The rowid is the one SQLite would choose, max(rowid) + 1: only this session
    /// writes the typed tables during the transaction.
    private mutating func reserveRowid(_ slot: Int) throws {
        let kind = records[slot].id.kind
        let k = Int(kind.code)
        if lastRowid[k] == 0 {
            lastRowid[k] = try Int64.fetchOne(db, sql: "SELECT coalesce(max(rowid), 0) FROM \(kind.table)") ?? 0
        }
        lastRowid[k] += 1
        records[slot].rowid = lastRowid[k]
        records[slot].isNewRow = true
    }
}

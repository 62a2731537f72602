import Foundation
import GRDB

/// A record's field registers: only the fields that have one, in field order. A record has up to
/// 14 fields and usually 3–5 registers, so one small buffer replaces a slot per field (allocating,
/// filling and freeing those slots was a measurable part of a merge).
struct RegisterSet {
    private(set) var entries: [(field: Int, register: Register)] = []

    subscript(field: Int) -> Register? {
        for e in entries where e.field == field { return e.register }
        return nil
    }

    private mutating func slot(_ field: Int) -> (index: Int, isNew: Bool) {
        var i = 0
        while i < entries.count && entries[i].field < field { i += 1 }
        if i < entries.count && entries[i].field == field { return (i, false) }
        if entries.capacity == 0 { entries.reserveCapacity(4) }
        entries.insert((field, Register()), at: i)
        return (i, true)
    }

    /// Sets a field's register (storage decodes them in field order, so this appends).
    mutating func set(_ field: Int, _ register: Register) {
        if let last = entries.last, last.field < field {
            entries.append((field, register))
            return
        }
        entries[slot(field).index].register = register
    }

    /// Changes a field's register in place (an empty one if the field had none); also returns
    /// whether it had none.
    mutating func update<R>(_ field: Int, _ body: (inout Register) -> R) -> (R, isNew: Bool) {
        let (i, isNew) = slot(field)
        return (body(&entries[i].register), isNew)
    }
}

/// One record as loaded for a batch: the winners in schema order and each field's register.
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
        let n = EntitySchema.fields(id.kind).count
        columns = Array(repeating: .null, count: n)
    }

    var reference: Int64 { rowid << 2 | id.kind.code }

    /// The op log's `target` of field `fi` of this record: the reference and the field in one integer.
    func target(_ fi: Int) -> Int64 { reference << OpTarget.fieldBits | Int64(fi) }

    /// Applies an op to field `fi`'s register in place; returns the outcome, whether the field
    /// had no register before, and the winner after.
    mutating func apply(_ version: Version, supersedes: [Dot], to fi: Int) -> (Register.Outcome, isNew: Bool, winner: Version?) {
        // In place, so the register's storage is not copied.
        let ((outcome, winner), isNew) = registers.update(fi) { reg in
            (reg.apply(version, supersedes: supersedes), reg.winner)
        }
        return (outcome, isNew, winner)
    }

    var deletedIndex: Int? { Self.deletedIndices[Int(id.kind.code)] }

    /// Each kind's `deleted` field index, by `EntityKind.code` (looked up by name once).
    private static let deletedIndices: [Int?] = {
        var out = [Int?](repeating: nil, count: EntityKind.allCases.count)
        for kind in EntityKind.allCases { out[Int(kind.code)] = EntitySchema.index(of: "deleted", in: kind) }
        return out
    }()

    /// The fields in conflict: those with several survivors, plus `deleted` when the record is
    /// deleted while another field holds a value the deleter had not seen (a concurrent edit).
    var conflictedFields: [String] {
        let specs = EntitySchema.fields(id.kind)
        var out: [String] = []
        for (i, r) in registers.entries where r.isConflicted { out.append(specs[i].name) }
        if let di = deletedIndex, columns[di] == .int(1), let dreg = registers[di], !out.contains("deleted") {
            let concurrent = registers.entries.contains { i, r in
                i != di && r.survivors.contains { !dreg.covers($0.dot) }
            }
            if concurrent { out.append("deleted") }
        }
        return out
    }
}

/// How the op log keys an op: its dot as one integer, origin index * 2^28 + counter (`op.id`).
enum OpKey {
    static let counterBits: Int64 = 28
    /// The highest counter an op may have (2^28 - 1 = 268,435,455): a replica writing 1,000 ops
    /// a day would need seven centuries to reach it.
    static let maxCounter: UInt64 = 1 << 28 - 1
    static func id(_ originIndex: Int64, _ counter: UInt64) -> Int64 { originIndex << counterBits | Int64(counter & maxCounter) }
}

/// How the op log names a record and field in one integer (`op.target`).
enum OpTarget {
    /// Bits for the field's schema index: every kind has fewer than 32 fields (checked by a test).
    static let fieldBits: Int64 = 5
    static func reference(_ target: Int64) -> Int64 { target >> fieldBits }
    static func field(_ target: Int64) -> Int { Int(target & (1 << fieldBits - 1)) }
}

/// The work of one write transaction: applies ops through the pure merge and writes the outcome
/// (op rows, registers, typed rows, vector, conflicts) back in one go.
struct ApplySession {
    let db: Database
    /// The store's validator and authority, held here so a call borrows them instead of copying
    /// them (and the catalog inside) out of the class for every op.
    let validator: FieldValidator
    let authority: Authority
    var originIdx: [ReplicaID: Int64] = [:]
    var originByIdx: [Int64: ReplicaID] = [:]
    var vv: VersionVector
    var vvDirty: Set<ReplicaID> = []
    /// Records touched by the batch, in first-touch order; `recordSlot` finds one by id. An array
    /// lets an op mutate its record in place with one hash of the id instead of three.
    var recs: [LoadedRecord] = []
    var recordSlot: [String: Int] = [:]
    var replicaUnits: [ReplicaID: String] = [:]
    var hlc: HLC
    var report = ApplyReport()
    /// The op insert, from the connection's statement cache once per batch (looking it up by SQL text
    /// costs a hash per op; preparing it per batch was 1–3% of a merge).
    var insertOp: Statement?
    /// Per-kind statements (by `EntityKind.code`): load, update, and insert of a new record.
    var selectStatements: [Statement?] = Array(repeating: nil, count: EntityKind.allCases.count)
    var saveStatements: [Statement?] = Array(repeating: nil, count: EntityKind.allCases.count)
    var insertStatements: [Statement?] = Array(repeating: nil, count: EntityKind.allCases.count)
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

    init(db: Database, store: ReplicaStore) throws {
        self.db = db
        self.validator = store.validator
        self.authority = store.authority
        for row in try Row.fetchAll(db, sql: "SELECT idx, replica FROM origin") {
            guard let id = ReplicaID(row[1] as String) else { continue }
            originIdx[id] = row[0]
            originByIdx[row[0]] = id
        }
        vv = try ReplicaStore.versionVector(db)
        let raw = try Int64.fetchOne(db, sql: "SELECT value FROM local_state WHERE key = 'hlc'") ?? 0
        hlc = HLC(rawValue: UInt64(bitPattern: raw))
    }

    mutating func index(of origin: ReplicaID) throws -> Int64 {
        if let last = lastOrigin, last == origin { return lastOriginIndex }
        let i: Int64
        if let known = originIdx[origin] {
            i = known
        } else {
            try db.execute(sql: "INSERT INTO origin(replica) VALUES (?)", arguments: [origin.rawValue])
            i = db.lastInsertedRowID
            originIdx[origin] = i
            originByIdx[i] = origin
        }
        lastOrigin = origin
        lastOriginIndex = i
        return i
    }

    // MARK: Records

    /// The record as the batch sees it (loaded once, then as the batch changed it).
    mutating func load(_ id: RecordID) throws -> LoadedRecord {
        recs[try slot(for: id)]
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
        if recs.isEmpty {
            recs.reserveCapacity(1024)
            recordSlot.reserveCapacity(1024)
        }
        let rec = try fetch(id)
        recs.append(rec)
        recordSlot[id.rawValue] = recs.count - 1
        return recs.count - 1
    }

    private mutating func statement(_ cache: WritableKeyPath<ApplySession, [Statement?]>, _ kind: EntityKind, _ sql: () -> String) throws
        -> RawStatement
    {
        let k = Int(kind.code)
        if let s = self[keyPath: cache][k] { return RawStatement(s) }
        let s = try db.cachedStatement(sql: sql())
        self[keyPath: cache][k] = s
        return RawStatement(s)
    }

    private mutating func fetch(_ id: RecordID) throws -> LoadedRecord {
        let specs = EntitySchema.fields(id.kind)
        var rec = LoadedRecord(id: id)
        let stmt = try statement(\.selectStatements, id.kind) { Self.selectSQL[id.kind] ?? "" }
        stmt.bind(1, id.rawValue)
        defer { stmt.reset() }
        if try stmt.step(db) {
            for i in specs.indices { rec.columns[i] = stmt.value(Int32(i)) }
            try stmt.withBlob(Int32(specs.count)) { try decodeMeta($0, into: &rec) }
            rec.rowid = stmt.value(Int32(specs.count + 1)).int ?? 0
            rec.hadConflicts = !rec.conflictedFields.isEmpty
        }
        return rec
    }

    static let selectSQL: [EntityKind: String] = Dictionary(
        uniqueKeysWithValues: EntityKind.allCases.map { kind in
            let cols = EntitySchema.fields(kind).map(\.name).joined(separator: ", ")
            return (kind, "SELECT \(cols), meta, rowid FROM \(kind.table) WHERE id = ?")
        })

    static let insertSQL: [EntityKind: String] = Dictionary(
        uniqueKeysWithValues: EntityKind.allCases.map { kind in
            var names = EntitySchema.fields(kind).map(\.name)
            names += ["meta", "rowid", "id"]
            return (kind, "INSERT INTO \(kind.table)(\(names.joined(separator: ", "))) VALUES (\(names.map { _ in "?" }.joined(separator: ", ")))")
        })

    static let saveSQL: [EntityKind: String] = Dictionary(
        uniqueKeysWithValues: EntityKind.allCases.map { kind in
            var names = EntitySchema.fields(kind).map(\.name)
            names.append("meta")
            return (kind, "UPDATE \(kind.table) SET \(names.map { "\($0) = ?" }.joined(separator: ", ")) WHERE rowid = ?")
        })

    func decodeMeta(_ data: Data, into rec: inout LoadedRecord) throws {
        try data.withUnsafeBytes { try decodeMeta($0, into: &rec) }
    }

    func decodeMeta(_ bytes: UnsafeRawBufferPointer, into rec: inout LoadedRecord) throws {
        var r = RawVarintReader(bytes)
        // The format `encodeMeta` writes: per register a header, then survivors and context.
        var base: Int64?
        var fi = -1
        func origin(_ i: Int64) throws -> ReplicaID {
            guard let o = originByIdx[i] else { throw SyncError(.corrupt, "Siêu dữ liệu tham chiếu bản sao không tồn tại.") }
            return o
        }
        while !r.atEnd {
            let header = try r.read()
            fi += Int(truncatingIfNeeded: header >> 4) + 1
            guard fi >= 0, fi < rec.columns.count else { throw SyncError(.corrupt, "Siêu dữ liệu có trường không tồn tại.") }
            let ns = header >> 2 & 3 == 3 ? try r.readInt() : Int(header >> 2 & 3)
            let nc = header & 3 == 3 ? try r.readInt() : Int(header & 3)
            guard ns >= 0, nc >= 0, ns <= bytes.count, nc <= bytes.count else {
                throw SyncError(.corrupt, "Siêu dữ liệu đồng bộ bị hỏng (số lượng).")
            }
            func version() throws -> Version {
                let o = try origin(try r.readInt64())
                let c = try r.read()
                let t: Int64
                if let base {
                    t = base &+ (try Self.readHLCDelta(&r))
                } else {
                    t = Int64(bitPattern: try r.read())
                    base = t
                }
                return Version(dot: Dot(o, c), hlc: HLC(storageValue: t))
            }
            func contextEntry() throws -> Dot { Dot(try origin(try r.readInt64()), try r.read()) }
            if ns <= 1 && nc <= 1 {
                // The common shape, built without arrays.
                let survivor = ns == 1 ? try version() : nil
                rec.registers.set(fi, Register(survivor: survivor, context: nc == 1 ? try contextEntry() : nil))
                continue
            }
            var survivors: [Version] = []
            survivors.reserveCapacity(ns)
            for _ in 0..<ns { survivors.append(try version()) }
            var context: [Dot] = []
            context.reserveCapacity(nc)
            for _ in 0..<nc { context.append(try contextEntry()) }
            rec.registers.set(fi, Register(decodedSurvivors: survivors, context: context))
        }
    }

    /// Writes the difference of two HLC storage values. When the logical parts are
    /// equal (nearly always) the low byte of the difference is zero: the rest is written zigzag,
    /// shifted left one bit (even), so a month apart takes 5 bytes. Otherwise a 1 is written,
    /// then the whole difference zigzag.
    static func writeHLCDelta(_ d: Int64, into buffer: inout VarintWriter) {
        let ms = d >> 8
        if d & 0xFF == 0, ms > -(1 << 61), ms < 1 << 61 {
            buffer.write(Zigzag.encode(ms) << 1)
        } else {
            buffer.write(UInt64(1))
            buffer.write(Zigzag.encode(d))
        }
    }

    static func readHLCDelta(_ r: inout RawVarintReader) throws -> Int64 {
        let v = try r.read()
        if v & 1 == 0 { return Zigzag.decode(v >> 1) << 8 }
        guard v == 1 else { throw SyncError(.corrupt, "Siêu dữ liệu đồng bộ bị hỏng (HLC).") }
        return Zigzag.decode(try r.read())
    }

    /// Encodes a record's registers into `buffer`. Per register (in field order): a header
    /// `(fi - previous fi - 1) << 4 | ns << 2 | nc`, where ns and nc (survivors, context entries)
    /// are written after it when 3 or more; then each survivor as (origin idx, counter, HLC) and
    /// each context entry as (origin idx, counter). The first survivor's HLC is its storage
    /// form; the others' are differences from it (`writeHLCDelta`), since one record's timestamps are close.
    /// Nearly every register then takes 1 byte of header instead of 3.
    mutating func encodeMeta(_ slot: Int) throws {
        buffer.reset()
        var base: Int64?
        var previous = -1
        for (i, reg) in recs[slot].registers.entries {
            let ns = reg.survivorCount
            let nc = reg.contextCount
            buffer.write(UInt64(i - previous - 1) << 4 | UInt64(min(ns, 3)) << 2 | UInt64(min(nc, 3)))
            previous = i
            if ns >= 3 { buffer.write(ns) }
            if nc >= 3 { buffer.write(nc) }
            func write(_ s: Version) throws {
                buffer.write(try index(of: s.dot.origin))
                buffer.write(s.dot.counter)
                let t = s.hlc.storageValue
                if let base {
                    Self.writeHLCDelta(t &- base, into: &buffer)
                } else {
                    buffer.write(t)
                    base = t
                }
            }
            // Context entries are kept sorted by origin.
            func write(_ d: Dot) throws {
                buffer.write(try index(of: d.origin))
                buffer.write(d.counter)
            }
            if let w = reg.winner { try write(w) }
            for s in reg.losers { try write(s) }
            if let d = reg.firstContext { try write(d) }
            for d in reg.moreContext { try write(d) }
        }
    }

    mutating func save(_ slot: Int) throws {
        let kind = recs[slot].id.kind
        let specs = EntitySchema.fields(kind)
        // Same parameters for both: the fields, meta, rowid (and, for a new row, the id).
        let isNew = recs[slot].isNewRow
        let stmt =
            isNew
            ? try statement(\.insertStatements, kind) { Self.insertSQL[kind] ?? "" }
            : try statement(\.saveStatements, kind) { Self.saveSQL[kind] ?? "" }
        let deleted = recs[slot].deletedIndex
        var i: Int32 = 1
        for n in specs.indices {
            let v = recs[slot].columns[n]
            stmt.bind(i, n == deleted && v == .null ? .int(0) : v)
            i += 1
        }
        if kind == .replica, let ui = EntitySchema.index(of: "unit", in: .replica), let u = recs[slot].columns[ui].text,
            let rid = ReplicaID(recs[slot].id.owner)
        {
            replicaUnits[rid] = u
        }
        try encodeMeta(slot)
        stmt.bind(i, bytes: buffer.bytes, emptyIsNull: false)
        stmt.bind(i + 1, recs[slot].rowid)
        if isNew { stmt.bind(i + 2, recs[slot].id.rawValue) }
        try stmt.execute(db)
        recs[slot].isNewRow = false
    }

    // MARK: Applying

    func opValue(_ dot: Dot) throws -> Value {
        guard let oi = originIdx[dot.origin] else { return .null }
        let stmt = try db.cachedStatement(sql: "SELECT value FROM op WHERE id = ?")
        let dbv = try DatabaseValue.fetchOne(stmt, arguments: [OpKey.id(oi, dot.counter)]) ?? .null
        return Value.fromDatabaseValue(dbv) ?? .null
    }

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
            let u = recs[s].columns[ui].text
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

    /// Checks one op against the schema and authority; returns its record's slot, the field's
    /// index and the value normalised (the op itself is not copied).
    mutating func validate(_ op: Op, source: OpSource) throws -> (slot: Int, field: Int, value: Value) {
        let slot = try slot(forRaw: op.record)
        let kind = recs[slot].id.kind
        let specs = EntitySchema.fields(kind)
        guard let fi = specs.firstIndex(where: { $0.name == op.field }) else {
            throw SyncError.invalid("field", op.field, "\(kind.label) không có trường này.")
        }
        let value = try validator.normalise(op.value, for: specs[fi])
        let origin = op.dot.origin
        switch source {
        case .genesis:
            return (slot, fi, value)
        case .local, .peer:
            if case .peer(let auth?, let enrolledUnit) = source {
                guard origin == auth else {
                    throw SyncError(
                        .forbidden, "Thao tác \(op.dot) không phải của bản sao đã xác thực \(auth).", field: "origin", value: origin.rawValue)
                }
                if kind == .replica, op.field == "unit", let enrolledUnit, value.text != enrolledUnit {
                    throw SyncError(
                        .forbidden, "Bản sao \(auth) được đăng ký cho đơn vị \(enrolledUnit), không phải \(value).", field: "unit",
                        value: value.description)
                }
            }
            if origin == .genesis {
                throw SyncError(
                    .forbidden, "Dữ liệu khởi tạo của Kế hoạch không thể bị ghi thêm (\(op.dot)).", field: "origin", value: origin.rawValue)
            }
            let writerUnit: String
            if kind == .replica, recs[slot].id.owner == origin.rawValue, op.field == "unit" {
                guard op.dot.counter == 1, try unit(of: origin) == nil else {
                    throw SyncError(.forbidden, "Đơn vị của bản sao \(origin) không thể thay đổi.", field: "unit", value: value.description)
                }
                writerUnit = value.text ?? ""
            } else {
                guard let u = try unit(of: origin) else {
                    throw SyncError(
                        .forbidden, "Bản sao \(origin) chưa đăng ký đơn vị (thao tác \(op.dot)).", field: "origin", value: origin.rawValue)
                }
                writerUnit = u
            }
            try authority.check(writer: origin, writerUnit: writerUnit, record: recs[slot].id, field: op.field, value: value)
            return (slot, fi, value)
        }
    }

    /// Applies a batch: per origin in counter order, skipping what is known and holding back what
    /// lies beyond a gap; then retries held-back ops the batch made applicable.
    mutating func apply(_ incoming: [Op], source: OpSource) throws {
        for op in incoming { try Self.checkStorable(op) }
        // Peers send ops in origin, counter order without repeats: then there is nothing to sort.
        var ordered = true
        for i in incoming.indices.dropFirst() where !(incoming[i - 1].dot < incoming[i].dot) {
            ordered = false
            break
        }
        if ordered {
            try applySorted(incoming, source: source)
        } else {
            let sorted = incoming.sorted { $0.dot < $1.dot }
            var unique: [Op] = []
            unique.reserveCapacity(sorted.count)
            for op in sorted {
                if let last = unique.last, last.dot == op.dot {
                    report.duplicates += 1
                } else {
                    unique.append(op)
                }
            }
            try applySorted(unique, source: source)
        }
        try drainPending(source: source)
    }

    private mutating func applySorted(_ ops: [Op], source: OpSource) throws {
        // Through the buffer, each op is borrowed rather than copied out of the array.
        try ops.withUnsafeBufferPointer { ops in
            try applyRuns(ops, source: source)
        }
    }

    /// The vector is read and advanced once per run of one origin's ops, not once per op.
    private mutating func applyRuns(_ ops: UnsafeBufferPointer<Op>, source: OpSource) throws {
        var runOrigin: ReplicaID?
        var known: UInt64 = 0
        for i in ops.indices {
            let dot = ops[i].dot
            if runOrigin != dot.origin {
                if let o = runOrigin { advance(o, to: known) }
                runOrigin = dot.origin
                known = vv[dot.origin]
            }
            if dot.counter <= known {
                report.duplicates += 1
                continue
            }
            if dot.counter > known + 1 {
                try hold(ops[i])
                continue
            }
            try applyOne(ops[i], source: source)
            known = dot.counter
        }
        if let o = runOrigin { advance(o, to: known) }
    }

    private mutating func advance(_ origin: ReplicaID, to counter: UInt64) {
        guard counter > vv[origin] else { return }
        vv[origin] = counter
        vvDirty.insert(origin)
    }

    /// Refuses what the op log cannot store: a timestamp too far ahead (`HLC.latestAccepted`),
    /// a counter out of range (`OpKey.maxCounter`) in the op's dot or in what it supersedes, and
    /// a `supersedes` that names a later op of the same origin. Checked for the whole batch
    /// before anything is applied or held back.
    static func checkStorable(_ op: Op) throws {
        if op.supersedes.count > 10_000 {
            throw SyncError.invalid("supersedes", String(op.supersedes.count), "thao tác \(op.dot) thay thế quá 10000 giá trị.")
        }
        if let later = op.supersedes.first(where: { $0.origin == op.dot.origin && $0.counter >= op.dot.counter }) {
            throw SyncError.invalid("supersedes", later.description, "thao tác \(op.dot) thay thế một thao tác không thể có trước nó.")
        }
        guard op.hlc <= .latestAccepted else {
            throw SyncError.invalid("hlc", String(op.hlc.rawValue), "thời điểm của thao tác \(op.dot) vượt quá năm 6429.")
        }
        func check(_ d: Dot) throws {
            guard d.counter == 0 || d.counter > OpKey.maxCounter else { return }
            throw SyncError.invalid("counter", String(d.counter), "bộ đếm của thao tác phải từ 1 đến \(OpKey.maxCounter).")
        }
        try check(op.dot)
        for d in op.supersedes { try check(d) }
    }

    mutating func hold(_ op: Op) throws {
        let oi = try index(of: op.dot.origin)
        // A held-back op may supersede values of origins this replica has not heard of yet.
        for d in op.supersedes { _ = try index(of: d.origin) }
        let stmt = try db.cachedStatement(
            sql: "INSERT OR IGNORE INTO pending_op(origin, counter, hlc, record, field, value, supersedes) VALUES (?, ?, ?, ?, ?, ?, ?)")
        try encodeSupersedes(op.supersedes)
        let supersedes = buffer.bytes.isEmpty ? nil : Data(buffer.bytes)
        try stmt.execute(arguments: [
            oi, Int64(op.dot.counter), op.hlc.storageValue, op.record, op.field, op.value, supersedes,
        ])
        report.heldBack += db.changesCount
    }

    mutating func drainPending(source: OpSource) throws {
        guard try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM pending_op)") ?? false else { return }
        var progress = true
        while progress {
            progress = false
            for (origin, oi) in originIdx {
                let next = vv[origin] + 1
                let stmt = try db.cachedStatement(
                    sql: "SELECT counter, hlc, record, field, value, supersedes FROM pending_op WHERE origin = ? AND counter <= ? ORDER BY counter")
                let rows = try Row.fetchAll(stmt, arguments: [oi, Int64(next)])
                guard !rows.isEmpty else { continue }
                for r in rows {
                    let op = try ReplicaStore.decodeOp(r, origin: origin, byIdx: originByIdx, record: r[2], field: r[3], valueColumn: 4)
                    try db.execute(sql: "DELETE FROM pending_op WHERE origin = ? AND counter = ?", arguments: [oi, Int64(op.dot.counter)])
                    report.heldBack = max(0, report.heldBack - 1)
                    if op.dot.counter == vv[origin] + 1 {
                        try applyOne(op, source: source)
                        advance(origin, to: op.dot.counter)
                        progress = true
                    }
                }
            }
        }
    }

    /// Encodes `supersedes` (sorted) into `buffer` as (origin idx, counter) pairs; empty when
    /// there are none.
    mutating func encodeSupersedes(_ dots: [Dot]) throws {
        buffer.reset()
        if dots.isEmpty { return }
        var isSorted = true
        for i in dots.indices.dropFirst() where dots[i] < dots[i - 1] {
            isSorted = false
            break
        }
        for d in isSorted ? dots : dots.sorted() {
            guard let i = originIdx[d.origin] else {
                // The origin of a superseded dot is always known here: applyOne and hold intern it first.
                throw SyncError(.internal, "Bản sao \(d.origin) chưa được ghi nhận.")
            }
            buffer.write(i)
            buffer.write(d.counter)
        }
    }

    /// Applies one op whose origin is at `vv[origin] + 1`; the caller advances the vector.
    mutating func applyOne(_ op: Op, source: OpSource) throws {
        let (slot, fi, value) = try validate(op, source: source)
        let oi = try index(of: op.dot.origin)
        for d in op.supersedes where d.origin != op.dot.origin { _ = try index(of: d.origin) }
        if recs[slot].rowid == 0 {
            // A new record gets its rowid (and so its op-log reference) now and its row once, in
            // `finish`. The rowid is the one SQLite would choose, max(rowid) + 1: only this
            // session writes the typed tables during the transaction.
            let k = Int(recs[slot].id.kind.code)
            if lastRowid[k] == 0 {
                lastRowid[k] = try Int64.fetchOne(db, sql: "SELECT coalesce(max(rowid), 0) FROM \(recs[slot].id.kind.table)") ?? 0
            }
            lastRowid[k] += 1
            recs[slot].rowid = lastRowid[k]
            recs[slot].isNewRow = true
        }
        let statement = try insertOp ?? db.cachedStatement(sql: "INSERT INTO op(id, hlc, target, value, supersedes) VALUES (?, ?, ?, ?, ?)")
        insertOp = statement
        let insert = RawStatement(statement)
        insert.bind(1, OpKey.id(oi, op.dot.counter))
        insert.bind(2, op.hlc.storageValue)
        insert.bind(3, recs[slot].target(fi))
        insert.bind(4, value)
        try encodeSupersedes(op.supersedes)
        insert.bind(5, bytes: buffer.bytes, emptyIsNull: true)
        try insert.execute(db)
        let version = Version(dot: op.dot, hlc: op.hlc)
        let (outcome, isNew, winner) = recs[slot].apply(version, supersedes: op.supersedes, to: fi)
        if case .changed(let winnerChanged) = outcome {
            if winnerChanged {
                if let w = winner {
                    let shown = w.dot == op.dot ? value : try opValue(w.dot)
                    recs[slot].columns[fi] = shown
                } else {
                    recs[slot].columns[fi] = .null
                }
            }
            recs[slot].dirty = true
        } else if isNew {
            recs[slot].dirty = true
        }
        hlc = HLC.receive(last: hlc, remote: op.hlc)
        report.applied += 1
    }

    // MARK: Local ops

    mutating func makeLocalOps(
        record: RecordID, changes: [(String, Value)], delete: Bool, resolve: Bool, me: ReplicaStore.Identity, nowMillis: UInt64
    ) throws -> [Op] {
        let rec = try load(record)
        let specs = EntitySchema.fields(record.kind)
        var ops: [Op] = []
        var counter = vv[me.replica]
        func next(_ field: String, _ value: Value, _ supersedes: [Dot]) {
            counter += 1
            hlc = HLC.tick(last: hlc, nowMillis: nowMillis)
            ops.append(Op(dot: Dot(me.replica, counter), hlc: hlc, record: record.rawValue, field: field, value: value, supersedes: supersedes))
        }
        var changes = changes
        if delete, !changes.contains(where: { $0.0 == "deleted" }) { changes.append(("deleted", .int(1))) }
        for (field, raw) in changes {
            guard let fi = specs.firstIndex(where: { $0.name == field }) else {
                throw SyncError.invalid("field", field, "\(record.kind.label) không có trường này.")
            }
            let value = try validator.normalise(raw, for: specs[fi])
            try authority.check(writer: me.replica, writerUnit: me.unit, record: record, field: field, value: value)
            let reg = rec.registers[fi]
            if !resolve, reg?.isConflicted != true, reg != nil, rec.columns[fi] == value { continue }
            var supersedes = reg?.survivorDots ?? []
            if field == "deleted", value == .int(1) {
                // A delete supersedes what the deleter saw of every field, so that an edit it did
                // not see stays visible as a conflict instead of disappearing.
                var seen = Set<Dot>()
                for (_, r) in rec.registers.entries { for d in r.survivorDots { seen.insert(d) } }
                for d in reg?.contextEntries ?? [] { seen.insert(d) }
                supersedes = Array(seen).sorted()
            }
            next(field, value, supersedes)
        }
        return ops
    }

    // MARK: Finishing

    /// Writes back touched records, the vector, the clock and the conflict list.
    @discardableResult
    mutating func finish() throws -> ApplyReport {
        for slot in recs.indices where recs[slot].dirty {
            try save(slot)
            let fields = recs[slot].conflictedFields
            if recs[slot].hadConflicts || !fields.isEmpty {
                let id = recs[slot].id.rawValue
                try db.cachedStatement(sql: "DELETE FROM conflict WHERE record = ?").execute(arguments: [id])
                let insert = try db.cachedStatement(sql: "INSERT INTO conflict(record, field) VALUES (?, ?)")
                for f in fields { try insert.execute(arguments: [id, f]) }
                recs[slot].hadConflicts = !fields.isEmpty
            }
            report.conflicts += fields.count
            recs[slot].dirty = false
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
}

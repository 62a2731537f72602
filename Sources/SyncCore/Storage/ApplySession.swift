import Foundation
import GRDB

/// One record as loaded for a batch: the winners in schema order and each field's register.
struct LoadedRecord {
    let id: RecordID
    /// The typed row's rowid: with the kind, the record's reference in the op log.
    var rowid: Int64 = 0
    var columns: [Value]
    var registers: [Register?]
    var dirty = false
    /// Whether the conflict table had rows for this record when it was loaded.
    var hadConflicts = false

    init(id: RecordID) {
        self.id = id
        let n = EntitySchema.fields(id.kind).count
        columns = Array(repeating: .null, count: n)
        registers = Array(repeating: nil, count: n)
    }

    var reference: Int64 { rowid << 2 | id.kind.code }

    var deletedIndex: Int? { EntitySchema.index(of: "deleted", in: id.kind) }

    /// The fields in conflict: those with several survivors, plus `deleted` when the record is
    /// deleted while another field holds a value the deleter had not seen (a concurrent edit).
    var conflictedFields: [String] {
        let specs = EntitySchema.fields(id.kind)
        var out: [String] = []
        for (i, r) in registers.enumerated() where r?.isConflicted == true { out.append(specs[i].name) }
        if let di = deletedIndex, columns[di] == .int(1), let dreg = registers[di], !out.contains("deleted") {
            let concurrent = registers.enumerated().contains { i, r in
                i != di && (r?.survivors.contains { !dreg.covers($0.dot) } ?? false)
            }
            if concurrent { out.append("deleted") }
        }
        return out
    }
}

/// The work of one write transaction: applies ops through the pure merge and writes the outcome
/// (op rows, registers, typed rows, vector, conflicts) back in one go.
struct ApplySession {
    let db: Database
    let store: ReplicaStore
    var originIdx: [ReplicaID: Int64] = [:]
    var originByIdx: [Int64: ReplicaID] = [:]
    var vv: VersionVector
    var vvDirty: Set<ReplicaID> = []
    var records: [String: LoadedRecord] = [:]
    var replicaUnits: [ReplicaID: String] = [:]
    var hlc: HLC
    var report = ApplyReport()
    var touchedOrigins: Set<ReplicaID> = []
    /// The op insert, prepared once per batch (looking it up by SQL text costs a hash per op).
    var insertOp: Statement?

    init(db: Database, store: ReplicaStore) throws {
        self.db = db
        self.store = store
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
        if let i = originIdx[origin] { return i }
        try db.execute(sql: "INSERT INTO origin(replica) VALUES (?)", arguments: [origin.rawValue])
        let i = db.lastInsertedRowID
        originIdx[origin] = i
        originByIdx[i] = origin
        return i
    }

    // MARK: Records

    mutating func load(_ id: RecordID) throws -> LoadedRecord {
        if let r = records[id.rawValue] { return r }
        let specs = EntitySchema.fields(id.kind)
        var rec = LoadedRecord(id: id)
        let stmt = RawStatement(try db.cachedStatement(sql: Self.selectSQL[id.kind] ?? ""))
        stmt.bind(1, id.rawValue)
        defer { stmt.reset() }
        if try stmt.step(db) {
            for i in specs.indices { rec.columns[i] = stmt.value(Int32(i)) }
            try decodeMeta(stmt.data(Int32(specs.count)), into: &rec)
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

    static let saveSQL: [EntityKind: String] = Dictionary(
        uniqueKeysWithValues: EntityKind.allCases.map { kind in
            var names = EntitySchema.fields(kind).map(\.name)
            names.append("meta")
            return (kind, "UPDATE \(kind.table) SET \(names.map { "\($0) = ?" }.joined(separator: ", ")) WHERE rowid = ?")
        })

    func decodeMeta(_ data: Data, into rec: inout LoadedRecord) throws {
        var r = VarintReader(data)
        func origin(_ i: Int64) throws -> ReplicaID {
            guard let o = originByIdx[i] else { throw SyncError(.corrupt, "Siêu dữ liệu tham chiếu bản sao không tồn tại.") }
            return o
        }
        while !r.atEnd {
            let fi = try r.readInt()
            guard fi < rec.registers.count else { throw SyncError(.corrupt, "Siêu dữ liệu có trường không tồn tại.") }
            var survivors: [Version] = []
            for _ in 0..<(try r.readInt()) {
                let o = try origin(try r.readInt64())
                let c = try r.read()
                let t = try r.read()
                survivors.append(Version(dot: Dot(o, c), hlc: HLC(rawValue: t)))
            }
            var context: [ReplicaID: UInt64] = [:]
            for _ in 0..<(try r.readInt()) {
                let o = try origin(try r.readInt64())
                context[o] = try r.read()
            }
            rec.registers[fi] = Register(survivors: survivors, context: context)
        }
    }

    mutating func encodeMeta(_ rec: LoadedRecord) throws -> Data {
        var w = VarintWriter()
        for (i, reg) in rec.registers.enumerated() {
            guard let reg else { continue }
            w.write(i)
            w.write(reg.survivors.count)
            for s in reg.survivors {
                w.write(try index(of: s.dot.origin))
                w.write(s.dot.counter)
                w.write(s.hlc.rawValue)
            }
            w.write(reg.context.count)
            for (o, c) in reg.context.sorted(by: { $0.key < $1.key }) {
                w.write(try index(of: o))
                w.write(c)
            }
        }
        return w.data
    }

    mutating func save(_ rec: LoadedRecord) throws {
        let specs = EntitySchema.fields(rec.id.kind)
        let stmt = RawStatement(try db.cachedStatement(sql: Self.saveSQL[rec.id.kind] ?? ""))
        var i: Int32 = 1
        for (n, s) in specs.enumerated() {
            stmt.bind(i, s.name == "deleted" && rec.columns[n] == .null ? .int(0) : rec.columns[n])
            i += 1
        }
        if rec.id.kind == .replica, let ui = EntitySchema.index(of: "unit", in: .replica), let u = rec.columns[ui].text,
            let rid = ReplicaID(rec.id.owner)
        {
            replicaUnits[rid] = u
        }
        stmt.bind(i, try encodeMeta(rec))
        stmt.bind(i + 1, rec.rowid)
        try stmt.execute(db)
    }

    // MARK: Applying

    func opValue(_ dot: Dot) throws -> Value {
        guard let oi = originIdx[dot.origin] else { return .null }
        let stmt = try db.cachedStatement(sql: "SELECT value FROM op WHERE origin = ? AND counter = ?")
        let dbv = try DatabaseValue.fetchOne(stmt, arguments: [oi, Int64(dot.counter)]) ?? .null
        return Value.fromDatabaseValue(dbv) ?? .null
    }

    mutating func unit(of origin: ReplicaID) throws -> String? {
        if let u = replicaUnits[origin] { return u }
        if let r = records[RecordID.replica(origin).rawValue], let ui = EntitySchema.index(of: "unit", in: .replica),
            let u = r.columns[ui].text
        {
            replicaUnits[origin] = u
            return u
        }
        let u = try String.fetchOne(db, sql: "SELECT unit FROM replica WHERE id = ?", arguments: [RecordID.replica(origin).rawValue])
        if let u { replicaUnits[origin] = u }
        return u
    }

    /// Checks one op against the schema and authority; returns it with its value normalised.
    mutating func validate(_ op: Op, source: OpSource) throws -> (RecordID, Int, Op) {
        let rid = try records[op.record]?.id ?? RecordID.parse(op.record, field: "record")
        let specs = EntitySchema.fields(rid.kind)
        guard let fi = specs.firstIndex(where: { $0.name == op.field }) else {
            throw SyncError.invalid("field", op.field, "\(rid.kind.label) không có trường này.")
        }
        var op = op
        op.value = try store.validator.normalise(op.value, for: specs[fi])
        if op.supersedes.count > 10_000
            || op.supersedes.contains(where: { $0.counter == 0 || ($0.origin == op.dot.origin && $0.counter >= op.dot.counter) })
        {
            throw SyncError.invalid("supersedes", op.dot.description, "thao tác thay thế một giá trị không thể có trước nó.")
        }
        let origin = op.dot.origin
        switch source {
        case .genesis:
            return (rid, fi, op)
        case .local, .peer:
            if case .peer(let auth?, let enrolledUnit) = source {
                guard origin == auth else {
                    throw SyncError(
                        .forbidden, "Thao tác \(op.dot) không phải của bản sao đã xác thực \(auth).", field: "origin", value: origin.rawValue)
                }
                if rid.kind == .replica, op.field == "unit", let enrolledUnit, op.value.text != enrolledUnit {
                    throw SyncError(
                        .forbidden, "Bản sao \(auth) được đăng ký cho đơn vị \(enrolledUnit), không phải \(op.value).", field: "unit",
                        value: op.value.description)
                }
            }
            if origin == .genesis {
                throw SyncError(
                    .forbidden, "Dữ liệu khởi tạo của Kế hoạch không thể bị ghi thêm (\(op.dot)).", field: "origin", value: origin.rawValue)
            }
            let writerUnit: String
            if rid.kind == .replica, rid.owner == origin.rawValue, op.field == "unit" {
                guard op.dot.counter == 1, try unit(of: origin) == nil else {
                    throw SyncError(.forbidden, "Đơn vị của bản sao \(origin) không thể thay đổi.", field: "unit", value: op.value.description)
                }
                writerUnit = op.value.text ?? ""
            } else {
                guard let u = try unit(of: origin) else {
                    throw SyncError(
                        .forbidden, "Bản sao \(origin) chưa đăng ký đơn vị (thao tác \(op.dot)).", field: "origin", value: origin.rawValue)
                }
                writerUnit = u
            }
            try store.authority.check(writer: origin, writerUnit: writerUnit, record: rid, field: op.field, value: op.value)
            return (rid, fi, op)
        }
    }

    /// Applies a batch: per origin in counter order, skipping what is known and holding back what
    /// lies beyond a gap; then retries held-back ops the batch made applicable.
    mutating func apply(_ incoming: [Op], source: OpSource) throws {
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
        try applySorted(unique, source: source, holdGaps: true)
        try drainPending(source: source)
    }

    private mutating func applySorted(_ ops: [Op], source: OpSource, holdGaps: Bool) throws {
        for op in ops {
            let known = vv[op.dot.origin]
            if op.dot.counter <= known {
                report.duplicates += 1
                continue
            }
            if op.dot.counter > known + 1 {
                if holdGaps { try hold(op) }
                continue
            }
            try applyOne(op, source: source)
        }
    }

    mutating func hold(_ op: Op) throws {
        let oi = try index(of: op.dot.origin)
        // A held-back op may supersede values of origins this replica has not heard of yet.
        for d in op.supersedes { _ = try index(of: d.origin) }
        let stmt = try db.cachedStatement(
            sql: "INSERT OR IGNORE INTO pending_op(origin, counter, hlc, record, field, value, supersedes) VALUES (?, ?, ?, ?, ?, ?, ?)")
        try stmt.execute(arguments: [
            oi, Int64(op.dot.counter), Int64(bitPattern: op.hlc.rawValue), op.record, op.field, op.value, try encodeSupersedes(op.supersedes),
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
                    let op = try ReplicaStore.decodeOp(r, origin: origin, byIdx: originByIdx, record: r[2], field: r[3])
                    try db.execute(sql: "DELETE FROM pending_op WHERE origin = ? AND counter = ?", arguments: [oi, Int64(op.dot.counter)])
                    report.heldBack = max(0, report.heldBack - 1)
                    if op.dot.counter == vv[origin] + 1 {
                        try applyOne(op, source: source)
                        progress = true
                    }
                }
            }
        }
    }

    func encodeSupersedes(_ dots: [Dot]) throws -> Data? {
        if dots.isEmpty { return nil }
        var w = VarintWriter()
        for d in dots.sorted() {
            guard let i = originIdx[d.origin] else {
                // The origin of a superseded dot is always known here: validation interned it.
                throw SyncError(.internal, "Bản sao \(d.origin) chưa được ghi nhận.")
            }
            w.write(i)
            w.write(d.counter)
        }
        return w.data
    }

    mutating func applyOne(_ raw: Op, source: OpSource) throws {
        let (rid, fi, op) = try validate(raw, source: source)
        let oi = try index(of: op.dot.origin)
        for d in op.supersedes { _ = try index(of: d.origin) }
        // Take the record out of the cache while mutating it, so its arrays are not copied.
        var rec = try records.removeValue(forKey: rid.rawValue) ?? load(rid)
        if rec.rowid == 0 {
            // A new record gets its row (and so its op-log reference) now; `finish` fills it in.
            let placeholder = RawStatement(try db.cachedStatement(sql: "INSERT INTO \(rid.kind.table)(id, meta) VALUES (?, x'')"))
            placeholder.bind(1, rid.rawValue)
            try placeholder.execute(db)
            rec.rowid = db.lastInsertedRowID
        }
        if insertOp == nil {
            insertOp = try db.makeStatement(
                sql: "INSERT INTO op(origin, counter, hlc, record, field, value, supersedes) VALUES (?, ?, ?, ?, ?, ?, ?)")
        }
        guard let insertOp else { return }
        let insert = RawStatement(insertOp)
        insert.bind(1, oi)
        insert.bind(2, Int64(op.dot.counter))
        insert.bind(3, Int64(bitPattern: op.hlc.rawValue))
        insert.bind(4, rec.reference)
        insert.bind(5, Int64(fi))
        insert.bind(6, op.value)
        insert.bind(7, try encodeSupersedes(op.supersedes))
        try insert.execute(db)
        // Move the register out of the record while it changes, so its storage is not copied.
        let isNew = rec.registers[fi] == nil
        var reg = rec.registers[fi] ?? Register()
        rec.registers[fi] = nil
        let outcome = reg.apply(Version(dot: op.dot, hlc: op.hlc), supersedes: op.supersedes)
        rec.registers[fi] = reg
        if case .changed(let winnerChanged) = outcome {
            if winnerChanged {
                if let w = reg.winner {
                    rec.columns[fi] = w.dot == op.dot ? op.value : try opValue(w.dot)
                } else {
                    rec.columns[fi] = .null
                }
            }
            rec.dirty = true
        } else if isNew {
            rec.dirty = true
        }
        records[rid.rawValue] = rec
        vv[op.dot.origin] = op.dot.counter
        vvDirty.insert(op.dot.origin)
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
            let value = try store.validator.normalise(raw, for: specs[fi])
            try store.authority.check(writer: me.replica, writerUnit: me.unit, record: record, field: field, value: value)
            let reg = rec.registers[fi]
            if !resolve, reg?.isConflicted != true, reg != nil, rec.columns[fi] == value { continue }
            var supersedes = reg?.survivorDots ?? []
            if field == "deleted", value == .int(1) {
                // A delete supersedes what the deleter saw of every field, so that an edit it did
                // not see stays visible as a conflict instead of disappearing.
                var seen = Set<Dot>()
                for r in rec.registers { for d in r?.survivorDots ?? [] { seen.insert(d) } }
                for (o, c) in reg?.context ?? [:] { seen.insert(Dot(o, c)) }
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
        for key in records.keys.sorted() {
            guard let rec = records[key], rec.dirty else { continue }
            try save(rec)
            let fields = rec.conflictedFields
            if rec.hadConflicts || !fields.isEmpty {
                try db.cachedStatement(sql: "DELETE FROM conflict WHERE record = ?").execute(arguments: [rec.id.rawValue])
                let insert = try db.cachedStatement(sql: "INSERT INTO conflict(record, field) VALUES (?, ?)")
                for f in fields { try insert.execute(arguments: [rec.id.rawValue, f]) }
                records[key]?.hadConflicts = !fields.isEmpty
            }
            report.conflicts += fields.count
            records[key]?.dirty = false
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

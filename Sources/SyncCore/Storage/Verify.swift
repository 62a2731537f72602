import Foundation
import GRDB
import GRDBSQLite

/// What `verify` found in a store (docs/OPERATIONS.md, "Kiểm tra và sửa chữa"): each problem
/// says what is damaged and where, in Vietnamese; the counts say what was checked.
public struct VerifyReport: Codable, Sendable, Equatable {
    /// Which part of the store a problem is in.
    public enum Kind: String, Codable, Sendable {
        /// The SQLite file itself (`PRAGMA quick_check` / `integrity_check`).
        case sqlite
        /// The op log: an op missing, unreadable, beyond the version vector, of no known origin.
        case opLog = "op_log"
        /// An origin's ops no longer hash to the head stored for them.
        case chain
        /// A stored head whose author's signature does not verify.
        case signature
        /// The typed tables (derived from the op log) differ from a rebuild from the op log.
        case derived

        /// The part's name, as messages give it.
        public var label: String {
            switch self {
            case .sqlite: return "tệp SQLite"
            case .opLog: return "nhật ký thao tác"
            case .chain: return "chuỗi băm"
            case .signature: return "chữ ký"
            case .derived: return "bảng dẫn xuất"
            }
        }
    }

    public struct Problem: Codable, Sendable, Equatable {
        public var kind: Kind
        /// Where: the file, a table, an op `origin:counter`, a record id.
        public var location: String
        /// What, in Vietnamese.
        public var message: String
        /// For damage to one origin's log: that origin.
        public var origin: ReplicaID?

        public init(kind: Kind, location: String, message: String, origin: ReplicaID? = nil) {
            self.kind = kind
            self.location = location
            self.message = message
            self.origin = origin
        }

        enum CodingKeys: String, CodingKey {
            case kind, message, origin
            case location = "where"
        }
    }

    /// The database checked.
    public var db: String
    /// No problem found.
    public var ok: Bool
    /// `quick_check`, or `integrity_check` with `--full`.
    public var integrity: String
    /// Ops in the log.
    public var ops: Int
    /// Origins whose chain was hashed again (every origin but the plan's seed).
    public var chains: Int
    /// Authors' signatures on stored heads checked.
    public var signatures: Int
    /// Records compared with a rebuild from the op log (nil: not compared).
    public var records: Int?
    /// The problems, at most `VerifyReport.listed` of them.
    public var problems: [Problem]
    /// Problems found beyond those listed.
    public var unlisted: Int
    /// Where a repair cuts each origin whose log is damaged: the last counter still verified
    /// (its ops beyond are received again at the next sync).
    public var cuts: [String: UInt64]
    public var seconds: Double
    /// The one summary line (`Kiểm tra: tốt — …` or `Kiểm tra: HỎNG — …`).
    public var summary: String

    static let listed = 100

    /// The error a command exits with when the store is damaged (code `corrupt`, exit 7).
    public func damage(repair: String) -> SyncError {
        SyncError(
            .corrupt,
            "Cơ sở dữ liệu «\(db)» bị hỏng (\(problems.count + unlisted) vấn đề, xem ở trên). Hãy chạy «\(repair)», hoặc khôi phục bản sao lưu gần nhất.",
            field: "db", value: db)
    }
}

/// The problems found so far, the first `VerifyReport.listed` of them kept.
struct VerifyProblems {
    var list: [VerifyReport.Problem] = []
    var unlisted = 0
    var isEmpty: Bool { list.isEmpty && unlisted == 0 }
    var count: Int { list.count + unlisted }

    /// Messages are kept without a final full stop: they are joined into sentences.
    mutating func add(_ p: VerifyReport.Problem) {
        var p = p
        if p.message.hasSuffix(".") { p.message.removeLast() }
        if list.count < VerifyReport.listed { list.append(p) } else { unlisted += 1 }
    }

    mutating func add(_ kind: VerifyReport.Kind, _ location: String, _ message: String, origin: ReplicaID? = nil) {
        add(.init(kind: kind, location: location, message: message, origin: origin))
    }
}

extension ReplicaStore {
    /// Checks the store without changing it:
    /// - the SQLite file (`PRAGMA quick_check`, or `integrity_check` when `full`);
    /// - every origin's op log (but the plan's seed): ops 1…vv[origin] all present and none
    ///   beyond, hashed again to the head the version vector holds, and each stored signed head
    ///   at its hash and signed by the origin's registered key;
    /// - with `derived`, the typed tables: a copy of the store (SQLite's backup API, so a hub
    ///   may keep serving) is rebuilt from its op log beside it and the two compared record by
    ///   record (columns, registers as the dump shows them, the conflict list); skipped when the
    ///   log itself is damaged. The temporary files are removed.
    /// Damaged rows become problems in the report, never a crash. `unshared`: no other process
    /// uses this file (a fresh backup, a snapshot, a rebuild), so the rebuild reads it directly.
    /// `everySignature: false` checks only each origin's last signed head (which covers its
    /// whole chain) besides the hashes of all of them: what `hub serve` checks at start.
    public func verify(full: Bool = false, derived: Bool = true, everySignature: Bool = true, unshared: Bool = false) throws -> VerifyReport {
        let started = DispatchTime.now().uptimeNanoseconds
        var problems = VerifyProblems()
        let pragma = full ? "integrity_check" : "quick_check"
        do {
            let rows = try read { db in try String.fetchAll(db, sql: "PRAGMA \(pragma)") }
            if rows != ["ok"] {
                for r in rows {
                    for line in r.split(separator: "\n") where !line.hasPrefix("*** in database") {
                        problems.add(.sqlite, "tệp \(path)", "\(pragma): \(line)")
                    }
                }
            }
        } catch {
            problems.add(.sqlite, "tệp \(path)", "\(pragma) không chạy được: \(Self.describe(error))")
        }
        let ops = (try? opCount()) ?? 0
        let chainCheck = try checkChains(everySignature: everySignature, into: &problems)
        var records: Int?
        if derived {
            if chainCheck.damaged {
                // A rebuild would stop at the damage; `repair` cuts there and rebuilds.
            } else {
                records = try checkDerived(into: &problems, unshared: unshared)
            }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        let secs = String(format: "%.1f", seconds)
        let summary: String
        if problems.isEmpty {
            let compared = records.map { ", \($0) bản ghi khớp nhật ký thao tác" } ?? " (chưa so các bảng dẫn xuất)"
            summary =
                "Kiểm tra: tốt — \(ops) thao tác, \(chainCheck.chains) chuỗi, \(chainCheck.signatures) chữ ký\(compared); \(pragma) ok; \(secs) s"
        } else {
            let first = problems.list[0]
            let others = problems.count > 1 ? " (và \(problems.count - 1) vấn đề khác)" : ""
            summary = "Kiểm tra: HỎNG — \(problems.count) vấn đề: \(first.kind.label), \(first.location): \(first.message)\(others)"
        }
        return VerifyReport(
            db: path, ok: problems.isEmpty, integrity: pragma, ops: ops, chains: chainCheck.chains, signatures: chainCheck.signatures,
            records: records, problems: problems.list, unlisted: problems.unlisted, cuts: chainCheck.cuts, seconds: seconds, summary: summary)
    }

    static func describe(_ error: any Error) -> String {
        if let e = error as? SyncError { return e.message }
        if let e = error as? DatabaseError { return e.message ?? String(describing: e) }
        return String(describing: error)
    }

    // MARK: Chains

    struct ChainsChecked: Sendable {
        var chains = 0
        var signatures = 0
        var damaged = false
        var cuts: [String: UInt64] = [:]
    }

    /// One origin's log as `checkChain` found it.
    struct ChainChecked: Sendable {
        var problems: [VerifyReport.Problem] = []
        var signatures = 0
        /// The last counter to keep when the log is damaged.
        var cut: UInt64?
    }

    /// Every origin's chain, one read each (each consistent in itself while others write).
    private func checkChains(everySignature: Bool, into problems: inout VerifyProblems) throws -> ChainsChecked {
        var out = ChainsChecked()
        let vector: [(Int64, ReplicaID?, String)]
        do {
            vector = try read { db in
                try Row.fetchAll(db, sql: "SELECT v.origin, o.replica FROM version_vector v LEFT JOIN origin o ON o.idx = v.origin ORDER BY v.origin")
                    .map { r in
                        let index = Int64.fromDatabaseValue(r[0]) ?? -1
                        let name = String.fromDatabaseValue(r[1])
                        return (index, name.flatMap(ReplicaID.init), name ?? "?")
                    }
            }
        } catch {
            problems.add(.opLog, "bảng version_vector", "không đọc được véc-tơ phiên bản: \(Self.describe(error))")
            out.damaged = true
            return out
        }
        let me = try? identity()?.replica
        for (index, origin, name) in vector {
            guard let origin else {
                problems.add(.opLog, "bảng version_vector", "véc-tơ phiên bản có dòng của bản sao không hợp lệ «\(name)» (số \(index)).")
                out.damaged = true
                continue
            }
            if origin == .genesis { continue }
            let checked: ChainChecked
            do {
                checked = try read { db in try Self.checkChain(db, origin: origin, index: index, me: me, everySignature: everySignature) }
            } catch {
                problems.add(.opLog, "bản sao \(origin)", "không đọc được nhật ký thao tác: \(Self.describe(error))", origin: origin)
                out.damaged = true
                out.cuts[origin.rawValue] = 0
                continue
            }
            out.chains += 1
            out.signatures += checked.signatures
            for p in checked.problems { problems.add(p) }
            if !checked.problems.isEmpty { out.damaged = true }
            if let cut = checked.cut { out.cuts[origin.rawValue] = cut }
        }
        // Ops of no origin the vector knows: the key ranges between known origins' ranges, each
        // a seek (the dot is the key), not a scan of the log.
        do {
            let known = vector.map(\.0).filter { $0 >= 0 }.sorted()
            let stray = try read { db -> [(Int64, Int64)] in
                var out: [(Int64, Int64)] = []
                var from = Int64.min
                for k in known + [Int64.max >> OpKey.counterBits] {
                    let to = OpKey.id(k, 0)
                    if let r = try Row.fetchOne(
                        db, sql: "SELECT count(*), min(id) FROM op WHERE id > ? AND id <= ?", arguments: [from, to]),
                        let n = Int64.fromDatabaseValue(r[0]), n > 0
                    {
                        out.append((n, (Int64.fromDatabaseValue(r[1]) ?? 0) >> OpKey.counterBits))
                    }
                    from = OpKey.id(k, OpKey.maxCounter)
                }
                return out
            }
            for (n, first) in stray {
                problems.add(.opLog, "bảng op", "có \(n) thao tác của bản sao số \(first) (hoặc sau nó) mà véc-tơ phiên bản không ghi nhận.")
                out.damaged = true
            }
        } catch {
            problems.add(.opLog, "bảng op", "không đọc được nhật ký thao tác: \(Self.describe(error))")
            out.damaged = true
        }
        return out
    }

    /// Hashes `origin`'s ops 1…vv[origin] again, checking each stored signed head on the way
    /// and the version vector's head at the end. Stops at the first damage: what lies beyond
    /// cannot be verified. The cut is the last verified head (or the end of the ops from before
    /// signing); for this replica's own origin, an op missing at c cuts at c−1 (the rebuild
    /// signs its own ops again).
    static func checkChain(_ db: Database, origin: ReplicaID, index: Int64, me: ReplicaID?, everySignature: Bool) throws -> ChainChecked {
        var out = ChainChecked()
        guard let v = try Row.fetchOne(db, sql: "SELECT counter, hash, legacy FROM version_vector WHERE origin = ?", arguments: [index]) else {
            return out
        }
        let counter = UInt64(max(0, Int64.fromDatabaseValue(v[0]) ?? 0))
        let storedHead = ChainHash(data: Data.fromDatabaseValue(v[1]))
        let legacy = UInt64(max(0, Int64.fromDatabaseValue(v[2]) ?? 0))
        func problem(_ kind: VerifyReport.Kind, _ location: String, _ message: String) {
            out.problems.append(.init(kind: kind, location: location, message: message, origin: origin))
        }
        // Heads the store verified when it received them.
        var heads: [(counter: UInt64, hash: ChainHash?, signature: Data?)] = []
        for r in try Row.fetchAll(
            db, sql: "SELECT counter, hash, signature FROM signed_head WHERE origin = ? AND hash IS NOT NULL ORDER BY counter", arguments: [index])
        {
            let c = UInt64(max(0, Int64.fromDatabaseValue(r[0]) ?? 0))
            if c > counter {
                problem(
                    .chain, "\(origin):\(c)",
                    "đầu chuỗi đã ký ở số \(c) vượt véc-tơ phiên bản (\(counter)): véc-tơ phiên bản hoặc bảng signed_head bị sửa.")
                continue
            }
            heads.append((c, ChainHash(data: Data.fromDatabaseValue(r[1])), Data.fromDatabaseValue(r[2])))
        }
        let origins = try OriginTable.load(db)
        var reader = CheckedOpReader(db: db, origins: origins)
        let keyRecord = RecordID.replica(origin).rawValue
        var key: MachineKey?
        var hash = ChainHash.zero
        var buffer = VarintWriter()
        var done: UInt64 = 0
        var lastGood: UInt64 = 0
        var headIndex = 0
        let lastHead = heads.last?.counter ?? 0
        // (first bad counter, known exactly)
        var firstBad: (UInt64, Bool)?
        let scan = RawStatement(
            try db.makeStatement(sql: "SELECT id & \(OpKey.maxCounter), hlc, target, value, supersedes FROM op WHERE id > ? AND id <= ? ORDER BY id"))
        scan.bind(1, OpKey.id(index, 0))
        scan.bind(2, OpKey.id(index, min(counter, OpKey.maxCounter)))
        defer { scan.reset() }
        // Ops of kinds or fields this program does not know are in `unknown_op`, in the chain like any other.
        var unknown = try ReplicaStore.unknownOps(db, originIndex: index, origin: origin, origins: origins, after: 0, through: counter)
        var scanned: Op?
        var scanDone = false
        walk: while true {
            let expected = done + 1
            let op: Op
            if let u = unknown.first, u.dot.counter == expected {
                op = unknown.removeFirst()
            } else {
                if scanned == nil && !scanDone {
                    do {
                        if try scan.step(db) { scanned = try reader.op(scan, origin: origin) } else { scanDone = true }
                    } catch {
                        problem(.opLog, "\(origin):\(expected)", "không đọc được thao tác sau số \(done): \(describe(error))")
                        firstBad = (expected, false)
                        break
                    }
                }
                guard let next = scanned ?? unknown.first else { break }
                if scanned != nil { scanned = nil } else { unknown.removeFirst() }
                op = next
            }
            guard op.dot.counter == expected else {
                problem(.opLog, "\(origin):\(expected)", "thiếu thao tác \(origin):\(expected) (véc-tơ phiên bản ghi đến \(counter)).")
                firstBad = (expected, true)
                break
            }
            hash = OpChain.next(hash, op, buffer: &buffer)
            // The author's key as its own registration gives it (not the typed table, which is derived).
            if key == nil, op.record == keyRecord, op.field == "key", let t = op.value.text { key = MachineKey(base64: t) }
            while headIndex < heads.count, heads[headIndex].counter <= expected {
                let h = heads[headIndex]
                headIndex += 1
                guard h.counter == expected else { continue }
                guard h.hash == hash else {
                    problem(
                        .chain, "\(origin):\(expected)",
                        "các thao tác \(origin):\(lastGood + 1)…\(expected) không còn cho đầu chuỗi đã lưu (lưu \(h.hash?.short ?? "?"), tính lại \(hash.short)): một thao tác trong khoảng này bị sửa hoặc hỏng"
                    )
                    firstBad = (lastGood + 1, false)
                    break walk
                }
                // A signature covers every op up to its head: checking the last one vouches for
                // the chain; every one is checked unless told otherwise (the server's start).
                guard everySignature || expected == lastHead else {
                    lastGood = expected
                    continue
                }
                guard let k = key ?? (try? machineKey(db, of: origin)) else { continue }
                let head = SignedHead(origin: origin, counter: expected, signature: h.signature ?? Data())
                guard head.verifies(hash: hash, key: k) else {
                    problem(
                        .signature, "\(origin):\(expected)",
                        "chữ ký của bản sao \(origin) (khóa \(k.fingerprint)) trên đầu chuỗi \(expected) không hợp lệ: chữ ký hoặc khóa đã lưu bị sửa hoặc hỏng"
                    )
                    firstBad = (lastGood + 1, false)
                    break walk
                }
                out.signatures += 1
                lastGood = expected
            }
            // Ops from before signing have no signature: their end is a place a cut may stop.
            if expected == legacy { lastGood = max(lastGood, expected) }
            done = expected
        }
        if firstBad == nil {
            if done < counter {
                problem(.opLog, "\(origin):\(done + 1)", "thiếu thao tác \(origin):\(done + 1) (véc-tơ phiên bản ghi đến \(counter)).")
                firstBad = (done + 1, true)
            } else if counter > 0, storedHead != hash {
                problem(
                    .chain, "\(origin):\(counter)",
                    "đầu chuỗi trong véc-tơ phiên bản (\(storedHead?.short ?? "không có")) khác kết quả băm lại \(counter) thao tác (\(hash.short)): các thao tác sau số \(lastGood) bị sửa, hoặc véc-tơ phiên bản hỏng"
                )
                firstBad = (lastGood + 1, false)
            }
        }
        if let (c, exact) = firstBad { out.cut = origin == me && exact ? c - 1 : lastGood }
        // Ops beyond the vector: never applied, or the vector went back.
        let beyond = try Row.fetchOne(
            db, sql: "SELECT count(*), min(id & \(OpKey.maxCounter)) FROM op WHERE id > ? AND id <= ?",
            arguments: [OpKey.id(index, min(counter, OpKey.maxCounter)), OpKey.id(index, OpKey.maxCounter)])
        if let beyond, let n = Int64.fromDatabaseValue(beyond[0]), n > 0 {
            let from = Int64.fromDatabaseValue(beyond[1]) ?? 0
            problem(.opLog, "\(origin):\(from)", "\(n) thao tác của bản sao \(origin) từ số \(from) vượt véc-tơ phiên bản (\(counter)).")
            if out.cut == nil { out.cut = counter }
        }
        return out
    }

    // MARK: Derived tables

    /// Rebuilds the typed tables from the op log beside the store and compares; the number of
    /// records compared. The rebuild reads a copy unless the file is `unshared`.
    private func checkDerived(into problems: inout VerifyProblems, unshared: Bool) throws -> Int? {
        let folder = path == ":memory:" ? NSTemporaryDirectory() : (path as NSString).deletingLastPathComponent
        let stem = path == ":memory:" ? "cchc-bo-nho" : (path as NSString).lastPathComponent
        let tag = "kiem-tra-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let base = ((folder.isEmpty ? "." : folder) as NSString).appendingPathComponent("\(stem).\(tag)")
        let copyPath = base + ".ban-chup"
        let rebuiltPath = base + ".dung-lai"
        defer { for p in [copyPath, rebuiltPath] { Self.removeDatabaseFiles(p) } }
        var source = self
        var copy: ReplicaStore?
        var rebuilt: ReplicaStore?
        defer {
            try? rebuilt?.close()
            try? copy?.close()
        }
        do {
            if !unshared || path == ":memory:" {
                try backup(to: copyPath)
                copy = try ReplicaStore.open(path: copyPath, catalog: catalog)
                source = copy!
            }
            rebuilt = try source.rebuild(into: rebuiltPath)
        } catch {
            problems.add(
                .derived, "tệp \(path)", "không dựng lại được các bảng từ nhật ký thao tác để so sánh: \(Self.describe(error))")
            return nil
        }
        do {
            return try Self.compare(source, with: rebuilt!, into: &problems)
        } catch {
            problems.add(.derived, "tệp \(path)", "không đọc được các bảng dẫn xuất để so: \(Self.describe(error))")
            return nil
        }
    }

    static func removeDatabaseFiles(_ path: String) {
        for suffix in ["", "-wal", "-shm", "-journal"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }

    /// A typed row as both sides of the comparison read it.
    struct TypedRow: Sendable {
        var id: String
        var columns: [DatabaseValue]
        var fields: [String: CanonicalDump.FieldState]?
        var damage: String?
    }

    /// Up to `limit` rows of `kind` after `after`, in id order, with their fields as the dump
    /// shows them (or why they could not be read).
    func typedRows(_ kind: EntityKind, after: String?, limit: Int) throws -> [TypedRow] {
        try read { db in
            let reader = try RecordReader(db)
            let names = EntitySchema.fields(kind).map(\.name)
            let columns = names.map { "\"\($0)\"" }.joined(separator: ", ")
            let rows: [Row]
            if let after {
                rows = try Row.fetchAll(
                    db, sql: "SELECT id, \(columns), meta FROM \(kind.table) WHERE id > ? ORDER BY id LIMIT ?", arguments: [after, limit])
            } else {
                rows = try Row.fetchAll(db, sql: "SELECT id, \(columns), meta FROM \(kind.table) ORDER BY id LIMIT ?", arguments: [limit])
            }
            return rows.map { row in
                let idValue: DatabaseValue = row[0]
                let id = String.fromDatabaseValue(idValue) ?? idValue.description
                var out = TypedRow(id: id, columns: (1...names.count).map { row[$0] as DatabaseValue })
                do {
                    guard let meta = Data.fromDatabaseValue(row[names.count + 1]) else {
                        throw SyncError(.corrupt, "cột meta không phải dữ liệu nhị phân")
                    }
                    let rid = try RecordID.parse(id)
                    guard rid.kind == kind else { throw SyncError(.corrupt, "mã bản ghi không thuộc bảng \(kind.table)") }
                    out.fields = try CanonicalDump.fields(of: rid, meta: meta, reader: reader)
                } catch {
                    out.damage = Self.describe(error)
                }
                return out
            }
        }
    }

    /// Compares `store`'s typed tables and conflict list with `rebuilt`'s, record by record.
    static func compare(_ store: ReplicaStore, with rebuilt: ReplicaStore, into problems: inout VerifyProblems) throws -> Int {
        var compared = 0
        let chunk = 2_000
        for kind in EntityKind.allCases {
            let names = EntitySchema.fields(kind).map(\.name)
            var ours: [TypedRow] = []
            var theirs: [TypedRow] = []
            var i = 0
            var j = 0
            var oursDone = false
            var theirsDone = false
            while true {
                if i == ours.count, !oursDone {
                    let next = try store.typedRows(kind, after: ours.last?.id, limit: chunk)
                    oursDone = next.count < chunk
                    ours = next
                    i = 0
                }
                if j == theirs.count, !theirsDone {
                    let next = try rebuilt.typedRows(kind, after: theirs.last?.id, limit: chunk)
                    theirsDone = next.count < chunk
                    theirs = next
                    j = 0
                }
                let a = i < ours.count ? ours[i] : nil
                let b = j < theirs.count ? theirs[j] : nil
                if a == nil && b == nil { break }
                if let a, b == nil || a.id < b!.id {
                    problems.add(.derived, a.id, "bản ghi có trong bảng «\(kind.table)» nhưng nhật ký thao tác không tạo ra nó.")
                    compared += 1
                    i += 1
                    continue
                }
                if let b, a == nil || b.id < a!.id {
                    problems.add(.derived, b.id, "thiếu bản ghi trong bảng «\(kind.table)» (nhật ký thao tác có nó).")
                    j += 1
                    continue
                }
                guard let a, let b else { break }
                compared += 1
                i += 1
                j += 1
                for (n, name) in names.enumerated() where a.columns[n] != b.columns[n] {
                    problems.add(
                        .derived, a.id, "cột «\(name)» của bảng «\(kind.table)» là \(show(a.columns[n])), nhật ký thao tác cho \(show(b.columns[n]))."
                    )
                }
                if let damage = a.damage {
                    problems.add(.derived, a.id, "siêu dữ liệu (cột meta) của bảng «\(kind.table)» hỏng, không đọc được: \(damage)")
                } else if let damage = b.damage {
                    problems.add(.derived, b.id, "bản dựng lại không đọc được bản ghi: \(damage)")
                } else if a.fields != b.fields {
                    let all = Set((a.fields ?? [:]).keys).union((b.fields ?? [:]).keys).sorted()
                    let differ = all.filter { a.fields?[$0] != b.fields?[$0] }
                    problems.add(
                        .derived, a.id,
                        "giá trị và các phiên bản còn sống (siêu dữ liệu, cột meta) của trường \(differ.map { "«\($0)»" }.joined(separator: ", ")) khác nhật ký thao tác."
                    )
                }
            }
        }
        let conflicts: @Sendable (Database) throws -> Set<String> = { db in
            Set(
                try Row.fetchAll(db, sql: "SELECT record, field FROM conflict").map { r in
                    "\(String.fromDatabaseValue(r[0]) ?? "?") «\(String.fromDatabaseValue(r[1]) ?? "?")»"
                })
        }
        let listed = try store.read(conflicts)
        let expected = try rebuilt.read(conflicts)
        for extra in listed.subtracting(expected).sorted() {
            problems.add(.derived, "bảng conflict", "ghi xung đột ở \(extra) mà nhật ký thao tác không có.")
        }
        for missing in expected.subtracting(listed).sorted() {
            problems.add(.derived, "bảng conflict", "thiếu xung đột ở \(missing) (nhật ký thao tác có).")
        }
        let vv = try store.versionVector()
        let rebuiltVV = try rebuilt.versionVector()
        if vv != rebuiltVV {
            problems.add(.derived, "bảng version_vector", "véc-tơ phiên bản \(vv) khác véc-tơ dựng lại từ nhật ký thao tác \(rebuiltVV).")
        }
        return compared
    }

    /// A column value for a message.
    static func show(_ v: DatabaseValue) -> String {
        switch v.storage {
        case .null: return "NULL"
        case .int64(let i): return String(i)
        case .double(let d): return String(d)
        case .string(let s): return "«\(s.count > 80 ? String(s.prefix(80)) + "…" : s)»"
        case .blob(let d): return "<\(d.count) byte nhị phân>"
        }
    }
}

/// Reads ops back from `op` rows whatever their damage: every column's type is checked before
/// it is decoded, so a damaged row is an error to report, never a trap.
struct CheckedOpReader {
    let db: Database
    let origins: OriginTable
    private var names: [Int64: String] = [:]
    private var lookups: [RawStatement] = []

    init(db: Database, origins: OriginTable) {
        self.db = db
        self.origins = origins
    }

    /// The current row of `SELECT id & maxCounter, hlc, target, value, supersedes FROM op`.
    mutating func op(_ r: RawStatement, origin: ReplicaID) throws -> Op {
        func integer(_ i: Int32, _ column: String) throws -> Int64 {
            guard r.type(i) == SQLITE_INTEGER else { throw SyncError(.corrupt, "cột «\(column)» không phải số nguyên.") }
            return r.int64(i)
        }
        let counter = try integer(0, "id")
        let hlc = try integer(1, "hlc")
        let target = try integer(2, "target")
        let value: Value
        switch r.type(3) {
        case SQLITE_NULL: value = .null
        case SQLITE_INTEGER: value = .int(r.int64(3))
        case SQLITE_TEXT: value = .text(r.text(3))
        default: throw SyncError(.corrupt, "cột «value» có kiểu không hợp lệ.")
        }
        let supersedes: [Dot]
        switch r.type(4) {
        case SQLITE_NULL: supersedes = []
        case SQLITE_BLOB:
            let origins = self.origins
            supersedes = try r.withBlob(4) { try RegisterCodec.decodeSupersedes(Data($0), origins: origins) }
        default: throw SyncError(.corrupt, "cột «supersedes» không phải dữ liệu nhị phân.")
        }
        let reference = OpTarget.reference(target)
        guard let kind = OpTarget.decode(reference).kind else { throw SyncError(.corrupt, "cột «target» không chỉ loại bản ghi nào (\(target)).") }
        let fields = EntitySchema.fields(kind)
        let fieldIndex = OpTarget.field(target)
        guard fieldIndex < fields.count else { throw SyncError(.corrupt, "cột «target» chỉ trường không tồn tại (\(target)).") }
        let record = try name(reference, kind: kind)
        return Op(
            dot: Dot(origin, UInt64(counter)), hlc: HLC(storageValue: hlc), record: record, field: fields[fieldIndex].name, value: value,
            supersedes: supersedes)
    }

    private mutating func name(_ reference: Int64, kind: EntityKind) throws -> String {
        if let n = names[reference] { return n }
        if lookups.isEmpty {
            lookups = try EntityKind.allCases.map { RawStatement(try db.cachedStatement(sql: "SELECT id FROM \($0.table) WHERE rowid = ?")) }
        }
        let lookup = lookups[Int(kind.code)]
        let rowid = OpTarget.decode(reference).rowid
        lookup.bind(1, rowid)
        defer { lookup.reset() }
        guard try lookup.step(db), lookup.type(0) == SQLITE_TEXT else {
            throw SyncError(.corrupt, "thao tác tham chiếu bản ghi không tồn tại (dòng \(rowid) của bảng «\(kind.table)»).")
        }
        let n = lookup.text(0)
        names[reference] = n
        return n
    }
}

import Foundation
import GRDB

/// One origin's run of a batch, verified before anything of it is applied (docs/PROTOCOL.md,
/// "Verifiable ops"):
/// - ops already known must be the very ops this store holds under those dots (else: a fork);
/// - the rest, joined with ops held back earlier, is hashed forward from the origin's head; the
///   longest contiguous prefix that ends at a head whose signature verifies with the origin's key
///   is applied;
/// - what lies beyond a gap or beyond the last verified head waits in `pending_op` (its heads in
///   `signed_head` without hash) until a later batch completes it.
extension ApplySession {
    static func headsByOrigin(_ heads: [SignedHead]) throws -> [ReplicaID: [UInt64: Data]] {
        var out: [ReplicaID: [UInt64: Data]] = [:]
        for h in heads {
            guard h.counter > 0, h.counter <= OpKey.maxCounter else {
                throw SyncError.invalid("counter", String(h.counter), "số thứ tự của đầu chuỗi phải trong khoảng 1–\(OpKey.maxCounter).")
            }
            guard h.signature.isEmpty || h.signature.count == 64 else {
                throw SyncError(
                    .corrupt, "Chữ ký đầu chuỗi \(h.origin):\(h.counter) không đúng độ dài.", field: "signature", value: "\(h.origin):\(h.counter)")
            }
            out[h.origin, default: [:]][h.counter] = h.signature
        }
        return out
    }

    mutating func applyRun(_ origin: ReplicaID, _ ops: UnsafeBufferPointer<Op>, heads: [UInt64: Data], source: OpSource) throws {
        let known = vv[origin]
        var i = 0
        while i < ops.count, ops[i].dot.counter <= known {
            try checkDuplicate(ops[i], theirHeads: heads)
            report.duplicates += 1
            i += 1
        }
        let fresh = UnsafeBufferPointer(rebasing: ops[i...])
        switch source {
        case .genesis:
            for op in fresh {
                guard op.dot.counter == vv[origin] + 1 else { continue }
                try applyOne(op, source: source, hash: nil)
                advance(origin, to: op.dot.counter)
            }
            return
        case .local:
            var hash = chains[origin] ?? .zero
            for op in fresh {
                hash = OpChain.next(hash, op, buffer: &hashBuffer)
                try applyOne(op, source: source, hash: hash)
                advance(origin, to: op.dot.counter)
                if op.dot.counter % SignedHead.spacing == 0 { try signHead(origin, op.dot.counter, hash) }
            }
            return
        case .peer:
            break
        }
        if origin == .genesis, !fresh.isEmpty {
            throw SyncError(
                .forbidden, "Dữ liệu khởi tạo của Kế hoạch không thể bị ghi thêm (\(fresh[0].dot)).", field: "origin", value: origin.rawValue)
        }
        let originIndex = try index(of: origin)
        if try hasHeldOps(originIndex) {
            // Join with what waits: both sorted by counter; one dot twice must be one op.
            let held = try heldOps(origin, originIndex, after: known)
            var merged: [Op] = []
            var fromHeld = Set<UInt64>()
            var a = 0
            var b = 0
            while a < fresh.count || b < held.count {
                if b >= held.count || (a < fresh.count && fresh[a].dot.counter < held[b].dot.counter) {
                    merged.append(fresh[a])
                    a += 1
                } else if a >= fresh.count || held[b].dot.counter < fresh[a].dot.counter {
                    merged.append(held[b])
                    fromHeld.insert(held[b].dot.counter)
                    b += 1
                } else {
                    var incoming = fresh[a]
                    incoming.supersedes.sort()
                    guard incoming == held[b] else { throw fork(ours: held[b], theirs: fresh[a], theirHeads: heads) }
                    merged.append(held[b])
                    fromHeld.insert(held[b].dot.counter)
                    report.duplicates += 1
                    a += 1
                    b += 1
                }
            }
            var all = try storedHeads(originIndex, after: known)
            for (c, sig) in heads { all[c] = sig }
            try merged.withUnsafeBufferPointer {
                try verifyAndApply(origin, originIndex, $0, heads: all, batchHeads: heads, fromHeld: fromHeld, source: source)
            }
        } else {
            try verifyAndApply(origin, originIndex, fresh, heads: heads, batchHeads: heads, fromHeld: [], source: source)
        }
    }

    private mutating func verifyAndApply(
        _ origin: ReplicaID, _ originIndex: Int64, _ ops: UnsafeBufferPointer<Op>, heads: [UInt64: Data], batchHeads: [UInt64: Data],
        fromHeld: Set<UInt64>, source: OpSource
    ) throws {
        let known = vv[origin]
        var contiguous = 0
        while contiguous < ops.count, ops[contiguous].dot.counter == known + UInt64(contiguous) + 1 { contiguous += 1 }
        var hash = chains[origin] ?? .zero
        var hashes: [ChainHash] = []
        hashes.reserveCapacity(contiguous)
        var key = try machineKey(of: origin)
        let keyRecord = RecordID.replica(origin).rawValue
        // Hash the contiguous run; note each head on it. The signature of the last head vouches
        // for every op before it, so only that one is checked here (one Ed25519 check per origin
        // per batch); the heads before it are stored as covered, and checked again before a page
        // is ever cut at one of them.
        var onRun: [(index: Int, counter: UInt64, signature: Data)] = []
        if let base = ops.baseAddress {
            for k in 0..<contiguous {
                // In place: `ops[k]` beside the inout buffer would be copied whole for each op.
                hash = OpChain.next(hash, base + k, buffer: &hashBuffer)
                hashes.append(hash)
                if key == nil, ops[k].field == "key", ops[k].record == keyRecord, let t = ops[k].value.text { key = MachineKey(base64: t) }
                if !heads.isEmpty, let signature = heads[ops[k].dot.counter] { onRun.append((k, ops[k].dot.counter, signature)) }
            }
        }
        var verified = 0
        var legacyThrough: UInt64 = 0
        var verifiedHeads: [(UInt64, ChainHash, Data, Bool)] = []
        // The last signed head decides; legacy heads count only where allowed and only up to the last one.
        if let last = onRun.last(where: { !$0.signature.isEmpty }) {
            let head = SignedHead(origin: origin, counter: last.counter, signature: last.signature)
            guard let key else {
                throw SyncError(
                    .unauthorized,
                    "Không có khóa ký của bản sao \(origin) để kiểm tra thao tác \(origin):\(last.counter): bản sao chưa đăng ký khóa.",
                    field: "origin", value: "\(origin):\(last.counter)")
            }
            guard head.verifies(hash: hashes[last.index], key: key) else {
                throw SyncError(
                    .unauthorized,
                    "Thao tác của bản sao \(origin) đến \(origin):\(last.counter) không khớp chữ ký của bản sao (khóa \(key.fingerprint)): nội dung bị sửa, hỏng hoặc giả mạo. Lô thao tác bị từ chối, không thay đổi gì.",
                    field: "origin", value: "\(origin):\(last.counter)")
            }
            verified = last.index + 1
            for h in onRun where !h.signature.isEmpty && h.index <= last.index {
                verifiedHeads.append((h.counter, hashes[h.index], h.signature, h.index == last.index))
            }
        }
        if let legacy = onRun.last(where: { $0.signature.isEmpty }), legacy.index >= verified {
            guard allowLegacy else {
                throw SyncError(
                    .unauthorized,
                    "Thao tác \(origin) đến \(legacy.counter) không có chữ ký của tác giả; chỉ hub của bản sao mới được gửi thao tác cũ chưa ký.",
                    field: "signature", value: "\(origin):\(legacy.counter)")
            }
            verified = legacy.index + 1
            legacyThrough = legacy.counter
        }
        // The vector and the chain head advance once per run, not once per op.
        for k in 0..<verified {
            try applyOne(ops[k], source: source, hash: nil)
            if !fromHeld.isEmpty, fromHeld.contains(ops[k].dot.counter) {
                try db.cachedStatement(sql: "DELETE FROM pending_op WHERE origin = ? AND counter = ?").execute(arguments: [
                    originIndex, Int64(ops[k].dot.counter),
                ])
                report.heldBack = max(0, report.heldBack - 1)
            }
        }
        if verified > 0 {
            chains[origin] = hashes[verified - 1]
            advance(origin, to: ops[verified - 1].dot.counter)
        }
        if legacyThrough > 0 { legacyRaised[origin] = max(legacyRaised[origin] ?? 0, legacyThrough) }
        for (c, h, sig, checked) in verifiedHeads { headsOut.append((origin, c, h, sig, checked)) }
        for k in verified..<ops.count where fromHeld.isEmpty || !fromHeld.contains(ops[k].dot.counter) { try hold(ops[k]) }
        let applied = known + UInt64(verified)
        for (c, sig) in batchHeads where c > applied && !sig.isEmpty { headsOut.append((origin, c, nil, sig, false)) }
    }

    /// This store's signed head covering `counter` of `origin`, for a fork's evidence.
    private func ourHead(_ origin: ReplicaID, covering counter: UInt64) throws -> SignedHead? {
        guard let index = origins.indexOf[origin],
            let row = try Row.fetchOne(
                db, sql: "SELECT counter, signature FROM signed_head WHERE origin = ? AND counter >= ? AND hash IS NOT NULL ORDER BY counter LIMIT 1",
                arguments: [index, Int64(counter)])
        else { return nil }
        return SignedHead(origin: origin, counter: UInt64(row[0] as Int64), signature: row[1])
    }

    func fork(ours: Op, theirs: Op, theirHeads: [UInt64: Data]) -> ForkDetected {
        let c = theirs.dot.counter
        let their = theirHeads.filter { $0.key >= c }.min { $0.key < $1.key }.map {
            SignedHead(origin: theirs.dot.origin, counter: $0.key, signature: $0.value)
        }
        return ForkDetected(
            origin: theirs.dot.origin, counter: c, ours: ForkDetected.summary(ours), theirs: ForkDetected.summary(theirs),
            ourHead: (try? ourHead(theirs.dot.origin, covering: c)) ?? nil, theirHead: their)
    }

    /// An op under a dot this store already applied must be the op it holds.
    private mutating func checkDuplicate(_ op: Op, theirHeads: [UInt64: Data]) throws {
        if op.dot.origin == .genesis { return }
        var reader = OpReader(db: db, origins: origins)
        guard let stored = try reader.op(op.dot) else {
            throw SyncError(
                .corrupt, "Véc-tơ phiên bản ghi có \(op.dot) nhưng nhật ký thao tác không có: cơ sở dữ liệu bị hỏng; hãy chạy «repair».",
                field: "origin", value: op.dot.description)
        }
        var theirs = op
        theirs.supersedes.sort()
        if stored != theirs { throw fork(ours: stored, theirs: op, theirHeads: theirHeads) }
    }

    /// Signs this machine's head at `counter` (local ops, at every commit and every
    /// `SignedHead.spacing` ops).
    mutating func signHead(_ origin: ReplicaID, _ counter: UInt64, _ hash: ChainHash) throws {
        guard let signer, signer.replica == origin else { return }
        let head = try signer.key.sign(origin: origin, counter: counter, hash: hash)
        headsOut.append((origin, counter, hash, head.signature, true))
    }

    /// The public key `origin` registered, as this batch sees it.
    mutating func machineKey(of origin: ReplicaID) throws -> MachineKey? {
        if let k = keys[origin] { return k }
        var key: MachineKey?
        if let s = recordSlot[RecordID.replica(origin).rawValue], let ki = EntitySchema.index(of: "key", in: .replica),
            let t = records[s].columns[ki].text
        {
            key = MachineKey(base64: t)
        } else {
            key = try ReplicaStore.machineKey(db, of: origin)
        }
        if let key { keys[origin] = key }
        return key
    }

    // MARK: Held back

    mutating func hold(_ op: Op) throws {
        let originIndex = try index(of: op.dot.origin)
        // A held-back op may supersede values of origins this replica has not heard of yet.
        for d in op.supersedes { _ = try index(of: d.origin) }
        let insert = try db.cachedStatement(
            sql: "INSERT OR IGNORE INTO pending_op(origin, counter, hlc, record, field, value, supersedes) VALUES (?, ?, ?, ?, ?, ?, ?)")
        try RegisterCodec.encodeSupersedes(op.supersedes, origins: origins, into: &buffer)
        let supersedes = buffer.bytes.isEmpty ? nil : Data(buffer.bytes)
        try insert.execute(arguments: [
            originIndex, Int64(op.dot.counter), op.hlc.storageValue, op.record, op.field, op.value, supersedes,
        ])
        report.heldBack += db.changesCount
        heldOrigins?.insert(originIndex)
    }

    private mutating func hasHeldOps(_ originIndex: Int64) throws -> Bool {
        if heldOrigins == nil {
            heldOrigins = Set(try Int64.fetchAll(db, sql: "SELECT DISTINCT origin FROM pending_op"))
        }
        return heldOrigins?.contains(originIndex) ?? false
    }

    private func heldOps(_ origin: ReplicaID, _ originIndex: Int64, after known: UInt64) throws -> [Op] {
        // Ops at or below the vector (held before an earlier batch applied them) are stale.
        try db.execute(sql: "DELETE FROM pending_op WHERE origin = ? AND counter <= ?", arguments: [originIndex, Int64(known)])
        let rows = try Row.fetchAll(
            db, sql: "SELECT counter, hlc, record, field, value, supersedes FROM pending_op WHERE origin = ? ORDER BY counter",
            arguments: [originIndex])
        return try rows.map { try OpRow.decode($0, origin: origin, origins: origins, record: $0[2], field: $0[3], valueColumn: 4) }
    }

    private func storedHeads(_ originIndex: Int64, after known: UInt64) throws -> [UInt64: Data] {
        var out: [UInt64: Data] = [:]
        for row in try Row.fetchAll(
            db, sql: "SELECT counter, signature FROM signed_head WHERE origin = ? AND counter > ?", arguments: [originIndex, Int64(known)])
        {
            out[UInt64(row[0] as Int64)] = row[1]
        }
        return out
    }
}

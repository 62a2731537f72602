import Foundation

/// The compact wire form of sync messages: a 6-byte plain header (`CCHC`, the message kind, the
/// protocol version) so a version mismatch is reported before anything else, then the message
/// DEFLATE-compressed. Ops are stored by column (origins, counter deltas, clock deltas, records,
/// fields, values, supersedes) with every string interned once: similar values sit together,
/// which is what makes the compression effective (docs/PROTOCOL.md).
public enum WireCodec {
    static let magic: [UInt8] = Array("CCHC".utf8)
    static let requestKind: UInt8 = 0x51  // "Q"
    static let responseKind: UInt8 = 0x41  // "A"

    // MARK: Messages

    public static func encode(_ r: SyncRequest) throws -> Data {
        var w = VarintWriter()
        writeString(r.replica.rawValue, to: &w)
        writeVector(r.versionVector, to: &w)
        w.write(max(0, r.pageLimit))
        writeKey(r.machineKey, to: &w)
        let digests = r.digests.sorted { $0.key < $1.key }
        w.write(digests.count)
        for (o, d) in digests {
            writeString(o.rawValue, to: &w)
            for shift in stride(from: 56, through: 0, by: -8) { w.bytes.append(UInt8(truncatingIfNeeded: d >> UInt64(shift))) }
        }
        writeOps(r.ops, heads: r.heads, to: &w)
        return Data(magic + [requestKind, r.protocolVersion]) + (try Deflate.compress(w.data))
    }

    public static func encode(_ r: SyncResponse) throws -> Data {
        var w = VarintWriter()
        writeVector(r.hubVersionVector, to: &w)
        w.write(r.more ? 1 : 0)
        w.write(max(0, r.applied))
        w.write(max(0, r.duplicates))
        w.write(r.yourCounter)
        for shift in stride(from: 56, through: 0, by: -8) { w.bytes.append(UInt8(truncatingIfNeeded: r.yourDigest >> UInt64(shift))) }
        writeOps(r.ops, heads: r.heads, to: &w)
        return Data(magic + [responseKind, r.protocolVersion]) + (try Deflate.compress(w.data))
    }

    /// The protocol version a body declares, after checking it is a sync message of `kind`.
    static func header(_ data: Data, kind: UInt8) throws -> UInt8 {
        let b = [UInt8](data.prefix(6))
        guard b.count == 6, Array(b[0..<4]) == magic else {
            throw SyncError(.corrupt, "Nội dung không phải thông điệp đồng bộ CCHC.", field: "body", value: "\(data.count) byte")
        }
        guard b[4] == kind else {
            throw SyncError(
                .corrupt, "Thông điệp đồng bộ không đúng loại (cần \(kind == requestKind ? "yêu cầu" : "phản hồi")).", field: "body",
                value: String(UnicodeScalar(b[4])))
        }
        guard b[5] == SyncProtocol.version else {
            throw unsupportedVersion("\(b[5])")
        }
        return b[5]
    }

    /// The error for a peer speaking another protocol version.
    public static func unsupportedVersion(_ v: String) -> SyncError {
        SyncError(
            .invalidInput,
            "Phiên bản giao thức \(v) không được hỗ trợ; chương trình này dùng phiên bản \(SyncProtocol.version). Hãy cập nhật cùng phiên bản với hub.",
            field: "protocol", value: v)
    }

    public static func decodeRequest(_ data: Data) throws -> SyncRequest {
        let v = try header(data, kind: requestKind)
        var r = VarintReader(bytes: try Deflate.inflate(data.dropFirst(6), limit: SyncProtocol.maxInflatedBytes))
        let replica = try ReplicaID.parse(try readString(&r), field: "replica")
        let vv = try readVector(&r)
        let limit = try r.readInt()
        let key = try readKey(&r)
        var digests: [ReplicaID: UInt64] = [:]
        for _ in 0..<(try count(&r)) {
            let o = try ReplicaID.parse(try readString(&r), field: "digest")
            guard r.bytes.count - r.offset >= 8 else { throw corrupt("mã băm đầu chuỗi bị cắt") }
            var d: UInt64 = 0
            for _ in 0..<8 {
                d = d << 8 | UInt64(r.bytes[r.offset])
                r.offset += 1
            }
            digests[o] = d
        }
        let batch = try readOps(&r)
        guard r.atEnd else { throw corrupt("dữ liệu thừa sau thông điệp") }
        return SyncRequest(
            replica: replica, versionVector: vv, batch: batch, pageLimit: limit, machineKey: key, digests: digests, protocolVersion: v)
    }

    public static func decodeResponse(_ data: Data) throws -> SyncResponse {
        let v = try header(data, kind: responseKind)
        var r = VarintReader(bytes: try Deflate.inflate(data.dropFirst(6), limit: SyncProtocol.maxInflatedBytes))
        let vv = try readVector(&r)
        let more = try r.read() != 0
        let applied = try r.readInt()
        let duplicates = try r.readInt()
        let yourCounter = try r.read()
        guard r.bytes.count - r.offset >= 8 else { throw corrupt("mã băm đầu chuỗi bị cắt") }
        var yourDigest: UInt64 = 0
        for _ in 0..<8 {
            yourDigest = yourDigest << 8 | UInt64(r.bytes[r.offset])
            r.offset += 1
        }
        let batch = try readOps(&r)
        guard r.atEnd else { throw corrupt("dữ liệu thừa sau thông điệp") }
        var response = SyncResponse(
            hubVersionVector: vv, batch: batch, more: more, applied: applied, duplicates: duplicates, protocolVersion: v)
        response.yourCounter = yourCounter
        response.yourDigest = yourDigest
        return response
    }

    // MARK: Pieces

    static func corrupt(_ why: String) -> SyncError {
        SyncError(.corrupt, "Thông điệp đồng bộ bị hỏng: \(why).", field: "body")
    }

    /// What is wrong, without the words "sync message" (for errors about a file).
    static func reason(_ e: SyncError) -> String {
        let prefix = "Thông điệp đồng bộ bị hỏng: "
        guard e.message.hasPrefix(prefix) else { return e.message }
        let rest = e.message.dropFirst(prefix.count)
        return rest.prefix(1).uppercased() + rest.dropFirst()
    }

    static func writeString(_ s: String, to w: inout VarintWriter) {
        let u = Array(s.utf8)
        w.write(u.count)
        w.bytes += u
    }

    static func readString(_ r: inout VarintReader) throws -> String {
        let n = try r.readInt()
        guard n >= 0, n <= r.bytes.count - r.offset else { throw corrupt("chuỗi vượt quá độ dài thông điệp") }
        let s = String(decoding: r.bytes[r.offset..<(r.offset + n)], as: UTF8.self)
        r.offset += n
        return s
    }

    static func writeVector(_ vv: VersionVector, to w: inout VarintWriter) {
        let s = vv.sorted
        w.write(s.count)
        for (o, c) in s {
            writeString(o.rawValue, to: &w)
            w.write(c)
        }
    }

    static func readVector(_ r: inout VarintReader) throws -> VersionVector {
        let n = try count(&r)
        var vv = VersionVector()
        for _ in 0..<n {
            let o = try ReplicaID.parse(try readString(&r), field: "version_vector")
            let c = try r.read()
            // Counters are SQLite integers on both sides: a larger one cannot be real.
            guard c <= UInt64(Int64.max) else { throw corrupt("bộ đếm véc-tơ vượt giới hạn") }
            vv[o] = max(vv[o], c)
        }
        return vv
    }

    /// A count that cannot exceed the bytes left (each element takes at least one byte), so a
    /// damaged count cannot make the decoder allocate without bound.
    static func count(_ r: inout VarintReader) throws -> Int {
        let n = try r.read()
        guard n <= UInt64(r.bytes.count - r.offset) else { throw corrupt("số phần tử vượt quá độ dài thông điệp") }
        return Int(n)
    }

    static func writeKey(_ key: MachineKey?, to w: inout VarintWriter) {
        guard let key else { return w.write(0) }
        w.write(key.raw.count)
        w.bytes += Array(key.raw)
    }

    static func readKey(_ r: inout VarintReader) throws -> MachineKey? {
        let n = try r.readInt()
        if n == 0 { return nil }
        guard n == 32, r.bytes.count - r.offset >= 32 else { throw corrupt("khóa của máy không đúng độ dài") }
        let raw = Data(r.bytes[r.offset..<(r.offset + 32)])
        r.offset += 32
        guard let key = MachineKey(base64: raw.base64EncodedString()) else { throw corrupt("khóa của máy không hợp lệ") }
        return key
    }

    /// The ops (by column) and then the heads: origin string index, counter, a signature of 64
    /// bytes or none (length 0, a legacy head).
    static func writeOps(_ ops: [Op], heads: [SignedHead], to w: inout VarintWriter) {
        var table: [String: Int] = [:]
        var strings: [String] = []
        func intern(_ s: String) -> Int {
            if let i = table[s] { return i }
            table[s] = strings.count
            strings.append(s)
            return strings.count - 1
        }
        var body = VarintWriter()
        // Origins.
        for op in ops { body.write(intern(op.dot.origin.rawValue)) }
        // Counters: delta from the previous op (ops of one origin run consecutively).
        var prev: Int64 = 0
        for op in ops {
            let c = Int64(bitPattern: op.dot.counter)
            body.write(Zigzag.encode(c &- prev))
            prev = c
        }
        // Clocks: delta from the previous op.
        prev = 0
        for op in ops {
            let t = Int64(bitPattern: op.hlc.rawValue)
            body.write(Zigzag.encode(t &- prev))
            prev = t
        }
        for op in ops { body.write(intern(op.record)) }
        for op in ops { body.write(intern(op.field)) }
        // Values: 0 null, 1 + zigzag int, 2 + string index.
        for op in ops {
            switch op.value {
            case .null: body.write(0)
            case .int(let i):
                body.write(1)
                body.write(Zigzag.encode(i))
            case .text(let s):
                body.write(2)
                body.write(intern(s))
            }
        }
        for op in ops {
            body.write(op.supersedes.count)
            for d in op.supersedes {
                body.write(intern(d.origin.rawValue))
                body.write(d.counter)
            }
        }
        for h in heads {
            body.write(intern(h.origin.rawValue))
            body.write(h.counter)
            body.write(h.signature.count)
            body.bytes += Array(h.signature)
        }
        w.write(ops.count)
        w.write(heads.count)
        w.write(strings.count)
        for s in strings { writeString(s, to: &w) }
        w.bytes += body.bytes
    }

    static func readOps(_ r: inout VarintReader) throws -> OpBatch {
        let n = try count(&r)
        let headCount = try count(&r)
        let m = try count(&r)
        var strings: [String] = []
        strings.reserveCapacity(m)
        for _ in 0..<m { strings.append(try readString(&r)) }
        func string(_ r: inout VarintReader) throws -> String {
            let i = try r.read()
            guard i < UInt64(strings.count) else { throw corrupt("chỉ số chuỗi ngoài bảng") }
            return strings[Int(i)]
        }
        var origins: [ReplicaID] = []
        origins.reserveCapacity(n)
        for _ in 0..<n { origins.append(try ReplicaID.parse(try string(&r), field: "origin")) }
        var counters: [UInt64] = []
        var prev: Int64 = 0
        for _ in 0..<n {
            prev = prev &+ Zigzag.decode(try r.read())
            guard prev > 0 else { throw corrupt("bộ đếm thao tác không hợp lệ") }
            counters.append(UInt64(prev))
        }
        var clocks: [UInt64] = []
        prev = 0
        for _ in 0..<n {
            prev = prev &+ Zigzag.decode(try r.read())
            clocks.append(UInt64(bitPattern: prev))
        }
        var records: [String] = []
        for _ in 0..<n { records.append(try string(&r)) }
        var fields: [String] = []
        for _ in 0..<n { fields.append(try string(&r)) }
        var values: [Value] = []
        for _ in 0..<n {
            switch try r.read() {
            case 0: values.append(.null)
            case 1: values.append(.int(Zigzag.decode(try r.read())))
            case 2: values.append(.text(try string(&r)))
            default: throw corrupt("kiểu giá trị không xác định")
            }
        }
        var ops: [Op] = []
        ops.reserveCapacity(n)
        for i in 0..<n {
            let k = try count(&r)
            var sup: [Dot] = []
            for _ in 0..<k {
                let o = try ReplicaID.parse(try string(&r), field: "supersedes")
                sup.append(Dot(o, try r.read()))
            }
            ops.append(
                Op(
                    dot: Dot(origins[i], counters[i]), hlc: HLC(rawValue: clocks[i]), record: records[i], field: fields[i], value: values[i],
                    supersedes: sup))
        }
        var heads: [SignedHead] = []
        heads.reserveCapacity(headCount)
        for _ in 0..<headCount {
            let o = try ReplicaID.parse(try string(&r), field: "head")
            let c = try r.read()
            let len = try r.readInt()
            guard len == 0 || len == 64, r.bytes.count - r.offset >= len else { throw corrupt("chữ ký đầu chuỗi không đúng độ dài") }
            heads.append(SignedHead(origin: o, counter: c, signature: Data(r.bytes[r.offset..<(r.offset + len)])))
            r.offset += len
        }
        return OpBatch(ops: ops, heads: heads)
    }
}

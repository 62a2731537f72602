import Foundation

/// LEB128 unsigned varints: the compact encoding of the wire format (WireCodec), of the
/// replication metadata stored with each record and of `supersedes` in the op log.
struct VarintWriter {
    var bytes: [UInt8] = []

    mutating func write(_ v: UInt64) {
        var v = v
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    mutating func write(_ v: Int64) { write(UInt64(bitPattern: v)) }
    mutating func write(_ v: Int) { write(UInt64(v)) }
    var data: Data { Data(bytes) }

    /// Empties the writer but keeps its buffer, so a session can reuse one for every op.
    mutating func reset() { bytes.removeAll(keepingCapacity: true) }
}

/// Zigzag: a signed integer as an unsigned one where small magnitudes stay small, for varints
/// (0, -1, 1, -2… → 0, 1, 2, 3…).
enum Zigzag {
    static func encode(_ v: Int64) -> UInt64 { UInt64(bitPattern: (v << 1) ^ (v >> 63)) }
    static func decode(_ u: UInt64) -> Int64 { Int64(bitPattern: u >> 1) ^ -Int64(bitPattern: u & 1) }
}

/// A varint reader over borrowed bytes (an SQLite column, a `Data`): no copy.
struct RawVarintReader {
    let bytes: UnsafeRawBufferPointer
    var offset = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    var atEnd: Bool { offset >= bytes.count }

    mutating func read() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard offset < bytes.count, shift < 64 else {
                throw SyncError(.corrupt, "Dữ liệu bị hỏng: một số nguyên (varint) bị cắt cụt hoặc quá dài.")
            }
            let b = bytes[offset]
            offset += 1
            result |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
        }
    }

    mutating func readInt() throws -> Int { Int(truncatingIfNeeded: try read()) }
    mutating func readInt64() throws -> Int64 { Int64(bitPattern: try read()) }
}

/// A varint reader over an owned copy of the bytes (for `Data` that outlives no buffer).
struct VarintReader {
    let bytes: [UInt8]
    var offset = 0

    init(_ data: Data) { bytes = [UInt8](data) }
    init(bytes: [UInt8]) { self.bytes = bytes }

    var atEnd: Bool { offset >= bytes.count }

    mutating func read() throws -> UInt64 {
        let start = offset
        let (value, next) = try bytes.withUnsafeBytes { buffer in
            var r = RawVarintReader(buffer)
            r.offset = start
            return (try r.read(), r.offset)
        }
        offset = next
        return value
    }

    mutating func readInt() throws -> Int { Int(truncatingIfNeeded: try read()) }
    mutating func readInt64() throws -> Int64 { Int64(bitPattern: try read()) }
}

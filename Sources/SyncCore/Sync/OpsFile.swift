import Foundation

/// Ops carried by a file between replicas (`unit-client ops export` / `ops import`), for a link
/// with no hub: any origin's ops with the signed heads that cover them, so the receiver verifies
/// them end to end whoever carried the file (docs/PROTOCOL.md, "Ops files"). Two forms with the
/// same content: compact (the wire encoding, the default) and JSON (readable, `--format json`).
extension OpsFileReader {
    /// Reads the compact ops file at `path` page by page into `apply` (one transaction: a file
    /// found cut or damaged at any page changes nothing, and the error says so).
    public static func importing(path: String, _ apply: (() throws -> OpBatch?) throws -> ApplyReport) throws -> ApplyReport {
        do {
            let reader = try OpsFileReader(path: path)
            return try apply { try reader.next() }
        } catch var e as SyncError where e.code == .corrupt && e.field == "file" {
            e.message += " Không nhập thao tác nào của tệp; cơ sở dữ liệu không thay đổi."
            throw e
        }
    }
}

public struct OpsFile: Codable, Sendable {
    public static let currentFormat = "cchc-ops/2"
    /// The first line of the compact form.
    static let compactMagic = Array("CCHC-OPS/2\n".utf8)

    public var format: String
    /// The replica that wrote the file.
    public var replica: ReplicaID
    public var unit: String
    /// The writer's vector when the file was written.
    public var versionVector: VersionVector
    public var ops: [Op]
    public var heads: [SignedHead]

    public init(replica: ReplicaID, unit: String, versionVector: VersionVector, batch: OpBatch) {
        self.format = Self.currentFormat
        self.replica = replica
        self.unit = unit
        self.versionVector = versionVector
        self.ops = batch.ops
        self.heads = batch.heads
    }

    public var batch: OpBatch { OpBatch(ops: ops, heads: heads) }

    enum CodingKeys: String, CodingKey {
        case format, replica, unit, ops, heads
        case versionVector = "version_vector"
    }

    /// The readable form.
    public func encoded() throws -> Data { try JSONEncoder.canonical.encode(self) }

    /// The compact form of version 2 (the previous release's, still read): the magic line, then the
    /// writer, its vector and the ops with their heads in one wire encoding, DEFLATE-compressed.
    /// `OpsFileWriter` writes the current compact form (version 3, in pages).
    public func encodedCompactV2() throws -> Data {
        var w = VarintWriter()
        WireCodec.writeString(replica.rawValue, to: &w)
        WireCodec.writeString(unit, to: &w)
        WireCodec.writeVector(versionVector, to: &w)
        WireCodec.writeOps(ops, heads: heads, to: &w)
        return Data(Self.compactMagic) + (try Deflate.compress(w.data))
    }

    /// Reads a whole file in any form into memory, with errors that name the file (tests and
    /// small files; `ops import` reads the compact form page by page with `OpsFileReader`).
    public static func read(path: String) throws -> OpsFile {
        if try OpsFileReader.isPaged(path: path) {
            let reader = try OpsFileReader(path: path)
            var batch = OpBatch()
            while let page = try reader.next() {
                batch.ops += page.ops
                batch.heads += page.heads
            }
            return OpsFile(replica: reader.replica, unit: reader.unit, versionVector: reader.versionVector, batch: batch)
        }
        let data = try UserFile.read(path, field: "file")
        if data.starts(with: compactMagic) {
            do {
                var r = VarintReader(try Deflate.decompress(data.dropFirst(compactMagic.count), limit: 1 << 30))
                let replica = try ReplicaID.parse(try WireCodec.readString(&r), field: "replica")
                let unit = try WireCodec.readString(&r)
                let vv = try WireCodec.readVector(&r)
                let batch = try WireCodec.readOps(&r)
                guard r.atEnd else { throw WireCodec.corrupt("dữ liệu thừa sau các thao tác") }
                return OpsFile(replica: replica, unit: unit, versionVector: vv, batch: batch)
            } catch let e as SyncError {
                throw SyncError(.corrupt, "Tệp «\(path)» bị hỏng: \(e.message)", field: "file", value: path, cause: e)
            }
        }
        if data.starts(with: Array("{\"format\":\"cchc-ops/1\"".utf8)) {
            throw SyncError(
                .corrupt, "Tệp «\(path)» có định dạng «cchc-ops/1» của phiên bản trước (thao tác không ký); hãy xuất lại bằng chương trình mới.",
                field: "format", value: "cchc-ops/1")
        }
        let file: OpsFile
        do {
            file = try JSONDecoder().decode(OpsFile.self, from: data)
        } catch {
            throw SyncError(.corrupt, "Tệp «\(path)» không phải tệp thao tác hợp lệ: \(error)", field: "file", value: path, cause: error)
        }
        guard file.format == currentFormat else {
            throw SyncError(
                .corrupt, "Tệp «\(path)» có định dạng «\(file.format)», chương trình chỉ đọc «\(currentFormat)».", field: "format", value: file.format
            )
        }
        return file
    }
}

/// The compact ops file of version 3, written and read page by page so neither side holds the file
/// (docs/PROTOCOL.md, "Ops files"): the line `CCHC-OPS/3`, then one DEFLATE stream (with the
/// CRC-32 trailer of `Deflate`) holding the writer (replica, unit, vector), the pages — each its
/// length in bytes (a varint, 1…`OpsFileReader.maxPageBytes`), the ops with their heads in the
/// wire encoding (cut at signed heads) and their CRC-32 (4 bytes, big-endian), so damage is found
/// at the page it hits, before the page is applied — then a 0, and the totals of ops and heads. A cut, spliced or
/// damaged file fails the lengths, the totals, the stream or its CRC-32 when the reader reaches
/// it; what a page carries is verified by its authors' signatures like any batch.
public final class OpsFileWriter {
    static let magic = Array("CCHC-OPS/3\n".utf8)
    private let file: StreamingFileWriter
    private var deflater: Deflate.Deflater!
    public private(set) var ops = 0
    public private(set) var heads = 0
    public private(set) var pages = 0

    public init(path: String, replica: ReplicaID, unit: String, versionVector: VersionVector) throws {
        let file = try StreamingFileWriter(path: path, field: "out")
        self.file = file
        try file.write(Self.magic)
        deflater = try Deflate.Deflater(sink: { try file.write($0) })
        var w = VarintWriter()
        WireCodec.writeString(replica.rawValue, to: &w)
        WireCodec.writeString(unit, to: &w)
        WireCodec.writeVector(versionVector, to: &w)
        try deflater.write(w.bytes)
    }

    /// Appends one page (an empty one is skipped).
    public func write(_ batch: OpBatch) throws {
        guard !batch.ops.isEmpty || !batch.heads.isEmpty else { return }
        try deflater.write(try PagedOps.encode(batch))
        ops += batch.ops.count
        heads += batch.heads.count
        pages += 1
    }

    /// Writes the end and the totals, then puts the file in place (durably; nothing is left
    /// behind if this fails).
    public func finish() throws {
        try deflater.write(PagedOps.end(ops: ops, heads: heads))
        try deflater.finish()
        try file.commit()
    }

    /// Bytes of the file so far.
    public var bytesWritten: Int { file.written }
}

/// Reads an ops file page by page: the compact form of version 3 as it is inflated (memory stays
/// at one page), the earlier compact form and the JSON form whole, as one page.
public final class OpsFileReader {
    /// A page can be no larger: a damaged length cannot make the reader allocate without bound.
    static let maxPageBytes = SyncProtocol.maxInflatedBytes

    public let path: String
    public let replica: ReplicaID
    public let unit: String
    public let versionVector: VersionVector
    /// Whether the file is read page by page (the compact form of version 3).
    public let paged: Bool
    public private(set) var pagesRead = 0
    public private(set) var opsRead = 0
    private var whole: OpBatch?
    private var input: InflatedBytes?
    private var done = false

    /// Whether the file at `path` is a compact file of version 3.
    public static func isPaged(path: String) throws -> Bool {
        let f = try StreamingFileReader(path: path, field: "file")
        return try f.read(upTo: OpsFileWriter.magic.count) == OpsFileWriter.magic
    }

    public init(path: String) throws {
        self.path = path
        if try Self.isPaged(path: path) {
            let file = try StreamingFileReader(path: path, field: "file")
            _ = try file.read(upTo: OpsFileWriter.magic.count)
            let input = try InflatedBytes(Deflate.Inflater(limit: Int.max, source: { try file.read(into: $0) }))
            do {
                replica = try ReplicaID.parse(try input.string(), field: "replica")
                unit = try input.string()
                versionVector = try input.vector()
            } catch let e as SyncError {
                throw Self.damaged(path, e, page: 0, ops: 0)
            }
            self.input = input
            paged = true
        } else {
            let f = try OpsFile.read(path: path)
            replica = f.replica
            unit = f.unit
            versionVector = f.versionVector
            whole = f.batch
            paged = false
        }
    }

    static func damaged(_ path: String, _ e: SyncError, page: Int, ops: Int) -> SyncError {
        let place = page == 0 ? "ở phần đầu" : "ở trang \(page) (sau \(ops) thao tác đọc được)"
        return SyncError(.corrupt, "Tệp «\(path)» bị hỏng \(place): \(WireCodec.reason(e))", field: "file", value: path, cause: e)
    }

    /// The next page, or nil after the last one once the totals, the end of the stream and its
    /// CRC-32 checked out.
    public func next() throws -> OpBatch? {
        if let w = whole {
            whole = nil
            pagesRead = 1
            opsRead = w.ops.count
            return w
        }
        guard let input, !done else { return nil }
        do {
            guard let batch = try PagedOps.next(input, opsSoFar: opsRead, headsSoFar: headsRead) else {
                done = true
                return nil
            }
            pagesRead += 1
            opsRead += batch.ops.count
            headsRead += batch.heads.count
            return batch
        } catch let e as SyncError {
            throw Self.damaged(path, e, page: pagesRead + 1, ops: opsRead)
        }
    }

    private var headsRead = 0
}

/// Pages of ops inside an inflated stream (ops files of version 3, bundles of version 2): each
/// page its length (varint), the ops and heads in the wire encoding and their CRC-32; a 0 ends
/// them, followed by the totals of ops and heads.
enum PagedOps {
    static func encode(_ batch: OpBatch) throws -> [UInt8] {
        var body = VarintWriter()
        WireCodec.writeOps(batch.ops, heads: batch.heads, to: &body)
        guard body.bytes.count <= OpsFileReader.maxPageBytes else {
            throw SyncError(.internal, "Trang thao tác quá lớn (\(body.bytes.count) byte).")
        }
        var w = VarintWriter()
        w.write(body.bytes.count)
        let crc = Deflate.checksum(body.bytes)
        w.bytes += body.bytes
        w.bytes += [UInt8(crc >> 24 & 0xFF), UInt8(crc >> 16 & 0xFF), UInt8(crc >> 8 & 0xFF), UInt8(crc & 0xFF)]
        return w.bytes
    }

    static func end(ops: Int, heads: Int) -> [UInt8] {
        var w = VarintWriter()
        w.write(0)
        w.write(ops)
        w.write(heads)
        return w.bytes
    }

    /// The next page, or nil at the end once the totals match what was read and nothing follows
    /// (the stream's own end and CRC-32 included).
    static func next(_ input: InflatedBytes, opsSoFar: Int, headsSoFar: Int) throws -> OpBatch? {
        let n = try input.length(max: OpsFileReader.maxPageBytes)
        if n == 0 {
            let ops = try input.varint()
            let heads = try input.varint()
            try input.end()
            guard ops == UInt64(opsSoFar), heads == UInt64(headsSoFar) else {
                throw WireCodec.corrupt("tệp ghi \(ops) thao tác và \(heads) chữ ký, đọc được \(opsSoFar) thao tác và \(headsSoFar) chữ ký")
            }
            return nil
        }
        var r = try input.slice(n)
        let crc = try (0..<4).reduce(UInt32(0)) { v, _ in v << 8 | UInt32(try input.byte()) }
        guard Deflate.checksum(r.bytes) == crc else { throw WireCodec.corrupt("sai mã kiểm tra CRC-32 của trang") }
        let batch = try WireCodec.readOps(&r)
        guard r.atEnd else { throw WireCodec.corrupt("dữ liệu thừa sau các thao tác của trang") }
        return batch
    }
}

/// The inflated bytes of a stream, read in pieces: varints, and slices of a given length.
final class InflatedBytes {
    private let inflater: Deflate.Inflater
    private var buffer = [UInt8](repeating: 0, count: 64 * 1024)
    private var start = 0
    private var stop = 0

    init(_ inflater: Deflate.Inflater) { self.inflater = inflater }

    /// Whether more bytes are available (refilling the buffer if needed).
    private func fill() throws -> Bool {
        if start < stop { return true }
        start = 0
        stop = try buffer.withUnsafeMutableBytes { try inflater.read(into: $0) }
        return stop > 0
    }

    func byte() throws -> UInt8 {
        guard try fill() else { throw WireCodec.corrupt("tệp kết thúc giữa chừng") }
        start += 1
        return buffer[start - 1]
    }

    func varint() throws -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try byte()
            guard shift < 64, shift < 63 || b <= 1 else { throw WireCodec.corrupt("số nguyên quá dài") }
            value |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return value }
            shift += 7
        }
    }

    /// A length of at most `max`.
    func length(max: Int) throws -> Int {
        let n = try varint()
        guard n <= UInt64(max) else { throw WireCodec.corrupt("độ dài \(n) byte vượt giới hạn \(max) byte") }
        return Int(n)
    }

    /// The next `n` bytes, as a reader of their own.
    func slice(_ n: Int) throws -> VarintReader {
        var out: [UInt8] = []
        out.reserveCapacity(n)
        while out.count < n {
            guard try fill() else { throw WireCodec.corrupt("tệp kết thúc giữa chừng (cần \(n) byte)") }
            let take = min(n - out.count, stop - start)
            out += buffer[start..<(start + take)]
            start += take
        }
        return VarintReader(bytes: out)
    }

    /// A length-prefixed UTF-8 string (at most 4 KiB: names and ids).
    func string() throws -> String {
        let r = try slice(try length(max: 4096))
        return String(decoding: r.bytes, as: UTF8.self)
    }

    /// A vector, as `WireCodec.readVector` reads one.
    func vector() throws -> VersionVector {
        let n = try varint()
        guard n <= 1 << 20 else { throw WireCodec.corrupt("số phần tử vượt giới hạn") }
        var vv = VersionVector()
        for _ in 0..<n {
            let o = try ReplicaID.parse(try string(), field: "version_vector")
            let c = try varint()
            guard c <= UInt64(Int64.max) else { throw WireCodec.corrupt("bộ đếm véc-tơ vượt giới hạn") }
            vv[o] = max(vv[o], c)
        }
        return vv
    }

    /// Nothing may follow; the stream's own end and CRC-32 are checked here.
    func end() throws {
        guard try !fill() else { throw WireCodec.corrupt("dữ liệu thừa sau tổng số thao tác") }
    }
}

import CCHCZlib
import Foundation

/// A small ZIP writer for the DOCX package: entries are written in order into one byte buffer,
/// each stored or raw-deflated by the system zlib, with zlib's CRC-32; then the central directory
/// and the end of central directory record. No ZIP64: an entry or an archive of 4 GiB or more, or
/// more than 65,535 entries, is refused with an internal error. Every entry has the same fixed
/// modification time, so the same entries give the same bytes.
struct ZipWriter {
    enum Method {
        case stored
        case deflated
    }

    /// 2026-01-01 00:00:00 as an MS-DOS date and time (what ZIPFoundation wrote for the DOCX's
    /// fixed date, 1_767_225_600 seconds since 1970, read in UTC).
    static let dosDate: UInt16 = (2026 - 1980) << 9 | 1 << 5 | 1
    static let dosTime: UInt16 = 0
    /// Made by: Unix (3), ZIP specification 2.1, as ZIPFoundation writes it.
    static let versionMadeBy: UInt16 = 0x0315
    /// A regular file, permissions 0644 (Unix mode in the upper 16 bits).
    static let externalAttributes: UInt32 = UInt32(0o100644) << 16
    /// General purpose flag bit 11: the name is UTF-8.
    static let utf8Flag: UInt16 = 1 << 11
    /// Sizes and offsets must stay below this: 0xFFFFFFFF means "see the ZIP64 record".
    static let limit = UInt64(UInt32.max)
    static let maxEntries = 65_535

    /// The zlib compression level: 1 (fastest) to 9 (smallest).
    let level: Int32
    private var out: [UInt8] = []
    private var central: [UInt8] = []
    private var entries = 0

    init(level: Int32 = 3, capacity: Int = 0) {
        precondition((1...9).contains(level), "zlib level 1...9")
        self.level = level
        out.reserveCapacity(capacity)
    }

    /// Appends one entry: its local file header and its (compressed) bytes.
    mutating func add(_ path: String, _ bytes: some ContiguousBytes, method: Method = .deflated) throws {
        let name = Array(path.utf8)
        guard entries < Self.maxEntries else {
            throw SyncError(.internal, "Tệp ZIP quá nhiều mục: tối đa \(Self.maxEntries) mục (không hỗ trợ ZIP64).")
        }
        guard name.count <= Int(UInt16.max) else {
            throw SyncError(.internal, "Tên mục trong tệp ZIP quá dài.", value: path)
        }
        try bytes.withUnsafeBytes { (data: UnsafeRawBufferPointer) in
            guard UInt64(data.count) < Self.limit else {
                throw SyncError(.internal, "Mục trong tệp ZIP từ 4 GiB trở lên (không hỗ trợ ZIP64).", value: path)
            }
            let offset = out.count
            guard UInt64(offset) < Self.limit else {
                throw SyncError(.internal, "Tệp ZIP từ 4 GiB trở lên (không hỗ trợ ZIP64).", value: path)
            }
            let crc = Self.crc32(data)
            let methodCode: UInt16 = method == .stored ? 0 : 8
            let version: UInt16 = method == .stored ? 10 : 20
            // Local file header; the compressed size (offset + 18) is filled in once known.
            put32(0x0403_4b50)
            put16(version)
            put16(Self.utf8Flag)
            put16(methodCode)
            put16(Self.dosTime)
            put16(Self.dosDate)
            put32(crc)
            put32(0)
            put32(UInt32(data.count))
            put16(UInt16(name.count))
            put16(0)
            out.append(contentsOf: name)
            let start = out.count
            do {
                switch method {
                case .stored: out.append(contentsOf: data)
                case .deflated: try deflate(data, path: path)
                }
                guard UInt64(out.count - start) < Self.limit else {
                    throw SyncError(.internal, "Mục nén trong tệp ZIP từ 4 GiB trở lên (không hỗ trợ ZIP64).", value: path)
                }
            } catch {
                out.removeLast(out.count - offset)  // drop the half-written entry: the archive stays valid
                throw error
            }
            let compressed = out.count - start
            Self.set32(&out, at: offset + 18, UInt32(compressed))

            central.reserveCapacity(central.count + 46 + name.count)
            Self.append32(&central, 0x0201_4b50)
            Self.append16(&central, Self.versionMadeBy)
            Self.append16(&central, version)
            Self.append16(&central, Self.utf8Flag)
            Self.append16(&central, methodCode)
            Self.append16(&central, Self.dosTime)
            Self.append16(&central, Self.dosDate)
            Self.append32(&central, crc)
            Self.append32(&central, UInt32(compressed))
            Self.append32(&central, UInt32(data.count))
            Self.append16(&central, UInt16(name.count))
            Self.append16(&central, 0)  // extra field length
            Self.append16(&central, 0)  // comment length
            Self.append16(&central, 0)  // disk number start
            Self.append16(&central, 0)  // internal attributes
            Self.append32(&central, Self.externalAttributes)
            Self.append32(&central, UInt32(offset))
            central.append(contentsOf: name)
            entries += 1
        }
    }

    /// The archive: the entries, the central directory and the end of central directory record.
    consuming func finish() throws -> Data {
        let directoryOffset = out.count
        guard UInt64(directoryOffset) < Self.limit, UInt64(directoryOffset + central.count) < Self.limit else {
            throw SyncError(.internal, "Tệp ZIP từ 4 GiB trở lên (không hỗ trợ ZIP64).")
        }
        out.append(contentsOf: central)
        put32(0x0605_4b50)
        put16(0)  // this disk
        put16(0)  // the disk with the central directory
        put16(UInt16(entries))
        put16(UInt16(entries))
        put32(UInt32(central.count))
        put32(UInt32(directoryOffset))
        put16(0)  // comment length
        return Data(out)
    }

    /// zlib's CRC-32 of the bytes, fed in pieces whose length fits zlib's `uInt`.
    static func crc32(_ data: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = data.baseAddress, !data.isEmpty else { return 0 }
        var crc: UInt = 0
        var done = 0
        while done < data.count {
            let n = min(data.count - done, 1 << 30)
            crc = CCHCZlib.crc32(crc, base.advanced(by: done).assumingMemoryBound(to: Bytef.self), uInt(n))
            done += n
        }
        return UInt32(truncatingIfNeeded: crc)
    }

    /// Raw deflate (no zlib header, window bits -15) of the bytes, appended to `out`.
    private mutating func deflate(_ data: UnsafeRawBufferPointer, path: String) throws {
        var stream = z_stream()
        let initStatus = deflateInit2_(
            &stream, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard initStatus == Z_OK else {
            throw SyncError(.internal, "Không khởi tạo được zlib (mã \(initStatus)).", value: path)
        }
        defer { deflateEnd(&stream) }
        // The caller has checked data.count < 4 GiB, so it fits zlib's 32-bit avail_in.
        stream.next_in = UnsafeMutablePointer(mutating: data.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.avail_in = uInt(data.count)
        let bound = Int(deflateBound(&stream, uLong(data.count)))
        // Text deflates to a few percent; start at an eighth of the bound and grow when zlib asks.
        var chunk = max(1 << 16, bound / 8)
        while true {
            let used = out.count
            let before = stream.avail_in
            out.append(contentsOf: repeatElement(0, count: chunk))
            let space = min(chunk, Int(UInt32.max))
            let status = out.withUnsafeMutableBufferPointer { buffer -> Int32 in
                stream.next_out = buffer.baseAddress! + used
                stream.avail_out = uInt(space)
                return CCHCZlib.deflate(&stream, Z_FINISH)
            }
            let produced = space - Int(stream.avail_out)
            out.removeLast(chunk - produced)
            stream.next_out = nil
            switch status {
            case Z_STREAM_END:
                guard stream.avail_in == 0 else {
                    throw SyncError(.internal, "zlib dừng trước khi nén hết dữ liệu.", value: path)
                }
                return
            case Z_OK, Z_BUF_ERROR:
                // The output space ran out before the end: give it more and call again, unless
                // zlib could make no progress at all (which would loop for ever).
                guard produced > 0 || stream.avail_in != before else {
                    throw SyncError(.internal, "Lỗi nén zlib: không tiến triển (mã \(status)).", value: path)
                }
                chunk = min(chunk * 2, Int(UInt32.max))
            default:
                throw SyncError(.internal, "Lỗi nén zlib (mã \(status)).", value: path)
            }
        }
    }

    private mutating func put16(_ v: UInt16) { Self.append16(&out, v) }
    private mutating func put32(_ v: UInt32) { Self.append32(&out, v) }

    private static func append16(_ b: inout [UInt8], _ v: UInt16) {
        b.append(UInt8(truncatingIfNeeded: v))
        b.append(UInt8(truncatingIfNeeded: v >> 8))
    }

    private static func append32(_ b: inout [UInt8], _ v: UInt32) {
        for shift in stride(from: 0, to: 32, by: 8) { b.append(UInt8(truncatingIfNeeded: v >> UInt32(shift))) }
    }

    private static func set32(_ b: inout [UInt8], at i: Int, _ v: UInt32) {
        for k in 0..<4 { b[i + k] = UInt8(truncatingIfNeeded: v >> UInt32(8 * k)) }
    }
}

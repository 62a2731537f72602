import CCHCZlib
import Foundation

/// Raw DEFLATE (RFC 1951) through the system zlib, followed by the CRC-32 of the uncompressed
/// bytes (4 bytes, big-endian): raw DEFLATE has no trailer, so without it a body cut just before
/// its end-of-block code could still inflate.
///
/// zlib is always told the true length of the input it may read (`avail_in`), so a cut or damaged
/// body cannot make it read past its buffer. (The earlier path through ZIPFoundation 0.9.20 told
/// zlib that a whole 64 KiB chunk was available whatever the chunk's real size.)
enum Deflate {
    /// Inputs and outputs beyond 4 GiB do not fit zlib's 32-bit counters; bodies are far smaller.
    static let maxBytes = Int(UInt32.max)

    static func compress(_ input: Data) throws -> Data {
        guard input.count < maxBytes else { throw SyncError(.internal, "Dữ liệu quá lớn để nén (\(input.count) byte).") }
        var stream = z_stream()
        let initStatus = deflateInit2_(
            &stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard initStatus == Z_OK else { throw SyncError(.internal, "Không khởi tạo được zlib (mã \(initStatus)).") }
        defer { deflateEnd(&stream) }
        var out = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(input.count))) + 4)
        let status = input.withUnsafeBytes { source in
            out.withUnsafeMutableBufferPointer { target -> Int32 in
                stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress?.assumingMemoryBound(to: Bytef.self))
                stream.avail_in = uInt(source.count)
                stream.next_out = target.baseAddress
                stream.avail_out = uInt(target.count - 4)
                // deflateBound is enough for one call with Z_FINISH.
                return CCHCZlib.deflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END, stream.avail_in == 0 else {
            throw SyncError(.internal, "Không nén được dữ liệu (zlib mã \(status)).")
        }
        let produced = Int(stream.total_out)
        let crc = checksum(input)
        out[produced] = UInt8(crc >> 24 & 0xFF)
        out[produced + 1] = UInt8(crc >> 16 & 0xFF)
        out[produced + 2] = UInt8(crc >> 8 & 0xFF)
        out[produced + 3] = UInt8(crc & 0xFF)
        return Data(out[0..<produced + 4])
    }

    /// Inflates `input`; refuses truncated or damaged input, bytes after the end of the stream, and
    /// output larger than `limit`.
    static func decompress(_ input: Data, limit: Int) throws -> Data { Data(try inflate(input, limit: limit)) }

    /// `decompress` into bytes, holding about the output's size at most once: the output first
    /// goes into a buffer of a guess of 4× the input; when the stream is longer, the rest is only
    /// counted, and a second pass inflates into a buffer of exactly the right size. (Growing a
    /// buffer by doubling held up to three times a 64 MiB body during a copy: the hub's memory
    /// under many maximum-size pages, `hub serve --concurrent-syncs`.)
    static func inflate(_ input: Data, limit: Int) throws -> [UInt8] {
        guard input.count >= 4 else { throw SyncError(.corrupt, "Dữ liệu nén bị cắt cụt.", field: "body") }
        guard input.count < maxBytes else {
            throw SyncError(.invalidInput, "Nội dung nén quá lớn (\(input.count) byte).", field: "body", value: "\(input.count)")
        }
        let body = input.prefix(input.count - 4)
        let expected = input.suffix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        var stream = z_stream()
        let initStatus = inflateInit2_(&stream, -15, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard initStatus == Z_OK else { throw SyncError(.internal, "Không khởi tạo được zlib (mã \(initStatus)).") }
        defer { inflateEnd(&stream) }
        var out = [UInt8](repeating: 0, count: max(64 * 1024, min(limit, body.count * 4)) + 1)
        let total = try body.withUnsafeBytes { source -> Int in
            let total = try pass(&stream, source: source, into: &out, limit: limit)
            guard total > out.count else { return total }
            out = []
            out = [UInt8](repeating: 0, count: total)
            guard inflateReset(&stream) == Z_OK, try pass(&stream, source: source, into: &out, limit: limit) == total else {
                throw SyncError(.internal, "Giải nén lần hai cho kết quả khác lần đầu.")
            }
            return total
        }
        out.removeLast(out.count - total)
        guard checksum(out) == expected else {
            throw SyncError(.corrupt, "Dữ liệu nén bị cắt cụt hoặc hỏng (sai mã kiểm tra CRC-32).", field: "body")
        }
        return out
    }

    /// Inflates all of `source` into `out` while it has room, then only counts; returns the
    /// length of the whole output.
    private static func pass(_ stream: inout z_stream, source: UnsafeRawBufferPointer, into out: inout [UInt8], limit: Int) throws -> Int {
        stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.avail_in = uInt(source.count)
        var scratch: [UInt8] = []
        var total = 0
        while true {
            let intoOut = total < out.count
            if !intoOut && scratch.isEmpty { scratch = [UInt8](repeating: 0, count: 256 * 1024) }
            let space = intoOut ? min(out.count - total, Int(UInt32.max)) : scratch.count
            let before = stream.avail_in
            let start = total
            let result: Int32
            if intoOut {
                result = out.withUnsafeMutableBufferPointer { target -> Int32 in
                    stream.next_out = target.baseAddress! + start
                    stream.avail_out = uInt(space)
                    return CCHCZlib.inflate(&stream, Z_NO_FLUSH)
                }
            } else {
                result = scratch.withUnsafeMutableBufferPointer { target -> Int32 in
                    stream.next_out = target.baseAddress!
                    stream.avail_out = uInt(space)
                    return CCHCZlib.inflate(&stream, Z_NO_FLUSH)
                }
            }
            let produced = space - Int(stream.avail_out)
            total += produced
            stream.next_out = nil
            if total > limit {
                throw SyncError(.invalidInput, "Nội dung giải nén vượt quá giới hạn \(limit) byte.", field: "body", value: "\(total)")
            }
            switch result {
            case Z_STREAM_END:
                guard stream.avail_in == 0 else {
                    throw SyncError(.corrupt, "Dữ liệu nén bị hỏng: còn byte thừa sau khi kết thúc.", field: "body")
                }
                return total
            case Z_OK:
                continue
            case Z_BUF_ERROR:
                // No progress possible: the input ended before the stream did.
                if produced > 0 || stream.avail_in != before { continue }
                throw SyncError(.corrupt, "Dữ liệu nén bị cắt cụt.", field: "body")
            case Z_MEM_ERROR:
                throw SyncError(.internal, "Không đủ bộ nhớ để giải nén.")
            default:
                throw SyncError(.corrupt, "Dữ liệu nén bị hỏng.", field: "body")
            }
        }
    }

    /// zlib's CRC-32 of `bytes`, given their true length.
    static func checksum(_ bytes: some ContiguousBytes) -> UInt32 {
        bytes.withUnsafeBytes { buffer in
            UInt32(crc32(0, buffer.baseAddress?.assumingMemoryBound(to: Bytef.self), uInt(buffer.count)))
        }
    }
}

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

// MARK: Streaming

extension Deflate {
    /// Compresses a stream piece by piece into `sink`, with the same trailer as `compress` (the
    /// CRC-32 of everything written): the output of `write`…`finish` inflates with `decompress`
    /// or `Inflater`. Memory stays at zlib's window and one output buffer whatever the length.
    final class Deflater {
        private let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        private var out = [UInt8](repeating: 0, count: 64 * 1024)
        private var crc: uLong = 0
        private var finished = false
        private let sink: ([UInt8]) throws -> Void

        init(sink: @escaping ([UInt8]) throws -> Void) throws {
            self.sink = sink
            stream.initialize(to: z_stream())
            let status = deflateInit2_(
                stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
            guard status == Z_OK else {
                stream.deallocate()
                throw SyncError(.internal, "Không khởi tạo được zlib (mã \(status)).")
            }
        }

        deinit {
            deflateEnd(stream)
            stream.deallocate()
        }

        func write(_ bytes: [UInt8]) throws {
            guard !bytes.isEmpty else { return }
            precondition(!finished, "Deflater: write after finish")
            crc = bytes.withUnsafeBufferPointer { crc32(crc, $0.baseAddress, uInt($0.count)) }
            try bytes.withUnsafeBufferPointer { source in
                // Pieces are far smaller than 4 GiB; feed them in slices zlib's counters can hold.
                var offset = 0
                while offset < source.count {
                    let n = min(source.count - offset, Int(UInt32.max / 2))
                    stream.pointee.next_in = UnsafeMutablePointer(mutating: source.baseAddress! + offset)
                    stream.pointee.avail_in = uInt(n)
                    try run(Z_NO_FLUSH)
                    offset += n
                }
            }
            stream.pointee.next_in = nil
        }

        /// Ends the stream and writes the CRC-32 trailer.
        func finish() throws {
            precondition(!finished, "Deflater: finish twice")
            finished = true
            stream.pointee.next_in = nil
            stream.pointee.avail_in = 0
            try run(Z_FINISH)
            let c = UInt32(truncatingIfNeeded: crc)
            try sink([UInt8(c >> 24 & 0xFF), UInt8(c >> 16 & 0xFF), UInt8(c >> 8 & 0xFF), UInt8(c & 0xFF)])
        }

        private func run(_ flush: Int32) throws {
            while true {
                let status = out.withUnsafeMutableBufferPointer { target -> Int32 in
                    stream.pointee.next_out = target.baseAddress
                    stream.pointee.avail_out = uInt(target.count)
                    return CCHCZlib.deflate(stream, flush)
                }
                let produced = out.count - Int(stream.pointee.avail_out)
                stream.pointee.next_out = nil
                if produced > 0 { try sink(Array(out[0..<produced])) }
                switch status {
                case Z_STREAM_END:
                    return
                case Z_OK, Z_BUF_ERROR:
                    // Finishing: until the end of the stream. Otherwise while input is left or
                    // zlib filled the whole buffer.
                    if flush == Z_FINISH {
                        if status == Z_BUF_ERROR && produced == 0 { throw SyncError(.internal, "Không nén được dữ liệu (zlib mã \(status)).") }
                        continue
                    }
                    if stream.pointee.avail_in == 0 && produced < out.count { return }
                default:
                    throw SyncError(.internal, "Không nén được dữ liệu (zlib mã \(status)).")
                }
            }
        }
    }

    /// Inflates a stream written by `compress` or `Deflater` as it is read from `source` (which
    /// fills the buffer it is given and returns how many bytes it put there, 0 at the end): the
    /// same refusals as `decompress` (cut, damaged, bytes after the end, a wrong CRC-32, output
    /// beyond `limit`), found when the reader gets there. zlib is told the true length of every
    /// piece of input, and memory stays at one input buffer and zlib's window.
    final class Inflater {
        private let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        private let input: UnsafeMutableRawBufferPointer
        private let source: (UnsafeMutableRawBufferPointer) throws -> Int
        private var sourceEnded = false
        private var ended = false
        private var crc: uLong = 0
        /// Inflated bytes produced so far.
        private(set) var total = 0
        let limit: Int

        init(limit: Int, chunk: Int = 64 * 1024, source: @escaping (UnsafeMutableRawBufferPointer) throws -> Int) throws {
            self.limit = limit
            self.source = source
            input = UnsafeMutableRawBufferPointer.allocate(byteCount: max(16, chunk), alignment: 1)
            stream.initialize(to: z_stream())
            let status = inflateInit2_(stream, -15, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
            guard status == Z_OK else {
                stream.deallocate()
                input.deallocate()
                throw SyncError(.internal, "Không khởi tạo được zlib (mã \(status)).")
            }
        }

        deinit {
            inflateEnd(stream)
            stream.deallocate()
            input.deallocate()
        }

        /// Whether the stream ended (and its trailer checked).
        var atEnd: Bool { ended }

        private func refill() throws {
            guard !sourceEnded else { return }
            let n = try source(input)
            guard n >= 0, n <= input.count else { throw SyncError(.internal, "Nguồn dữ liệu trả về độ dài sai (\(n)).") }
            if n == 0 { sourceEnded = true }
            stream.pointee.next_in = input.baseAddress!.assumingMemoryBound(to: Bytef.self)
            stream.pointee.avail_in = uInt(n)
        }

        /// Fills `target` with up to `target.count` inflated bytes and returns how many: 0 only
        /// once the stream ended, its CRC-32 matched and nothing followed it.
        func read(into target: UnsafeMutableRawBufferPointer) throws -> Int {
            guard !ended, target.count > 0 else { return 0 }
            let space = min(target.count, Int(UInt32.max))
            stream.pointee.next_out = target.baseAddress!.assumingMemoryBound(to: Bytef.self)
            stream.pointee.avail_out = uInt(space)
            defer { stream.pointee.next_out = nil }
            while Int(stream.pointee.avail_out) == space {
                if stream.pointee.avail_in == 0 { try refill() }
                let before = stream.pointee.avail_in
                let status = CCHCZlib.inflate(stream, Z_NO_FLUSH)
                switch status {
                case Z_STREAM_END:
                    ended = true
                case Z_OK:
                    break
                case Z_BUF_ERROR:
                    // No progress possible: the input ended before the stream did.
                    if stream.pointee.avail_in == 0 && sourceEnded && before == 0 {
                        throw SyncError(.corrupt, "Dữ liệu nén bị cắt cụt.", field: "body")
                    }
                case Z_MEM_ERROR:
                    throw SyncError(.internal, "Không đủ bộ nhớ để giải nén.")
                default:
                    throw SyncError(.corrupt, "Dữ liệu nén bị hỏng.", field: "body")
                }
                if ended { break }
                if stream.pointee.avail_in == 0 && sourceEnded && Int(stream.pointee.avail_out) == space {
                    throw SyncError(.corrupt, "Dữ liệu nén bị cắt cụt.", field: "body")
                }
            }
            let produced = space - Int(stream.pointee.avail_out)
            total += produced
            if total > limit {
                throw SyncError(.invalidInput, "Nội dung giải nén vượt quá giới hạn \(limit) byte.", field: "body", value: "\(total)")
            }
            crc = crc32(crc, target.baseAddress?.assumingMemoryBound(to: Bytef.self), uInt(produced))
            if ended { try checkTrailer() }
            return produced
        }

        /// After the end of the DEFLATE stream: exactly the 4 bytes of the CRC-32, matching.
        private func checkTrailer() throws {
            var rest: [UInt8] = []
            while true {
                if stream.pointee.avail_in > 0 {
                    rest += UnsafeBufferPointer(start: stream.pointee.next_in, count: Int(stream.pointee.avail_in))
                    stream.pointee.avail_in = 0
                }
                if rest.count > 4 {
                    throw SyncError(.corrupt, "Dữ liệu nén bị hỏng: còn byte thừa sau khi kết thúc.", field: "body")
                }
                if sourceEnded { break }
                try refill()
            }
            guard rest.count == 4 else { throw SyncError(.corrupt, "Dữ liệu nén bị cắt cụt.", field: "body") }
            let expected = rest.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            guard UInt32(truncatingIfNeeded: crc) == expected else {
                throw SyncError(.corrupt, "Dữ liệu nén bị cắt cụt hoặc hỏng (sai mã kiểm tra CRC-32).", field: "body")
            }
        }
    }
}

import Foundation
import ZIPFoundation

/// Raw DEFLATE (RFC 1951) through the system zlib that ZIPFoundation already links on Linux,
/// followed by the CRC-32 of the uncompressed bytes (4 bytes, big-endian): raw DEFLATE has no
/// trailer, so without it a body cut just before its end-of-block code could still inflate.
enum Deflate {
    static func compress(_ input: Data) throws -> Data {
        // Positions below count from zero: rebase a slice.
        let data = Data(input)
        var out = Data()
        let size = Int64(data.count)
        do {
            let crc = try Data.compress(
                size: size, bufferSize: 64 * 1024,
                provider: { position, chunk in
                    let start = Int(position)
                    return Data(data[data.startIndex + start..<data.startIndex + min(data.count, start + chunk)])
                },
                consumer: { out.append($0) })
            out.append(contentsOf: [UInt8(crc >> 24 & 0xFF), UInt8(crc >> 16 & 0xFF), UInt8(crc >> 8 & 0xFF), UInt8(crc & 0xFF)])
        } catch {
            throw SyncError(.internal, "Không nén được dữ liệu: \(error)", cause: error)
        }
        return out
    }

    /// Inflates `data`; refuses truncated or damaged input and output larger than `limit`.
    static func decompress(_ input: Data, limit: Int) throws -> Data {
        let all = [UInt8](input)
        guard all.count >= 4 else { throw SyncError(.corrupt, "Dữ liệu nén bị cắt cụt.", field: "body") }
        let expected = all.suffix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        let data = Data(all.dropLast(4))
        var out = Data()
        do {
            let crc = try Data.decompress(
                size: Int64(data.count), bufferSize: 64 * 1024, skipCRC32: false,
                provider: { position, chunk in
                    let start = Int(position)
                    // zlib asks again until it sees the end of the stream: an input that stops
                    // early must fail here instead of looping forever.
                    guard start < data.count else { throw SyncError(.corrupt, "Dữ liệu nén bị cắt cụt.", field: "body") }
                    return Data(data[data.startIndex + start..<data.startIndex + min(data.count, start + chunk)])
                },
                consumer: { chunk in
                    out.append(chunk)
                    if out.count > limit {
                        throw SyncError(.invalidInput, "Nội dung giải nén vượt quá giới hạn \(limit) byte.", field: "body", value: "\(out.count)")
                    }
                })
            guard crc == expected else {
                throw SyncError(.corrupt, "Dữ liệu nén bị cắt cụt hoặc hỏng (sai mã kiểm tra CRC-32).", field: "body")
            }
        } catch let e as SyncError {
            throw e
        } catch {
            throw SyncError(.corrupt, "Dữ liệu nén bị hỏng.", field: "body", cause: error)
        }
        return out
    }
}

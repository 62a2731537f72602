import Foundation
import ZIPFoundation

/// Raw DEFLATE (RFC 1951) through the system zlib that ZIPFoundation already links on Linux.
enum Deflate {
    static func compress(_ input: Data) throws -> Data {
        // Positions below count from zero: rebase a slice.
        let data = Data(input)
        var out = Data()
        let size = Int64(data.count)
        do {
            _ = try Data.compress(
                size: size, bufferSize: 64 * 1024,
                provider: { position, chunk in
                    let start = Int(position)
                    return Data(data[data.startIndex + start..<data.startIndex + min(data.count, start + chunk)])
                },
                consumer: { out.append($0) })
        } catch {
            throw SyncError(.internal, "Không nén được dữ liệu: \(error)", cause: error)
        }
        return out
    }

    /// Inflates `data`; refuses truncated or damaged input and output larger than `limit`.
    static func decompress(_ input: Data, limit: Int) throws -> Data {
        let data = Data(input)
        var out = Data()
        var exhausted = false
        do {
            _ = try Data.decompress(
                size: Int64(data.count), bufferSize: 64 * 1024, skipCRC32: true,
                provider: { position, chunk in
                    let start = Int(position)
                    // zlib asks again until it sees the end of the stream: an input that stops
                    // early must fail here instead of looping forever.
                    guard start < data.count else {
                        exhausted = true
                        throw SyncError(.corrupt, "Dữ liệu nén bị cắt cụt.")
                    }
                    return Data(data[data.startIndex + start..<data.startIndex + min(data.count, start + chunk)])
                },
                consumer: { chunk in
                    out.append(chunk)
                    if out.count > limit {
                        throw SyncError(.invalidInput, "Nội dung giải nén vượt quá giới hạn \(limit) byte.", field: "body", value: "\(out.count)")
                    }
                })
        } catch let e as SyncError {
            throw e
        } catch {
            throw SyncError(.corrupt, "Dữ liệu nén bị hỏng\(exhausted ? " (bị cắt cụt)" : "").", field: "body", cause: error)
        }
        return out
    }
}

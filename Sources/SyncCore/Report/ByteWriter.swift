/// A growing UTF-8 buffer with the two writers the report exports need on their hot paths:
/// decimal digits and Vietnamese dates, written straight into the buffer without a temporary
/// String. Shared by the DOCX writer (`WordML`), the evidence digest (`EvidenceDigest`) and the
/// Vietnamese wording (`VN.day`).
struct ByteWriter {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    /// The buffer as text.
    var string: String { String(decoding: bytes, as: UTF8.self) }

    mutating func append(_ byte: UInt8) { bytes.append(byte) }

    mutating func append(_ buffer: UnsafeBufferPointer<UInt8>) { bytes.append(contentsOf: buffer) }

    /// The UTF-8 of `text`, as it is.
    mutating func append(_ text: String) {
        var t = text
        t.withUTF8 { bytes.append(contentsOf: $0) }
    }

    /// The decimal digits of `n` (no grouping; a leading `-` when negative).
    mutating func digits<I: BinaryInteger>(_ n: I) {
        guard n >= 0 else { return append(String(n)) }
        var div: I = 1
        while div <= n / 10 { div *= 10 }
        var v = n
        while div > 0 {
            bytes.append(UInt8(truncatingIfNeeded: 0x30 + v / div))
            v %= div
            div /= 10
        }
    }

    /// `2026-03-05` → `05/03/2026` when `isoDay` has that shape and `accept` takes its bytes;
    /// false, writing nothing, otherwise.
    @discardableResult
    mutating func vietnameseDay(_ isoDay: String, accept: (UnsafeBufferPointer<UInt8>) -> Bool = { _ in true }) -> Bool {
        var d = isoDay
        return d.withUTF8 { b in
            guard b.count == 10, b[4] == 0x2D, b[7] == 0x2D, accept(b) else { return false }
            for k in Self.dayOrder { bytes.append(k < 0 ? 0x2F : b[k]) }
            return true
        }
    }

    /// Where each byte of `DD/MM/YYYY` comes from in `YYYY-MM-DD` (−1: a slash).
    private static let dayOrder = [8, 9, -1, 5, 6, -1, 0, 1, 2, 3]
}

import Foundation

/// A hybrid logical clock timestamp: milliseconds since 1970 in the high 48 bits, a logical
/// counter in the low 16. Ordered like physical time, but never goes backwards and always moves
/// past every timestamp a replica has seen.
public struct HLC: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public var rawValue: UInt64

    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public init(millis: UInt64, logical: UInt16) { rawValue = (millis << 16) | UInt64(logical) }

    public var millis: UInt64 { rawValue >> 16 }
    public var logical: UInt16 { UInt16(truncatingIfNeeded: rawValue) }
    public var date: Date { Date(timeIntervalSince1970: Double(millis) / 1000) }

    public static let zero = HLC(rawValue: 0)
    public static func < (a: HLC, b: HLC) -> Bool { a.rawValue < b.rawValue }

    /// ISO 8601 UTC with milliseconds, and the logical part when it is not zero.
    public var description: String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let base = f.string(from: date)
        return logical == 0 ? base : "\(base)+\(logical)"
    }

    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(UInt64.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }

    /// The next local timestamp after `last`, given the wall clock `now` (pure: no clock inside).
    public static func tick(last: HLC, nowMillis: UInt64) -> HLC {
        if nowMillis > last.millis { return HLC(millis: nowMillis, logical: 0) }
        return HLC(rawValue: last.rawValue + 1)
    }

    /// The clock state after receiving a remote timestamp: it never falls behind what it saw.
    public static func receive(last: HLC, remote: HLC) -> HLC { max(last, remote) }
}

// MARK: Storage form

extension HLC {
    /// The latest timestamp a replica accepts (milliseconds below 2^47, the year 6429), so that
    /// every accepted timestamp has a storage form.
    public static let latestAccepted = HLC(rawValue: UInt64(Int64.max))

    /// 2025-01-01T00:00:00Z in milliseconds: the origin of the compact storage form.
    static let storageEpochMillis: UInt64 = 1_735_689_600_000

    /// The form stored in the database. A timestamp after 2025 with a logical part below 256
    /// (nearly all of them) is `(ms since 2025) << 8 | logical`: 6 bytes in an SQLite record until
    /// 2042, where the raw value takes 8. Any other is the bitwise complement of the raw value,
    /// negative, so the two forms never meet. Requires `self <= latestAccepted`.
    var storageValue: Int64 {
        let ms = millis
        let logical = rawValue & 0xFFFF
        if ms >= Self.storageEpochMillis, logical < 256 {
            return Int64(bitPattern: (ms - Self.storageEpochMillis) << 8 | logical)
        }
        return ~Int64(bitPattern: rawValue)
    }

    /// The timestamp of a stored value (the inverse of `storageValue`).
    init(storageValue s: Int64) {
        if s >= 0 {
            self.init(millis: UInt64(s >> 8) + Self.storageEpochMillis, logical: UInt16(s & 0xFF))
        } else {
            self.init(rawValue: UInt64(bitPattern: ~s))
        }
    }
}

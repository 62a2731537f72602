import Foundation

/// The identity of one replica (one installed database). Lower-case letters and digits, 4–32
/// characters; freshly generated ones are 8 hex digits. `genesis` is the reserved origin of the
/// plan's seed data, which every replica creates identically.
public struct ReplicaID: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String

    public init?(_ raw: String) {
        guard (4...32).contains(raw.utf8.count),
            raw.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x7A) })
        else { return nil }
        rawValue = raw
    }

    /// Parses user input, with an error naming the field.
    public static func parse(_ raw: String, field: String = "replica") throws -> ReplicaID {
        guard let id = ReplicaID(raw) else {
            throw SyncError.invalid(field, raw, "mã bản sao gồm 4–32 chữ thường hoặc chữ số.")
        }
        return id
    }

    public static let genesis = ReplicaID(unchecked: "genesis")

    init(unchecked raw: String) { rawValue = raw }

    /// A new random identity.
    public static func random() -> ReplicaID {
        var g = SystemRandomNumberGenerator()
        let n = UInt32.random(in: 0x1000_0000...UInt32.max, using: &g)
        return ReplicaID(unchecked: String(n, radix: 16))
    }

    public static func < (a: ReplicaID, b: ReplicaID) -> Bool { a.rawValue < b.rawValue }
    public var description: String { rawValue }

    public init(from decoder: any Decoder) throws {
        let raw = try decoder.singleValueContainer().decode(String.self)
        guard let id = ReplicaID(raw) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "bad replica id \(raw)"))
        }
        self = id
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }
}

/// The identity of one op: its origin replica and that origin's counter (1, 2, 3…).
public struct Dot: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public var origin: ReplicaID
    public var counter: UInt64

    public init(_ origin: ReplicaID, _ counter: UInt64) {
        self.origin = origin
        self.counter = counter
    }

    public static func < (a: Dot, b: Dot) -> Bool {
        (a.origin, a.counter) < (b.origin, b.counter)
    }

    public var description: String { "\(origin):\(counter)" }

    enum CodingKeys: String, CodingKey {
        case origin = "o"
        case counter = "c"
    }
}

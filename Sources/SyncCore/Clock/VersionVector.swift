import Foundation

/// `vv[origin]` is the highest counter of `origin` applied. Ops of one origin are applied in
/// counter order, so the vector describes everything a replica knows.
public struct VersionVector: Hashable, Sendable, Codable, CustomStringConvertible {
    public private(set) var counters: [ReplicaID: UInt64]

    public init(_ counters: [ReplicaID: UInt64] = [:]) {
        self.counters = counters.filter { $0.value > 0 }
    }

    public subscript(origin: ReplicaID) -> UInt64 {
        get { counters[origin] ?? 0 }
        set { counters[origin] = newValue == 0 ? nil : newValue }
    }

    /// Whether this vector has seen the dot.
    public func contains(_ dot: Dot) -> Bool { dot.counter <= self[dot.origin] }

    /// The pointwise maximum.
    public func merged(with other: VersionVector) -> VersionVector {
        var r = self
        for (o, c) in other.counters where c > r[o] { r[o] = c }
        return r
    }

    /// Whether every counter here is ≤ the other's.
    public func isDominated(by other: VersionVector) -> Bool {
        counters.allSatisfy { other[$0.key] >= $0.value }
    }

    /// Total number of ops described.
    public var total: UInt64 { counters.values.reduce(0, +) }

    /// Origins in a stable order.
    public var sorted: [(ReplicaID, UInt64)] { counters.sorted { $0.key < $1.key }.map { ($0.key, $0.value) } }

    /// Compact text form `origin:counter,origin:counter` (sorted), used on the command line.
    public var description: String { sorted.map { "\($0.0):\($0.1)" }.joined(separator: ",") }

    /// Parses the compact text form; names the option in the error.
    public static func parse(_ text: String, field: String = "since") throws -> VersionVector {
        var vv = VersionVector()
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty { return vv }
        for part in trimmed.split(separator: ",") {
            let pieces = part.split(separator: ":")
            guard pieces.count == 2, let origin = ReplicaID(String(pieces[0])), let c = UInt64(pieces[1]) else {
                throw SyncError.invalid(field, text, "cần dạng «bản_sao:số,bản_sao:số», ví dụ «genesis:30,a1b2c3d4:12».")
            }
            vv[origin] = max(vv[origin], c)
        }
        return vv
    }

    public init(from decoder: any Decoder) throws {
        let raw = try decoder.singleValueContainer().decode([String: UInt64].self)
        var c: [ReplicaID: UInt64] = [:]
        for (k, v) in raw {
            guard let id = ReplicaID(k) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "bad replica id \(k)"))
            }
            c[id] = v
        }
        self.init(c)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(Dictionary(uniqueKeysWithValues: counters.map { ($0.key.rawValue, $0.value) }))
    }
}

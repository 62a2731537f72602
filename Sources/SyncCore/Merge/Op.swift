import Foundation

/// One immutable change to one field of one record. The op log is the source of truth; every
/// table is derived from it.
public struct Op: Hashable, Sendable, Codable {
    public var dot: Dot
    public var hlc: HLC
    public var record: String
    public var field: String
    public var value: Value
    /// The dots of the values of this field the writer had seen (for a delete: of every field).
    public var supersedes: [Dot]

    public init(dot: Dot, hlc: HLC, record: String, field: String, value: Value, supersedes: [Dot]) {
        self.dot = dot
        self.hlc = hlc
        self.record = record
        self.field = field
        self.value = value
        self.supersedes = supersedes
    }

    enum CodingKeys: String, CodingKey {
        case origin = "o"
        case counter = "c"
        case hlc = "t"
        case record = "r"
        case field = "f"
        case value = "v"
        case supersedes = "s"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        dot = Dot(try c.decode(ReplicaID.self, forKey: .origin), try c.decode(UInt64.self, forKey: .counter))
        hlc = try c.decode(HLC.self, forKey: .hlc)
        record = try c.decode(String.self, forKey: .record)
        field = try c.decode(String.self, forKey: .field)
        value = try c.decodeIfPresent(Value.self, forKey: .value) ?? .null
        supersedes = try c.decodeIfPresent([Dot].self, forKey: .supersedes) ?? []
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(dot.origin, forKey: .origin)
        try c.encode(dot.counter, forKey: .counter)
        try c.encode(hlc, forKey: .hlc)
        try c.encode(record, forKey: .record)
        try c.encode(field, forKey: .field)
        if value != .null { try c.encode(value, forKey: .value) }
        if !supersedes.isEmpty { try c.encode(supersedes, forKey: .supersedes) }
    }
}

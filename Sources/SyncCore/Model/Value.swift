import Foundation

/// A replicated field value. Exactly SQLite's storage classes that the model uses, so a value
/// round-trips through the op log unchanged.
public enum Value: Sendable, Hashable, Codable, CustomStringConvertible {
    case null
    case int(Int64)
    case text(String)

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let i = try? c.decode(Int64.self) {
            self = .int(i)
        } else {
            self = .text(try c.decode(String.self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .int(let i): try c.encode(i)
        case .text(let s): try c.encode(s)
        }
    }

    public var text: String? {
        if case .text(let s) = self { return s }
        return nil
    }

    public var int: Int64? {
        if case .int(let i) = self { return i }
        return nil
    }

    public var isNull: Bool { self == .null }

    public var description: String {
        switch self {
        case .null: return "∅"
        case .int(let i): return String(i)
        case .text(let s): return s
        }
    }
}

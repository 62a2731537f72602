import Foundation
import GRDB

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

extension Value: DatabaseValueConvertible {
    public var databaseValue: DatabaseValue {
        switch self {
        case .null: return .null
        case .int(let i): return i.databaseValue
        case .text(let s): return s.databaseValue
        }
    }

    /// A REAL found in a database column (this program writes none): the integer it holds, or
    /// NULL when it is not a finite number in Int64's range (converting those would trap).
    static func fromReal(_ d: Double) -> Value {
        guard d.isFinite, d >= -9.2e18, d <= 9.2e18 else { return .null }
        return .int(Int64(d))
    }

    public static func fromDatabaseValue(_ dbValue: DatabaseValue) -> Value? {
        switch dbValue.storage {
        case .null: return .null
        case .int64(let i): return .int(i)
        case .string(let s): return .text(s)
        case .double(let d): return fromReal(d)
        case .blob: return nil
        }
    }
}

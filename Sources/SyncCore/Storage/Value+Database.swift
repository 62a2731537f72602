import GRDB

/// How a `Value` is stored in SQLite (the model itself knows nothing of the database).
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

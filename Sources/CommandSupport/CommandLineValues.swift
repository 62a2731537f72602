import ArgumentParser
import Foundation
import SyncCore

/// A value typed on the command line that knows its Vietnamese refusal: `parse` throws the
/// `SyncError` (invalid input) naming the field and the value.
///
/// Options of these types are declared with `transform: T.reading("field")`, so a bad value is
/// refused while parsing with that message and exit 2 (see `CommandFailure`). Plain
/// `ExpressibleByArgument` cannot do this: its `init?(argument:)` can only fail, without a field
/// or a reason, and ArgumentParser then prints its own English message and exits 64.
public protocol CommandLineValue: Sendable {
    /// The value `raw` stands for; `field` is the name the message gives it.
    static func parse(_ raw: String, field: String) throws -> Self
}

extension CommandLineValue {
    /// The `transform:` of an option of this type whose messages name `field`.
    public static func reading(_ field: String) -> @Sendable (String) throws -> Self {
        { try parse($0, field: field) }
    }
}

/// `--format`: docx, md (or markdown), csv, json.
extension ReportFormat: CommandLineValue {
    /// The message is `ReportFormat.parse`'s own and always names «format», the one option of this type.
    public static func parse(_ raw: String, field: String) throws -> ReportFormat {
        try parse(raw)
    }
}

/// `--audience`: external or internal.
extension ReportAudience: CommandLineValue {
    public static func parse(_ raw: String, field: String) throws -> ReportAudience { try parse(raw) }
}

/// `--part`: full or section.
extension ReportPart: CommandLineValue {
    public static func parse(_ raw: String, field: String) throws -> ReportPart { try parse(raw) }
}

/// `--period`: 2026-Q1…Q4, 2026-H1, 2026-Y, or an ad-hoc window `YYYY-MM-DD_YYYY-MM-DD`.
extension ReportPeriod: CommandLineValue {}

/// A task's `--status`, in Vietnamese with or without diacritics, a short form, or its code.
extension TaskStatus: CommandLineValue {
    public static func parse(_ raw: String, field: String) throws -> TaskStatus {
        guard let status = TaskStatus(userInput: raw) else { throw SyncError.invalid(field, raw, "chỉ nhận \(TaskStatus.accepted).") }
        return status
    }
}

/// A number of things, a whole number ≥ 0: `--tthc-total`, `--page-size`, `--keep`…
public struct Count: CommandLineValue, Hashable, CustomStringConvertible {
    public var value: Int64

    public init(_ value: Int64) { self.value = value }

    public var description: String { String(value) }

    public static func parse(_ raw: String, field: String) throws -> Count {
        guard let n = Int64(raw.trimmingCharacters(in: .whitespaces)) else {
            throw SyncError.invalid(field, raw, "cần một số nguyên không âm.")
        }
        guard n >= 0 else { throw SyncError.invalid(field, raw, "không được là số âm.") }
        return Count(n)
    }

    /// The `transform:` of an `Int` option read as a count (`--page-size`, `--port`…).
    public static func readingInt(_ field: String) -> @Sendable (String) throws -> Int {
        { Int(try parse($0, field: field).value) }
    }
}

/// An activity's `--quantity` or `--participants`: a count, or empty (`--quantity ""`) to clear it.
public enum CountChange: CommandLineValue, Hashable {
    case clear
    case set(Count)

    public static func parse(_ raw: String, field: String) throws -> CountChange {
        raw.isEmpty ? .clear : .set(try Count.parse(raw, field: field))
    }

    /// The value written to the record's field.
    public var value: Value {
        switch self {
        case .clear: return .null
        case .set(let n): return .int(n.value)
        }
    }
}

/// A number of seconds or any other decimal number (`--timeout`).
extension Double: CommandLineValue {
    public static func parse(_ raw: String, field: String) throws -> Double {
        guard let x = Double(raw.trimmingCharacters(in: .whitespaces)), x.isFinite else {
            throw SyncError.invalid(field, raw, "cần một số, ví dụ 60 hoặc 2.5.")
        }
        return x
    }
}

/// One of a fixed set of words (`--format compact|json`): its raw values are what is typed.
public enum Choice<T: RawRepresentable & CaseIterable & Sendable> where T.RawValue == String {
    public static func reading(_ field: String) -> @Sendable (String) throws -> T {
        { raw in
            guard let v = T(rawValue: raw.lowercased()) else {
                throw SyncError.invalid(field, raw, "chỉ nhận \(T.allCases.map(\.rawValue).joined(separator: ", ")).")
            }
            return v
        }
    }
}

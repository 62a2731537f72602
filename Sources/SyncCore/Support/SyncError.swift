import Foundation

/// An error a person can act on: a stable code, a Vietnamese message naming the field and the
/// value, and the underlying cause. One mapping to exit codes, one to HTTP statuses.
public struct SyncError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is; stable across releases so scripts and tests can rely on it.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// A value given by the user or in a message is not acceptable.
        public static let invalidInput = Code("invalid_input")
        /// A record, replica or file named does not exist.
        public static let notFound = Code("not_found")
        /// The writer may not write this record or field (docs/SYNC-CONTRACT.md, "Who may write what").
        public static let forbidden = Code("forbidden")
        /// The database file is missing, not SQLite, or from a newer schema.
        public static let database = Code("database")
        /// The state does not allow the operation (e.g. a submitted report).
        public static let conflict = Code("conflict")
        /// Authentication failed: bad signature, unknown or revoked replica, replay.
        public static let unauthorized = Code("unauthorized")
        /// A message, bundle or file is damaged or not of the expected format.
        public static let corrupt = Code("corrupt")
        /// A network or I/O failure that may pass if retried.
        public static let unavailable = Code("unavailable")
        /// Two different ops under one dot (docs/SYNC-CONTRACT.md, "Forks"): refused, evidence kept.
        public static let fork = Code("fork")
        /// Something that should not happen.
        public static let `internal` = Code("internal")
    }

    public var code: Code
    /// The message for the user, in Vietnamese with diacritics.
    public var message: String
    /// The field (or option) at fault, when there is one.
    public var field: String?
    /// The offending value, when there is one.
    public var value: String?
    /// The underlying error, for logs.
    public var cause: String?

    public init(_ code: Code, _ message: String, field: String? = nil, value: String? = nil, cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.field = field
        self.value = value
        self.cause = cause.map { String(describing: $0) }
    }

    public var description: String { message }

    /// The process exit code for this error (0 is success, 1 is reserved for unexpected failures).
    public var exitCode: Int32 {
        switch code {
        case .invalidInput: return 2
        case .notFound: return 3
        case .forbidden, .unauthorized: return 4
        case .database: return 5
        case .conflict: return 6
        case .corrupt: return 7
        case .unavailable: return 8
        case .fork: return 9
        default: return 1
        }
    }

    /// The HTTP status for this error.
    public var httpStatus: Int {
        switch code {
        case .invalidInput, .corrupt: return 400
        case .unauthorized: return 401
        case .forbidden: return 403
        case .notFound: return 404
        case .conflict, .fork: return 409
        case .unavailable: return 503
        default: return 500
        }
    }

    /// A stable JSON rendering used by `--json` outputs and HTTP error bodies.
    public var jsonObject: [String: String] {
        var o = ["code": code.rawValue, "message": message]
        if let field { o["field"] = field }
        if let value { o["value"] = value }
        return o
    }

    /// The body of an HTTP error answer, `{"error": {code, message, field, value}}`, keys sorted
    /// so the same error is always the same bytes (the simulator's replays depend on it).
    public var httpBody: Data {
        (try? JSONSerialization.data(withJSONObject: ["error": jsonObject], options: [.sortedKeys])) ?? Data("{}".utf8)
    }

    // MARK: Common constructors

    /// "Giá trị không hợp lệ" for one field, naming the field and the value.
    public static func invalid(_ field: String, _ value: String, _ reason: String) -> SyncError {
        SyncError(.invalidInput, "Trường «\(field)» có giá trị không hợp lệ «\(value)»: \(reason)", field: field, value: value)
    }

    public static func notFound(_ what: String, _ id: String, field: String = "id") -> SyncError {
        SyncError(.notFound, "Không tìm thấy \(what) «\(id)».", field: field, value: id)
    }
}

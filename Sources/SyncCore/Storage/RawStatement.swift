import Foundation
import GRDB
import GRDBSQLite

/// Direct binding and stepping of a prepared (cached) GRDB statement, for the few statements
/// run once per op when a batch is applied. GRDB's `StatementArguments` go through existentials
/// and dynamic casts; at 100,000 ops per second that cost dominates.
struct RawStatement {
    let statement: Statement
    private var handle: OpaquePointer { statement.sqliteStatement }
    private static var transient: sqlite3_destructor_type { unsafeBitCast(-1, to: sqlite3_destructor_type.self) }

    init(_ statement: Statement) { self.statement = statement }

    func bind(_ index: Int32, _ value: Value) {
        switch value {
        case .null: sqlite3_bind_null(handle, index)
        case .int(let i): sqlite3_bind_int64(handle, index, i)
        case .text(let s): bind(index, s)
        }
    }

    func bind(_ index: Int32, _ value: Int64) { sqlite3_bind_int64(handle, index, value) }

    /// Binds text from the string's own UTF-8 storage (SQLite copies it). Passing the `String`
    /// itself as a C string made Swift build a NUL-terminated copy first (`utf8CString`: an array
    /// allocated and filled per bind). As before, the text ends at its first NUL byte, if any.
    func bind(_ index: Int32, _ value: String) {
        let bound =
            value.utf8.withContiguousStorageIfAvailable { u -> Bool in
                guard let base = u.baseAddress else {
                    sqlite3_bind_text(handle, index, "", 0, Self.transient)
                    return true
                }
                let length = memchr(base, 0, u.count).map { UnsafeRawPointer($0) - UnsafeRawPointer(base) } ?? u.count
                base.withMemoryRebound(to: CChar.self, capacity: u.count) { p in
                    _ = sqlite3_bind_text(handle, index, p, Int32(length), Self.transient)
                }
                return true
            } ?? false
        if !bound { sqlite3_bind_text(handle, index, value, -1, Self.transient) }
    }

    /// Binds bytes (copied by SQLite); empty binds NULL when `emptyIsNull`, else an empty blob.
    func bind(_ index: Int32, bytes: [UInt8], emptyIsNull: Bool) {
        if bytes.isEmpty {
            if emptyIsNull { sqlite3_bind_null(handle, index) } else { sqlite3_bind_zeroblob(handle, index, 0) }
            return
        }
        bytes.withUnsafeBytes { buffer in
            _ = sqlite3_bind_blob(handle, index, buffer.baseAddress, Int32(buffer.count), Self.transient)
        }
    }

    /// Runs a statement that returns no rows.
    func execute(_ db: Database) throws {
        let rc = sqlite3_step(handle)
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
        guard rc == SQLITE_DONE || rc == SQLITE_ROW else { throw Self.error(db, rc) }
    }

    /// Steps once; true when a row is available (read it with `column…`, then call `reset`).
    func step(_ db: Database) throws -> Bool {
        let rc = sqlite3_step(handle)
        if rc == SQLITE_ROW { return true }
        if rc == SQLITE_DONE { return false }
        sqlite3_reset(handle)
        throw Self.error(db, rc)
    }

    func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    func value(_ column: Int32) -> Value {
        switch sqlite3_column_type(handle, column) {
        case SQLITE_INTEGER: return .int(sqlite3_column_int64(handle, column))
        case SQLITE_TEXT:
            guard let p = sqlite3_column_text(handle, column) else { return .null }
            return .text(String(cString: p))
        case SQLITE_FLOAT: return Value.fromReal(sqlite3_column_double(handle, column))
        default: return .null
        }
    }

    /// The storage class of a column of the current row (`SQLITE_INTEGER`, `SQLITE_TEXT`…).
    func type(_ column: Int32) -> Int32 { sqlite3_column_type(handle, column) }

    func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }

    /// A text column's exact bytes as UTF-8 (invalid sequences replaced), NUL bytes included.
    func text(_ column: Int32) -> String {
        let p = sqlite3_column_text(handle, column)
        let n = Int(sqlite3_column_bytes(handle, column))
        guard n > 0, let p else { return "" }
        return String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self)
    }

    /// The blob of a column, borrowed until the next step or reset.
    func withBlob<R>(_ column: Int32, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        // Pointer first, then size (SQLite's documented order).
        let p = sqlite3_column_blob(handle, column)
        let n = Int(sqlite3_column_bytes(handle, column))
        guard n > 0, let p else { return try body(UnsafeRawBufferPointer(start: nil, count: 0)) }
        return try body(UnsafeRawBufferPointer(start: p, count: n))
    }

    static func error(_ db: Database, _ rc: Int32) -> DatabaseError {
        let message = db.sqliteConnection.map { String(cString: sqlite3_errmsg($0)) } ?? "SQLite error \(rc)"
        return DatabaseError(resultCode: ResultCode(rawValue: rc), message: message)
    }
}

import Foundation

/// Files the user names on the command line (bundles, ops files, enrolment files, reports): read
/// and written with errors in Vietnamese that name the option and the path, and say why.
public enum UserFile {
    /// The file's bytes; `.notFound` when it is missing, `.invalidInput` when it cannot be read.
    public static func read(_ path: String, field: String, what: String = "tệp") throws -> Data {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw SyncError(.notFound, "Không đọc được \(what) «\(path)»: tệp không tồn tại.", field: field, value: path)
        }
        guard !isDir.boolValue else {
            throw SyncError(.invalidInput, "Không đọc được \(what) «\(path)»: đây là một thư mục.", field: field, value: path)
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SyncError(.invalidInput, "Không đọc được \(what) «\(path)»: không có quyền đọc.", field: field, value: path)
        }
        return data
    }

    /// Writes atomically (a reader never sees half a file); `permissions` as POSIX bits when given.
    public static func write(_ data: Data, to path: String, field: String, permissions: Int? = nil) throws {
        let url = URL(fileURLWithPath: path)
        do {
            try data.write(to: url, options: .atomic)
            if let permissions { try FileManager.default.setAttributes([.posixPermissions: permissions], ofItemAtPath: path) }
        } catch {
            throw SyncError(
                .invalidInput, "Không ghi được tệp «\(path)» (--\(field)): \(reason(writing: url)).", field: field, value: path, cause: error)
        }
    }

    /// Why a write to `url` failed, in words a user can act on (Foundation's own text is English).
    static func reason(writing url: URL) -> String {
        let fm = FileManager.default
        let parent = url.deletingLastPathComponent().path
        var isDir: ObjCBool = false
        if !fm.fileExists(atPath: parent, isDirectory: &isDir) { return "thư mục «\(parent)» không tồn tại" }
        if !isDir.boolValue { return "«\(parent)» không phải thư mục" }
        if fm.fileExists(atPath: url.path, isDirectory: &isDir), isDir.boolValue { return "đây là một thư mục" }
        if !fm.isWritableFile(atPath: parent) { return "không có quyền ghi vào thư mục «\(parent)»" }
        return "lỗi hệ thống tệp (đĩa đầy hoặc không ghi được)"
    }
}

/// Prints a value as pretty JSON with sorted keys: the `--json` output of every read command
/// of `unit-client` and `hub`.
public func printJSON<T: Encodable>(_ value: T) throws {
    let e = JSONEncoder()
    e.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
    FileHandle.standardOutput.write(try e.encode(value) + Data("\n".utf8))
}

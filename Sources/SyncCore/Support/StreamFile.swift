import Foundation

/// A user's file written piece by piece: the bytes go to a temporary file beside it, which
/// `commit` makes durable and renames into place, so a reader never sees half a file and a failed
/// export leaves no file behind (as `UserFile.write`, without holding the content in memory).
final class StreamingFileWriter {
    let path: String
    let field: String
    private let temp: String
    private var fd: Int32
    private var buffer: [UInt8] = []
    private(set) var written = 0

    init(path: String, field: String) throws {
        self.path = path
        self.field = field
        let url = URL(fileURLWithPath: path)
        temp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).dang-ghi-\(getpid())").path
        fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else {
            throw SyncError(.invalidInput, "Không ghi được tệp «\(path)» (--\(field)): \(UserFile.reason(writing: url)).", field: field, value: path)
        }
        buffer.reserveCapacity(1 << 20)
    }

    deinit { abandon() }

    private func failed(_ why: String) -> SyncError {
        SyncError(.invalidInput, "Không ghi được tệp «\(path)» (--\(field)): \(why).", field: field, value: path)
    }

    func write(_ bytes: [UInt8]) throws {
        buffer += bytes
        if buffer.count >= 1 << 20 { try flush() }
    }

    private func flush() throws {
        guard fd >= 0 else { throw failed("tệp đã đóng") }
        var offset = 0
        while offset < buffer.count {
            let n = buffer.withUnsafeBytes { Foundation.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                throw failed(errno == ENOSPC ? "đĩa đầy" : "lỗi hệ thống tệp (mã \(errno))")
            }
            offset += n
        }
        written += buffer.count
        buffer.removeAll(keepingCapacity: true)
    }

    /// Flushes, syncs and renames the file into place.
    func commit() throws {
        try flush()
        guard fsync(fd) == 0 else { throw failed("không ghi được xuống đĩa (mã \(errno))") }
        close(fd)
        fd = -1
        guard rename(temp, path) == 0 else {
            let code = errno
            unlink(temp)
            throw failed(code == EISDIR ? "đây là một thư mục" : "không đổi tên được tệp tạm (mã \(code))")
        }
    }

    /// Closes and removes the temporary file (nothing was committed).
    func abandon() {
        if fd >= 0 {
            close(fd)
            fd = -1
            unlink(temp)
        }
    }
}

/// A user's file read piece by piece (the checks and messages of `UserFile.read`).
final class StreamingFileReader {
    let path: String
    private var fd: Int32
    /// Bytes read so far.
    private(set) var offset = 0

    init(path: String, field: String) throws {
        self.path = path
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw SyncError(.notFound, "Không đọc được tệp «\(path)»: tệp không tồn tại.", field: field, value: path)
        }
        guard !isDir.boolValue else {
            throw SyncError(.invalidInput, "Không đọc được tệp «\(path)»: đây là một thư mục.", field: field, value: path)
        }
        fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            throw SyncError(.invalidInput, "Không đọc được tệp «\(path)»: không có quyền đọc.", field: field, value: path)
        }
    }

    deinit { if fd >= 0 { close(fd) } }

    /// Fills `buffer` as far as the file goes; returns how many bytes (0 at the end).
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var filled = 0
        while filled < buffer.count {
            let n = Foundation.read(fd, buffer.baseAddress! + filled, buffer.count - filled)
            if n < 0 {
                if errno == EINTR { continue }
                throw SyncError(.invalidInput, "Không đọc được tệp «\(path)» (mã lỗi \(errno)).", field: "file", value: path)
            }
            if n == 0 { break }
            filled += n
        }
        offset += filled
        return filled
    }

    /// Up to `count` bytes (fewer only at the end of the file).
    func read(upTo count: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        let n = try out.withUnsafeMutableBytes { try read(into: $0) }
        out.removeLast(count - n)
        return out
    }
}

import CCHCFaultVFS
import Foundation
import SyncCore

/// Injected I/O errors: a SQLite VFS over the system's (`Sources/CCHCFaultVFS`) that makes
/// chosen writes or syncs of one store's files fail, as a failing disk or a cut USB drive does.
/// Installed as the process's default VFS on first use; each fault is keyed by a path prefix
/// (a database path covers its `-wal` and `-journal` files), so concurrent histories, each in
/// its own folder, do not disturb one another.
public enum FaultyDisk {
    public struct Kinds: OptionSet, Sendable {
        public let rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }
        public static let write = Kinds(rawValue: Int32(CCHC_FAULT_WRITE.rawValue))
        public static let sync = Kinds(rawValue: Int32(CCHC_FAULT_SYNC.rawValue))
        public static let read = Kinds(rawValue: Int32(CCHC_FAULT_READ.rawValue))
    }

    private static let installed: Int32 = cchc_fault_vfs_install()

    /// Installs the VFS (once); throws if SQLite refused it.
    public static func install() throws {
        guard installed == 0 else {
            throw SyncError(.internal, "Không cài được VFS giả lập lỗi đĩa (SQLite \(installed)).", field: "vfs", value: String(installed))
        }
    }

    /// Arms a fault on `path`'s files: among their calls of `kinds`, the one `after` calls from
    /// now fails (0: the next), and every one after it when `sticky`.
    public static func arm(_ path: String, kinds: Kinds, after: Int, sticky: Bool = false) throws {
        try install()
        guard cchc_fault_arm(path, kinds.rawValue, after, sticky ? 1 : 0) == 0 else {
            throw SyncError(.internal, "Quá nhiều lỗi đĩa giả lập cùng lúc.", field: "path", value: path)
        }
    }

    /// The disk of `path` works again.
    public static func disarm(_ path: String) { cchc_fault_disarm(path) }

    /// How many calls on `path`'s files failed since the fault was armed.
    public static func injected(_ path: String) -> Int { cchc_fault_injected(path) }

    /// How many matching calls the fault on `path` saw since it was armed.
    public static func seen(_ path: String) -> Int { cchc_fault_seen(path) }
}

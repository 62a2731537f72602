import Foundation
import Synchronization

/// The test-only fault hook (README, Tests): `CCHC_FAULT` makes `unit-client` or `hub serve`
/// SIGKILL itself at one exact point of a sync, so an end-to-end test places a crash after page k
/// on every run instead of by timing. Off unless `unit-client` or `hub` installed it from the
/// environment at start (`install(environment:)`); nothing else in the library reads it.
///
/// - `client-kill-after-page:K`: `unit-client` dies right after committing the K-th page of a
///   sync (the hub's answer applied with its cursor, `SyncClient.run`).
/// - `hub-kill-after-commit:K`: the hub dies right after committing the K-th sync request it
///   handled, before answering it (`HubSyncService.handle`): the hub committed, the reply is lost.
public enum FaultHook {
    public static let variable = "CCHC_FAULT"

    public enum Point: String, Sendable, CaseIterable {
        case clientPage = "client-kill-after-page"
        case hubCommit = "hub-kill-after-commit"
    }

    /// The installed point, its K, and how many more times it may be passed before the process dies.
    private static let armed = Mutex<(point: Point, after: Int, left: Int)?>(nil)

    /// The fault `raw` names; nil when it is unset or empty. Anything else that is not exactly
    /// `POINT:K` with K a positive decimal integer is refused naming the variable and the value.
    public static func parse(_ raw: String?) throws -> (point: Point, after: Int)? {
        guard let raw, !raw.isEmpty else { return nil }
        let parts = raw.split(separator: ":", omittingEmptySubsequences: false)
        if parts.count == 2, let point = Point(rawValue: String(parts[0])), !parts[1].isEmpty, parts[1].count <= 9,
            parts[1].allSatisfy({ $0.isASCII && $0.isNumber }), let k = Int(parts[1]), k >= 1
        {
            return (point, k)
        }
        throw SyncError(
            .invalidInput,
            "Biến môi trường \(variable) có giá trị không hợp lệ «\(raw)»: cần «client-kill-after-page:K» hoặc «hub-kill-after-commit:K» với K là số nguyên dương (biến này chỉ dùng khi kiểm thử; bỏ nó đi khi chạy thật).",
            field: variable, value: raw)
    }

    /// Reads `CCHC_FAULT` from `environment` and arms the hook; a malformed value throws.
    public static func install(environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        let fault = try parse(environment[variable])
        armed.withLock { $0 = fault.map { (point: $0.point, after: $0.after, left: $0.after) } }
    }

    /// Called where `point` is passed: the K-th pass SIGKILLs this process.
    static func passed(_ point: Point) {
        armed.withLock { state in
            guard let s = state, s.point == point else { return }
            state = (point, s.after, s.left - 1)
            guard s.left == 1 else { return }
            FileHandle.standardError.write(Data("\(variable)=\(point.rawValue):\(s.after): tự dừng bằng SIGKILL (chỉ khi kiểm thử)\n".utf8))
            kill(getpid(), SIGKILL)
        }
    }
}

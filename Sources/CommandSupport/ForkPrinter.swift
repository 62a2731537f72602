import Foundation
import SyncCore

/// Open forks, as `status` of both programs shows them.
public func printForks(_ forks: [ForkRecord]) {
    guard !forks.isEmpty else {
        print("Phân nhánh:     không có")
        return
    }
    print("Phân nhánh:     \(forks.count) đang mở (hai thao tác khác nhau cùng một số):")
    for f in forks {
        print("  • \(f.origin):\(f.counter) (\(f.source), \(f.detectedAt))")
        print("      đang có:   \(f.ours)")
        print("      nhận được: \(f.theirs)")
    }
}

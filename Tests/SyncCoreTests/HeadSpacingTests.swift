import Foundation
import Testing

@testable import SyncCore

/// A page carries its origin's heads no more than `SignedHead.wireSpacing` ops apart, so that the
/// receiver, serving that origin in small pages in turn, cuts each within that many ops of what
/// was asked (docs/PROTOCOL.md, "Verifiable ops"). The rule before, the first head at least that
/// many ops on, left gaps of up to twice as many: after a set-aside rebuilt a store through such
/// pages, a sync in pages of 7 sent 90 ops in one (found by cchc-sim, seed 20264534).
@Suite("Khoảng cách đầu chuỗi trong trang / heads carried no more than 64 ops apart")
struct HeadSpacingTests {
    @Test("Trang nhỏ từ nơi nhận vẫn trong giới hạn / a receiver's small pages stay within the bound", arguments: [1, 7, 30])
    func receiversSmallPagesStayBounded(small: Int) async throws {
        let hub = try Fixture.hub()
        let (x, xc) = try Fixture.replica(hub, unit: "TTQLCK")
        // Commits of one activity each: heads every few ops, thinned by the store to at most 64 apart.
        for n in 1...40 { try Fixture.activity(x, unit: "TTQLCK", title: "Hoạt động \(n)", day: n % 28 + 1) }
        let total = try x.versionVector()[xc.replica]
        #expect(total > 3 * SignedHead.wireSpacing, "enough ops for several gaps: \(total)")

        // Carried in one large page, as a sync or a rebuild does.
        let page = try x.ops(of: xc.replica, after: 0, limit: SyncProtocol.maxPageOps)
        #expect(page.ops.count == Int(total))
        var last: UInt64 = 0
        for h in page.heads {
            #expect(h.counter - last <= SignedHead.wireSpacing, "carried heads \(last) → \(h.counter) more than 64 ops apart")
            last = h.counter
        }
        #expect(last == total)

        // The receiver serves the origin in small pages: each within the bound.
        _ = try hub.apply(page, source: .peer(authenticated: xc.replica, unit: "TTQLCK"))
        var at: UInt64 = 0
        while at < total {
            let served = try hub.ops(of: xc.replica, after: at, limit: small)
            let n = served.ops.count
            #expect(n >= 1 && n <= small + Int(SignedHead.spacing), "page after \(at) of \(n) ops (asked \(small))")
            guard let end = served.ops.last?.dot.counter, end > at else { break }
            at = end
        }
        #expect(at == total)
    }
}

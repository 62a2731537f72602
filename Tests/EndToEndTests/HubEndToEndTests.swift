import Foundation
import SyncCore
import Testing

@Suite("Hub end to end", .serialized)
struct HubEndToEndTests {
    @Test(
        "Given a hub and four replicas, three syncing over HTTP and one only by bundles, with concurrent edits, then every dump is identical and conflicts show everywhere"
    )
    func replicasConverge() async throws {
        let h = try HubHarness.serving("e2e", replicas: [("a", "TTQLCK"), ("b", "TTQLCK"), ("c", "CPCM-QLDTDN"), ("d", "VP")])
        #expect(try await h.health() == 200)
        let dID = try h.enrolment("d").replicaID.rawValue

        // Given: A records an activity and B receives it.
        let shared = try h.addActivity("a", title: "Đối thoại với doanh nghiệp tại cửa khẩu")
        try h.clientOK("a", "sync")
        try h.clientOK("b", "sync")
        #expect(try h.clientOK("b", "activity", "show", shared).contains("Đối thoại"))

        // When: A and B edit the same field offline, C and D work on their own records.
        try h.clientOK("a", "activity", "edit", shared, "--title", "Đối thoại doanh nghiệp quý I")
        try h.clientOK("b", "activity", "edit", shared, "--title", "Đối thoại với doanh nghiệp XNK")
        try h.clientOK("b", "activity", "edit", shared, "--participants", "55")
        for i in 1...3 { try h.addActivity("c", title: "Tin bài CCHC số \(i)", date: "2026-03-1\(i)") }
        try h.addActivity("d", title: "Hội nghị triển khai Kế hoạch", date: "2026-02-20")

        // D reaches the hub only by bundle, both ways.
        try h.clientOK("d", "bundle", "export", "--out", h.path("d-up.bundle"))
        try h.hubOK("bundle", "import", h.path("d-up.bundle"))

        // A, B and C sync at the same time, twice, so each sees the others' changes.
        for _ in 0..<2 {
            let procs = try ["a", "b", "c"].map { n in try h.start(.unitClient, ["sync", "--db", h.db(n)]) }
            for p in procs {
                let r = p.wait()
                #expect(r.status == 0, "\(r)")
            }
        }
        try h.hubOK("bundle", "export", "--replica", dID, "--out", h.path("d-down.bundle"))
        try h.clientOK("d", "bundle", "import", h.path("d-down.bundle"))

        // Then: byte-identical dumps and the same conflicts everywhere.
        let hubDump = try h.hubDump()
        #expect(hubDump.contains("Hội nghị triển khai"))
        for n in ["a", "b", "c", "d"] { #expect(try h.clientDump(n) == hubDump, "dump of \(n)") }
        let hubConflicts = try h.hubOK("conflicts", "--json")
        #expect(hubConflicts.contains(shared))
        for n in ["a", "b", "c", "d"] {
            let mine = try h.clientOK(n, "conflicts", "list", "--json")
            #expect(mine == hubConflicts, "conflicts of \(n)")
        }
        let status = try h.hubOK("status", "--json")
        #expect(status.contains("\"conflicts\" : 1"))

        // A sync with nothing to send is one round trip.
        let again = try #require(try JSONSerialization.jsonObject(with: Data(try h.clientOK("a", "sync", "--json").utf8)) as? [String: Any])
        #expect(again["round_trips"] as? Int == 1 && again["sent"] as? Int == 0 && again["received"] as? Int == 0, "\(again)")

        // The nightly backup runs while the hub serves and keeps what it is told to keep.
        for _ in 0..<3 {
            try h.hubOK("nightly", "--dir", h.path("bk"), "--keep", "2")
            usleep(1_100_000)
        }
        let kept = try FileManager.default.contentsOfDirectory(atPath: h.path("bk")).filter { $0.hasSuffix(".sqlite") }
        #expect(kept.count == 2)
        // SIGTERM is a graceful shutdown: the server exits cleanly.
        #expect(h.killHub(signal: SIGTERM) == 0)
    }
}

import Foundation
import SyncCore
import Testing

/// `hub serve --tls-cert/--tls-key`, `hub enrol --url https://… --tls-cert`, and the client's
/// pinning, through the real executables on 127.0.0.1 with self-signed certificates made by the
/// openssl command-line tool (CI installs it).
@Suite("TLS with a pinned hub certificate")
struct HubTLSTests {
    /// A self-signed certificate and its key (`NAME.crt`, `NAME.key` in `dir`), and its SHA-256
    /// fingerprint as openssl itself computes it (not through the code under test).
    static func makeCertificate(_ name: String, in dir: TempDir) throws -> (cert: String, key: String, sha256: String) {
        let openssl = try #require(Run.which("openssl"), "the openssl command-line tool is needed (CI installs it)")
        let cert = dir.path("\(name).crt")
        let key = dir.path("\(name).key")
        let made = try Run.program(
            openssl,
            [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert, "-days", "30",
                "-subj", "/CN=cchc-hub-\(name)", "-addext", "subjectAltName=IP:127.0.0.1",
            ])
        try #require(made.status == 0, "openssl req: \(made)")
        let fp = try Run.program(openssl, ["x509", "-in", cert, "-noout", "-fingerprint", "-sha256"])
        try #require(fp.status == 0, "openssl x509: \(fp)")
        let hex = String(fp.out.split(separator: "=").last ?? "").filter { $0.isHexDigit }.lowercased()
        try #require(hex.count == 64, "fingerprint: \(fp.out)")
        return (cert, key, hex)
    }

    @Test(
        "Given a hub serving https with a self-signed certificate, when a unit enrolled with --tls-cert syncs, then the sync succeeds; a hub with another certificate is refused (exit 4, both fingerprints named) and gets nothing"
    )
    func pinnedSync() async throws {
        let h = try HubHarness("tls")
        let good = try Self.makeCertificate("hub", in: h.folder)
        let other = try Self.makeCertificate("other", in: h.folder)
        try h.startHub(extra: ["--tls-cert", good.cert, "--tls-key", good.key])
        #expect(h.url.hasPrefix("https://"))

        // https without the certificate: refused at enrolment, naming the option; nothing enrolled.
        let missing = try h.hub("enrol", "--unit", "TTQLCK", "--out", h.path("x.enrol"), "--url", h.url)
        #expect(missing.status == 2 && missing.stderr.contains("«--tls-cert»") && missing.stderr.contains(h.url), "\(missing)")
        #expect(!FileManager.default.fileExists(atPath: h.path("x.enrol")))
        // A certificate with an http hub makes no sense either.
        let plain = try h.hub("enrol", "--unit", "TTQLCK", "--out", h.path("x.enrol"), "--url", "http://127.0.0.1:1", "--tls-cert", good.cert)
        #expect(plain.status == 2 && plain.stderr.contains("«tls_cert»"), "\(plain)")

        // Enrol with the pin; the file carries openssl's own fingerprint of the certificate.
        try h.hubOK("enrol", "--unit", "TTQLCK", "--out", h.path("a.enrol"), "--url", h.url, "--tls-cert", good.cert)
        let enrolment = try h.enrolment("a")
        #expect(enrolment.hubTLSSHA256 == good.sha256)
        #expect(enrolment.format == EnrolmentFile.pinnedFormat)
        let raw = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: h.path("a.enrol")))) as? [String: Any]
        #expect(raw?["hub_tls_sha256"] as? String == good.sha256)
        try h.clientOK("a", "init", "--enrolment", h.path("a.enrol"), "--label", "a")

        let id = try h.addActivity("a", title: "Tuyên truyền qua kết nối https")
        let synced = try h.client("a", ["sync"])
        #expect(synced.status == 0, "\(synced)")
        #expect(synced.out.contains("Đồng bộ xong với \(h.url)"), "\(synced)")
        #expect(try h.hubDump().contains(id))
        #expect(try h.hubDump() == (try h.clientDump("a")))
        #expect(h.server?.stderrSoFar.contains("scheme=https") == true)

        // Another hub, same address family, another certificate: refused before anything is sent.
        let otherDB = h.path("other-hub.sqlite")
        try Run.ok(.hub, ["init", "--db", otherDB], in: h.dir)
        let impostor = try h.start(
            .hub, ["serve", "--host", "127.0.0.1", "--port", "0", "--db", otherDB, "--tls-cert", other.cert, "--tls-key", other.key])
        var impostorPort = 0
        for _ in 0..<600 where impostorPort == 0 {
            if let line = impostor.outSoFar.split(separator: "\n").first(where: { $0.hasPrefix("listening on ") }) {
                impostorPort = Int(line.split(separator: ":").last ?? "") ?? 0
            } else {
                usleep(50_000)
            }
        }
        try #require(impostorPort > 0, "second hub did not start: \(impostor.stderrSoFar)")
        _ = try h.addActivity("a", title: "Không được gửi tới hub giả")
        let before = try h.clientDump("a")
        let refused = try h.client("a", ["sync", "--hub", "https://127.0.0.1:\(impostorPort)", "--attempts", "3"])
        #expect(refused.status == 4, "\(refused)")
        #expect(refused.stderr.contains(other.sha256) && refused.stderr.contains(good.sha256), "both fingerprints: \(refused.stderr)")
        #expect(refused.stderr.contains("dấu vân tay"), "\(refused.stderr)")
        #expect(!impostor.stderrSoFar.contains("sync.page"), "the impostor received a page: \(impostor.stderrSoFar)")
        #expect(try h.clientDump("a") == before)

        // The real hub still takes the new activity.
        #expect(try h.client("a", ["sync"]).status == 0)
        #expect(try h.hubDump() == (try h.clientDump("a")))

        // Moving the machine to a new https enrolment (`rehome` rebuilds its database) keeps a pin:
        // the new file's, so the next sync over https still checks the certificate.
        try h.hubOK("enrol", "--unit", "TTQLCK", "--out", h.path("a2.enrol"), "--url", h.url, "--tls-cert", good.cert)
        let moved = try h.client("a", ["rehome", "--enrolment", h.path("a2.enrol")])
        #expect(moved.status == 0, "\(moved)")
        let again = try h.client("a", ["sync"])
        #expect(again.status == 0 && again.out.contains(h.url), "\(again)")
        let stillPinned = try h.client("a", ["sync", "--hub", "https://127.0.0.1:\(impostorPort)", "--attempts", "1"])
        #expect(stillPinned.status == 4 && stillPinned.stderr.contains(good.sha256), "after rehome: \(stillPinned)")
        impostor.stop(signal: SIGTERM)
    }

    @Test(
        "Given https addresses without a pin, or bad TLS files, then every command refuses with a Vietnamese message naming the field (never a silent fallback)"
    )
    func refusals() throws {
        let h = try HubHarness("tls-bad")
        let good = try Self.makeCertificate("hub", in: h.folder)
        let other = try Self.makeCertificate("other", in: h.folder)
        // An http enrolment (format 1, no pin), then `sync --hub https://…`: refused, exit 2.
        try h.startHub(extra: ["--tls-cert", good.cert, "--tls-key", good.key])
        try h.hubOK("enrol", "--unit", "VP", "--out", h.path("v.enrol"), "--url", "http://127.0.0.1:\(h.port)")
        #expect(try h.enrolment("v").format == EnrolmentFile.currentFormat)
        #expect(try h.enrolment("v").hubTLSSHA256 == nil)
        try h.clientOK("v", "init", "--enrolment", h.path("v.enrol"))
        let noPin = try h.client("v", ["sync", "--hub", h.url])
        #expect(noPin.status == 2 && noPin.stderr.contains("«hub_tls_sha256»") && noPin.stderr.contains(h.url), "\(noPin)")
        // Plain http to an https port fails as a network error (exit 8), not as success.
        let wrongScheme = try h.client("v", ["sync", "--attempts", "1", "--timeout", "5"])
        #expect(wrongScheme.status == 8, "\(wrongScheme)")
        h.killHub(signal: SIGTERM)

        // hub serve: one file without the other, a key that is not the certificate's, a non-PEM file.
        let noKey = try h.hub("serve", "--port", "0", "--tls-cert", good.cert)
        #expect(noKey.status == 2 && noKey.stderr.contains("«--tls-key»"), "\(noKey)")
        let mismatched = try h.hub("serve", "--port", "0", "--tls-cert", good.cert, "--tls-key", other.key)
        #expect(mismatched.status == 2 && mismatched.stderr.contains("«tls_key»"), "\(mismatched)")
        let notPEM = try h.hub("serve", "--port", "0", "--tls-cert", h.hubDB, "--tls-key", good.key)
        #expect(notPEM.status == 2 && notPEM.stderr.contains("«tls_cert»"), "\(notPEM)")
        let badEnrolCert = try h.hub("enrol", "--unit", "VP", "--out", h.path("w.enrol"), "--url", "https://127.0.0.1:1", "--tls-cert", good.key)
        #expect(badEnrolCert.status == 2 && badEnrolCert.stderr.contains("«tls_cert»"), "\(badEnrolCert)")
        #expect(!FileManager.default.fileExists(atPath: h.path("w.enrol")))
    }
}

import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import SyncCore
import Synchronization

/// The https transport: one HTTP/1.1 POST per page over TLS (1.2 or later) on NIO, accepting
/// only the hub certificate whose SHA-256 is `pin` (`TLSPin`), whoever issued it. No certificate
/// authority is consulted and the host name is not checked: the pin, given by `hub enrol
/// --tls-cert` in the enrolment file, names the one certificate the hub serves. A different
/// certificate stops the handshake before anything is sent (`TLSPin.mismatch`, exit 4).
///
/// Why not URLSession: on Linux it offers no hook to see the server's certificate.
public struct PinnedTransport: SyncTransport {
    let url: URL
    let host: String
    let port: Int
    let path: String
    let pin: String
    let timeout: Double

    /// Posts to `<hubURL>/<sync path>`; `timeout` seconds per request (connect, handshake, answer).
    public init(hubURL: URL, pin: String, timeout: Double) {
        url = hubURL
        host = hubURL.host ?? "127.0.0.1"
        port = hubURL.port ?? 443
        var base = hubURL.path
        while base.hasSuffix("/") { base.removeLast() }
        path = base + SyncProtocol.path
        self.pin = pin
        self.timeout = timeout
    }

    /// What the handshake saw: the leaf certificate's fingerprint when it was not the pinned one.
    final class Seen: Sendable {
        let presented = Mutex<String?>(nil)
    }

    public func post(body: Data, headers: [String: String]) async throws -> TransportResponse {
        let seen = Seen()
        let pin = self.pin
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        // The callback below replaces all verification; it runs only when verification is on.
        tls.certificateVerification = .noHostnameVerification
        tls.trustRoots = .certificates([])
        let context = try NIOSSLContext(configuration: tls)
        // SNI takes a name, never an address.
        let sni = host.contains(":") || host.allSatisfy({ $0.isNumber || $0 == "." }) ? nil : host
        let deadline = TimeAmount.milliseconds(Int64(timeout * 1000))
        let channel: NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(deadline)
                .connect(host: host, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let handler = try NIOSSLClientHandler(context: context, serverHostname: sni) { certificates, promise in
                            guard let leaf = certificates.first, let der = try? leaf.toDERBytes() else {
                                return promise.succeed(.failed)
                            }
                            let presented = TLSPin.fingerprint(der: der)
                            if presented == pin { return promise.succeed(.certificateVerified) }
                            seen.presented.withLock { $0 = presented }
                            promise.succeed(.failed)
                        }
                        try channel.pipeline.syncOperations.addHandler(handler)
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw transportError(error, seen: seen)
        }
        // The whole exchange within the timeout: closing the channel ends the reads below.
        let timer = channel.channel.eventLoop.scheduleTask(in: deadline) { channel.channel.close(promise: nil) }
        defer { timer.cancel() }
        do {
            return try await channel.executeThenClose { inbound, outbound in
                var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: path)
                head.headers.add(name: "Host", value: url.port.map { "\(host):\($0)" } ?? host)
                head.headers.add(name: "Content-Type", value: SyncProtocol.mediaType)
                head.headers.add(name: "Content-Length", value: String(body.count))
                head.headers.add(name: "Connection", value: "close")
                for (k, v) in headers { head.headers.add(name: k, value: v) }
                try await outbound.write(.head(head))
                try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: body))))
                try await outbound.write(.end(nil))
                var status = 0
                var fields: [String: String] = [:]
                var data = Data()
                for try await part in inbound {
                    switch part {
                    case .head(let h):
                        status = Int(h.status.code)
                        for (k, v) in h.headers { fields[k.lowercased()] = v }
                    case .body(let b):
                        data.append(contentsOf: b.readableBytesView)
                    case .end:
                        return TransportResponse(status: status, headers: fields, body: data)
                    }
                }
                throw SyncError(
                    .unavailable,
                    "Không kết nối được hub \(url.absoluteString): kết nối bị ngắt giữa chừng hoặc hết thời gian chờ (\(Int(timeout)) giây).",
                    field: "hub",
                    value: url.absoluteString)
            }
        } catch {
            throw transportError(error, seen: seen)
        }
    }

    /// A wrong certificate is a refusal (exit 4, both fingerprints named), never retried; any
    /// other failure may pass (`unavailable`, retried with backoff).
    func transportError(_ error: any Error, seen: Seen) -> SyncError {
        if let presented = seen.presented.withLock({ $0 }) {
            return TLSPin.mismatch(url: url.absoluteString, presented: presented, pinned: pin)
        }
        if let e = error as? SyncError { return e }
        let reason: String
        switch error {
        case is NIOSSLError, is BoringSSLError: reason = "bắt tay TLS thất bại (hub có phục vụ https ở địa chỉ này không?)"
        case is NIOConnectionError: reason = "máy chủ không nhận kết nối (hub chưa chạy hoặc sai cổng)"
        case is ChannelError: reason = "hết thời gian chờ hoặc kết nối bị ngắt"
        default: reason = "lỗi mạng"
        }
        return SyncError(
            .unavailable, "Không kết nối được hub \(url.absoluteString): \(reason).", field: "hub", value: url.absoluteString, cause: error)
    }
}

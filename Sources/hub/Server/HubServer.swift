import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import SyncCore

/// The hub's HTTP face: a thin driver around `HubSyncService`. Database work runs off the
/// server's threads; every failure becomes a JSON error body with its 4xx/5xx status.
enum HubServer {
    static let serverName = "cchc-hub"
    /// Hummingbird re-exports `HTTPFields` but not `HTTPField`: reach the name type through it.
    typealias FieldName = HTTPFields.Element.Name

    /// The routes: `GET /health` and `POST /v1/sync`. `degraded`: why the database failed its
    /// check at start (`hub serve --allow-degraded`); then `/health` answers 503 with
    /// `{"status": "degraded", "reason": …}` and every sync 503 (`unavailable`), so clients
    /// retry later rather than take a log the hub cannot vouch for.
    /// What bounds a serving hub (`hub serve` options): how long a connection may stay silent or
    /// send a header (`idleTimeout`, seconds), how many connections it keeps open, how many sync
    /// bodies it reads, decodes and applies at once.
    struct Limits: Sendable {
        var idleTimeout: Double = 30
        var maxConnections = 1000
        /// One: a maximum page (64 MiB inflated) takes about 190 MB while decoded, and SQLite's one
        /// writer applies one page at a time anyway.
        var concurrentSyncs = 1
        /// How long a sync waits for its turn before a 503: less than the idle timeout, which
        /// would close a connection whose body is not being read.
        var syncWait: Double { max(1, idleTimeout * 0.8) }
    }

    /// The JSON body of the 503 written when every connection is busy.
    static func connectionLimitBody(limit: Int) -> Data {
        SyncError(
            .unavailable, "Hub đang phục vụ tối đa \(limit) kết nối cùng lúc; hãy thử lại sau ít phút.", field: "max_connections",
            value: String(limit)
        ).httpBody
    }

    static func buildRouter(store: ReplicaStore, logger: Logger, degraded: String? = nil, gate: SyncGate? = nil) -> Router<BasicRequestContext> {
        let maxBody = SyncProtocol.maxBodyBytes
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: JSONErrorMiddleware(logger: logger))
        let service = HubSyncService(store: store)
        router.get("/health") { _, _ -> Response in
            if let degraded {
                return jsonResponse(.serviceUnavailable, ["status": "degraded", "reason": degraded, "protocol": Int(SyncProtocol.version)])
            }
            let ops = try await offload { try store.opCount() }
            return jsonResponse(.ok, ["status": "ok", "ops": ops, "protocol": Int(SyncProtocol.version)])
        }
        router.post(RouterPath(stringLiteral: SyncProtocol.path)) { request, _ -> Response in
            if let degraded {
                throw SyncError(
                    .unavailable, "Hub đang chạy ở chế độ suy giảm vì cơ sở dữ liệu bị hỏng (\(degraded)); chưa đồng bộ được, hãy thử lại sau.",
                    field: "hub", value: "degraded")
            }
            func tooLarge() -> Response {
                let refusal = SyncError(
                    .invalidInput, "Nội dung yêu cầu vượt quá \(maxBody) byte; hãy dùng trang nhỏ hơn.", field: "body", value: "> \(maxBody)")
                logger.notice(
                    "request.refused", metadata: ["path": .string(request.uri.path), "status": "413", "code": "invalid_input", "field": "body"])
                return jsonResponse(.contentTooLarge, ["error": refusal.jsonObject])
            }
            if let declared = request.headers[.contentLength].flatMap({ Int($0) }), declared > maxBody { return tooLarge() }
            var fields: [String: String] = [:]
            for field in request.headers { fields[field.name.canonicalName] = field.value }
            let headers = fields
            // Reading, decoding and applying the body hold one of the gate's permits.
            let work: @Sendable () async throws -> (HubSyncService.Outcome, Int, UInt64)? = {
                var request = request
                let buffer: ByteBuffer
                do {
                    buffer = try await request.collectBody(upTo: maxBody)
                } catch {
                    // Hummingbird reports an over-long streamed body as NIO's NIOTooManyBytesError.
                    if (error as? HTTPError)?.status == .contentTooLarge || String(describing: type(of: error)).contains("TooManyBytes") {
                        return nil
                    }
                    throw error
                }
                let body = Data(buffer.readableBytesView)
                let started = DispatchTime.now().uptimeNanoseconds
                let outcome = try await offload {
                    defer { releaseFreedMemory(after: body.count) }
                    return try service.handle(headers: headers, body: body, now: Int64(Date().timeIntervalSince1970))
                }
                return (outcome, body.count, started)
            }
            let result: (HubSyncService.Outcome, Int, UInt64)??
            if let gate { result = try await gate.run(work) } else { result = .some(try await work()) }
            guard let done = result else {
                throw SyncError(
                    .unavailable,
                    "Hub đang bận: đã có \(gate?.permits ?? 0) yêu cầu đồng bộ đang xử lý và yêu cầu này đã chờ quá \(Int(gate?.wait.components.seconds ?? 0)) giây; hãy thử lại sau.",
                    field: "hub", value: "busy")
            }
            guard let (outcome, bytesIn, started) = done else { return tooLarge() }
            logger.info(
                "sync.page",
                metadata: [
                    "replica": .string(outcome.replica.rawValue), "received": .stringConvertible(outcome.received),
                    "applied": .stringConvertible(outcome.applied), "sent": .stringConvertible(outcome.sent),
                    "more": .stringConvertible(outcome.more), "bytes.in": .stringConvertible(bytesIn),
                    "bytes.out": .stringConvertible(outcome.body.count),
                    "ms": .stringConvertible((DispatchTime.now().uptimeNanoseconds - started) / 1_000_000),
                ])
            var h = HTTPFields()
            h[.contentType] = SyncProtocol.mediaType
            if let name = FieldName(SyncProtocol.Header.signature) { h[name] = outcome.signature }
            if let name = FieldName(SyncProtocol.Header.schema) { h[name] = String(SchemaVersion.current.version) }
            return Response(status: .ok, headers: h, body: ResponseBody(byteBuffer: ByteBuffer(bytes: outcome.body)))
        }
        return router
    }

    /// The application, bound to `host:port` (port 0 picks a free one); `onRunning` receives the
    /// port actually bound.
    /// `tls`: serve https with that configuration (`hub serve --tls-cert/--tls-key`).
    static func buildApplication(
        store: ReplicaStore, host: String, port: Int, logger: Logger, degraded: String? = nil, limits: Limits = Limits(),
        tls: TLSConfiguration? = nil, onRunning: @escaping @Sendable (Int) async -> Void
    ) throws -> some ApplicationProtocol {
        let tracker = ConnectionTracker(limit: limits.maxConnections, logger: logger)
        let gate = SyncGate(permits: limits.concurrentSyncs, wait: .milliseconds(Int64(limits.syncWait * 1000)))
        // Hummingbird's idle timeout counts from the connection's start or its last HTTP part read:
        // a silent connection, a header sent in part (or too slowly) and a body that stops are
        // all closed after it; a request being answered is not.
        let http1 = HTTP1Channel.Configuration(
            additionalChannelHandlers: [RequestStateHandler(tracker: tracker)], idleTimeout: .milliseconds(Int64(limits.idleTimeout * 1000)))
        let server: HTTPServerBuilder
        if let tls {
            server = HTTPServerBuilder { responder in
                GuardedChannel(
                    base: try TLSChannel(HTTP1Channel(responder: responder, configuration: http1), tlsConfiguration: tls), tracker: tracker,
                    plainHTTP: false)
            }
        } else {
            server = HTTPServerBuilder { responder in
                GuardedChannel(base: HTTP1Channel(responder: responder, configuration: http1), tracker: tracker, plainHTTP: true)
            }
        }
        // NIO's ServerBootstrap sets TCP_NODELAY on the listening socket, which accepted
        // connections inherit: small sync pages are not held back by Nagle's algorithm.
        return Application(
            router: buildRouter(store: store, logger: logger, degraded: degraded, gate: gate),
            server: server,
            configuration: .init(address: .hostname(host, port: port), serverName: serverName, backlog: 1024),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) },
            logger: logger)
    }

    /// After a large page (over 1 MiB on the wire, up to 64 MiB inflated and decoded), gives the
    /// memory it freed back to the system: glibc keeps freed blocks in the arena of the thread that
    /// used them, one arena per worker thread, so without this the hub's resident size grows by a
    /// page's worth for each thread that ever decoded one.
    static func releaseFreedMemory(after bytes: Int) {
        if bytes > 1 << 20, let trim = mallocTrim { _ = trim(0) }
    }

    /// glibc's `malloc_trim`, which the Glibc module does not export; nil elsewhere.
    nonisolated(unsafe) static let mallocTrim: (@convention(c) (Int) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int) -> Int32).self)
    }()

    /// Runs blocking SQLite work on a Dispatch thread, not on the server's executors.
    static func offload<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { c in
            DispatchQueue.global().async { c.resume(with: Result { try body() }) }
        }
    }

    static func jsonResponse(_ status: HTTPResponse.Status, _ object: [String: any Sendable]) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        var h = HTTPFields()
        h[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: h, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// Renders every error as `{"error": {code, message, field, value}}` with its status.
    struct JSONErrorMiddleware: RouterMiddleware {
        typealias Context = BasicRequestContext
        let logger: Logger

        func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
            do {
                return try await next(request, context)
            } catch let e as SyncError {
                logger.notice(
                    "request.refused",
                    metadata: [
                        "path": .string(request.uri.path), "status": .stringConvertible(e.httpStatus), "code": .string(e.code.rawValue),
                        "field": .string(e.field ?? ""),
                        "replica": .string(FieldName(SyncProtocol.Header.replica).flatMap { request.headers[$0] } ?? ""),
                    ])
                return HubServer.jsonResponse(HTTPResponse.Status(code: e.httpStatus), ["error": e.jsonObject])
            } catch let e as HTTPError {
                let code = e.status.code == 404 ? "not_found" : e.status.code == 413 ? "invalid_input" : "http_\(e.status.code)"
                let message = e.status.code == 404 ? "Không có đường dẫn «\(request.uri.path)»." : (e.body ?? e.status.reasonPhrase)
                return HubServer.jsonResponse(e.status, ["error": ["code": code, "message": message, "field": "path", "value": request.uri.path]])
            } catch {
                logger.error("request.failed", metadata: ["path": .string(request.uri.path), "error": .string(String(describing: error))])
                return HubServer.jsonResponse(.internalServerError, ["error": ["code": "internal", "message": "Lỗi nội bộ của hub."]])
            }
        }
    }
}

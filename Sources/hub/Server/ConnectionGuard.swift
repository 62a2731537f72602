import Foundation
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypes
import Synchronization

/// The hub's connection limit. Every accepted connection is registered; past `limit`, the oldest
/// connection that is not in the middle of a request (no request head yet, e.g. a half-sent
/// header, or idle between requests) is closed to make room, so idle or stalled connections can
/// never keep `/health` or a real sync out. Only when every open connection is busy with a request
/// is the new one refused: a 503 JSON body, then close.
final class ConnectionTracker: Sendable {
    struct Entry {
        var channel: any Channel
        var busy: Bool
        /// When it last became idle (accepted, or its last response written): the oldest goes first.
        var since: UInt64
    }
    struct State {
        var entries: [ObjectIdentifier: Entry] = [:]
        var tick: UInt64 = 0
        var evicted = 0
        var refused = 0
    }

    let limit: Int
    let logger: Logger
    private let state = Mutex(State())

    init(limit: Int, logger: Logger) {
        self.limit = limit
        self.logger = logger
    }

    enum Decision {
        case accept(evicting: (any Channel)?)
        case refuse
    }

    /// Registers `channel`; what to do with it (and which idle connection to close first).
    func opened(_ channel: any Channel) -> Decision {
        let id = ObjectIdentifier(channel)
        let decision: Decision = state.withLock { s in
            s.tick += 1
            var victim: (any Channel)?
            if s.entries.count >= limit {
                var oldest: (key: ObjectIdentifier, since: UInt64)?
                for (key, e) in s.entries where !e.busy && e.since < (oldest?.since ?? .max) { oldest = (key, e.since) }
                guard let oldest, let entry = s.entries.removeValue(forKey: oldest.key) else {
                    s.refused += 1
                    return .refuse
                }
                s.evicted += 1
                victim = entry.channel
            }
            s.entries[id] = Entry(channel: channel, busy: false, since: s.tick)
            return .accept(evicting: victim)
        }
        if case .accept = decision {
            channel.closeFuture.whenComplete { [self] _ in state.withLock { s in _ = s.entries.removeValue(forKey: id) } }
        }
        return decision
    }

    /// A request head arrived (`busy`) or its response was written.
    func mark(_ channel: any Channel, busy: Bool) {
        state.withLock { s in
            s.tick += 1
            let id = ObjectIdentifier(channel)
            guard s.entries[id] != nil else { return }
            s.entries[id]!.busy = busy
            if !busy { s.entries[id]!.since = s.tick }
        }
    }

    var counts: (open: Int, evicted: Int, refused: Int) { state.withLock { s in (s.entries.count, s.evicted, s.refused) } }
}

/// Follows a connection's requests for the tracker: busy from a request head to the end of its
/// response.
final class RequestStateHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart
    let tracker: ConnectionTracker

    init(tracker: ConnectionTracker) { self.tracker = tracker }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head = unwrapInboundIn(data) { tracker.mark(context.channel, busy: true) }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { tracker.mark(context.channel, busy: false) }
        context.write(data, promise: promise)
    }
}

/// Wraps the HTTP child channel (inside TLS when the hub serves https) so that every connection
/// passes the tracker first.
struct GuardedChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value
    let base: Base
    let tracker: ConnectionTracker
    /// Whether a refusal can be written as plain HTTP (not when the bytes go inside TLS that has
    /// not been set up yet: then the connection is only closed).
    let plainHTTP: Bool

    struct Refused: Error {}

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        switch tracker.opened(channel) {
        case .accept(let victim):
            if let victim {
                logger.debug("connection.evicted", metadata: ["limit": .stringConvertible(tracker.limit)])
                victim.close(promise: nil)
            }
            return base.setup(channel: channel, logger: logger)
        case .refuse:
            let counts = tracker.counts
            logger.notice(
                "connection.refused",
                metadata: ["limit": .stringConvertible(tracker.limit), "refused": .stringConvertible(counts.refused), "status": "503"])
            guard plainHTTP else {
                channel.close(promise: nil)
                return channel.eventLoop.makeFailedFuture(Refused())
            }
            let body = HubServer.connectionLimitBody(limit: tracker.limit)
            var head = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json; charset=utf-8\r\n"
            head += "Content-Length: \(body.count)\r\nRetry-After: 5\r\nConnection: close\r\n\r\n"
            var buffer = channel.allocator.buffer(capacity: head.utf8.count + body.count)
            buffer.writeString(head)
            buffer.writeBytes(body)
            return channel.writeAndFlush(buffer).flatMapErrorThrowing { _ in }.flatMap {
                channel.close().flatMapErrorThrowing { _ in }
            }.flatMapThrowing { throw Refused() }
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

/// At most `permits` sync requests read, decode and apply their body at once (the SQLite writer
/// serialises applying anyway); the others wait, their bodies left unread in the socket, for at
/// most `wait` seconds, then get a 503 (`unavailable`) that replicas retry with backoff. This,
/// not the number of connections, bounds the hub's memory under many maximum-size pages.
final class SyncGate: Sendable {
    struct State {
        var free: Int
        var waiters: [(id: UInt64, c: CheckedContinuation<Bool, Never>)] = []
        var next: UInt64 = 0
    }
    let permits: Int
    let wait: Duration
    private let state: Mutex<State>

    init(permits: Int, wait: Duration) {
        self.permits = permits
        self.wait = wait
        self.state = Mutex(State(free: permits))
    }

    /// Runs `body` holding a permit; nil when none came free within `wait`.
    func run<T: Sendable>(_ body: () async throws -> T) async throws -> T? {
        guard await acquire() else { return nil }
        defer { release() }
        return try await body()
    }

    private func acquire() async -> Bool {
        let wait = self.wait
        return await withCheckedContinuation { (c: CheckedContinuation<Bool, Never>) in
            // Taking a permit and queueing happen under one lock, so a release never falls between.
            let ticket: UInt64? = state.withLock { s in
                if s.free > 0 {
                    s.free -= 1
                    return nil
                }
                s.next += 1
                s.waiters.append((s.next, c))
                return s.next
            }
            guard let ticket else { return c.resume(returning: true) }
            Task {
                try? await Task.sleep(for: wait)
                let timedOut = state.withLock { s -> CheckedContinuation<Bool, Never>? in
                    guard let i = s.waiters.firstIndex(where: { $0.id == ticket }) else { return nil }
                    return s.waiters.remove(at: i).c
                }
                timedOut?.resume(returning: false)
            }
        }
    }

    private func release() {
        let next = state.withLock { s -> CheckedContinuation<Bool, Never>? in
            if s.waiters.isEmpty {
                s.free += 1
                return nil
            }
            return s.waiters.removeFirst().c
        }
        next?.resume(returning: true)
    }
}

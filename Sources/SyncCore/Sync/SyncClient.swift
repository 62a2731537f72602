import Foundation

/// A reply from the hub as the transport saw it.
public struct TransportResponse: Sendable {
    public var status: Int
    /// Lower-case header names.
    public var headers: [String: String]
    public var body: Data

    public init(status: Int, headers: [String: String], body: Data) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// How a request reaches the hub. The client's HTTP transport (URLSession) and the tests'
/// in-process transport implement it; a thrown error counts as a failure worth retrying.
public protocol SyncTransport: Sendable {
    func post(body: Data, headers: [String: String]) async throws -> TransportResponse
}

/// When and how often to retry after a failure that may pass (network, 5xx).
public struct RetryPolicy: Sendable {
    public var attempts: Int
    public var baseDelay: Double
    public var maxDelay: Double

    public init(attempts: Int = 6, baseDelay: Double = 0.25, maxDelay: Double = 8) {
        self.attempts = attempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// The delay before retry number `n` (1-based): exponential, capped.
    public func delay(_ n: Int) -> Double { min(maxDelay, baseDelay * Double(1 << min(n - 1, 20))) }
}

/// What one `sync` did.
public struct SyncSummary: Sendable, Codable, Equatable {
    public var sent = 0
    public var received = 0
    public var conflicts = 0
    public var roundTrips = 0
    public var retries = 0
    /// Ops put in the pages of this sync, each page counted once (a retried page is one page):
    /// what went over the wire, not only what was new to the other side (`sent`, `received`). A
    /// sync that resumes where an interrupted one stopped sends and receives only what was left.
    public var opsSent = 0
    public var opsReceived = 0
    /// The hub's schema version as its last reply gave it (nil: a hub of the release before
    /// schema versions, which knows no plan entries).
    public var hubSchema: Int?
    /// Ops this replica holds but its program does not know (a newer program's): they wait for
    /// this machine's upgrade (`ReplicaStore.unknownOpCount`).
    public var waitingForUpgrade = 0

    enum CodingKeys: String, CodingKey {
        case sent, received, conflicts, retries
        case roundTrips = "round_trips"
        case opsSent = "ops_sent"
        case opsReceived = "ops_received"
        case hubSchema = "hub_schema"
        case waitingForUpgrade = "waiting_for_upgrade"
    }

    /// What the user should know about program versions after this sync, in Vietnamese (nil: nothing).
    public var versionAdvice: String? {
        var lines: [String] = []
        let mine = SchemaVersion.current.version
        if let hub = hubSchema, hub < mine {
            lines.append(
                "Hub dùng phiên bản dữ liệu cũ hơn máy này (lược đồ \(hub), máy này \(mine)): hãy nâng cấp chương trình trên hub; thao tác hub chưa hiểu vẫn được hub giữ và chuyển tiếp."
            )
        } else if hubSchema == nil && roundTrips > 0 {
            lines.append(
                "Hub dùng phiên bản chương trình cũ hơn máy này (chưa báo phiên bản lược đồ dữ liệu): hãy nâng cấp chương trình trên hub, nếu không hub sẽ từ chối các thay đổi Kế hoạch."
            )
        }
        if waitingForUpgrade > 0 {
            lines.append(
                "Có \(waitingForUpgrade) thao tác của phiên bản chương trình mới hơn đang được giữ (đã đồng bộ, đã kiểm tra, chưa áp dụng): hãy nâng cấp chương trình trên máy này; sau khi nâng cấp chúng được áp dụng ngay."
            )
        }
        return lines.isEmpty ? nil : lines.joined(separator: "\n")
    }
}

/// Progress of a running sync, for a progress line.
public struct SyncProgress: Sendable {
    public var page: Int
    public var sent: Int
    public var received: Int
    public var more: Bool
}

/// The client's side of the protocol: pages until neither side has anything left for the other.
/// Each page's answer is applied in one transaction with the hub cursor (`ReplicaStore.accept`),
/// so an interrupted sync resumes from the last page applied and a retried request is harmless.
public struct SyncClient: Sendable {
    /// A hub address as users type it: http or https with a host (`http://127.0.0.1:8080`);
    /// anything else is refused naming `field` and the value.
    public static func hubURL(_ raw: String, field: String) throws -> URL {
        guard let url = URL(string: raw), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme), url.host?.isEmpty == false
        else {
            throw SyncError.invalid(field, raw, "cần địa chỉ http:// hoặc https://, ví dụ http://127.0.0.1:8080.")
        }
        return url
    }

    public var store: ReplicaStore
    public let credentials: HubCredentials
    public let hubURL: String?
    public let transport: any SyncTransport
    public var pageLimit = SyncProtocol.maxPageOps
    public var retry = RetryPolicy()
    public var clock: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }
    public var sleep: @Sendable (Double) async -> Void = { s in try? await Task.sleep(nanoseconds: UInt64(s * 1_000_000_000)) }

    public init(store: ReplicaStore, credentials: HubCredentials, hubURL: String?, transport: any SyncTransport) {
        self.store = store
        self.credentials = credentials
        self.hubURL = hubURL
        self.transport = transport
    }

    public func run(progress: @Sendable (SyncProgress) -> Void = { _ in }) async throws -> SyncSummary {
        let me = credentials.replica
        try store.prepareToSend()
        let key = try store.machineKey()
        var summary = SyncSummary()
        var hubHas = try store.peer("hub")?.acked[me] ?? 0
        var stalled = 0
        var hubVector = VersionVector()
        while true {
            let mine = try store.ops(of: me, after: hubHas, limit: pageLimit)
            let vv = try store.versionVector()
            let request = SyncRequest(
                replica: me, versionVector: vv, batch: mine, pageLimit: pageLimit, machineKey: key, digests: try store.chainDigests())
            let response: SyncResponse
            let retries: Int
            do {
                (response, retries) = try await exchange(request)
            } catch let e as SyncError where e.code == .fork && e.value?.hasPrefix("\(me):") == true {
                throw Self.restored(me, hubHas: nil, mine: vv[me])
            }
            summary.retries += retries
            summary.roundTrips += 1
            summary.hubSchema = response.hubSchema
            // The hub's copy of this replica's own ops must be this replica's: a database put
            // back to an old copy that wrote on holds other ops under the same counters.
            if response.yourCounter > 0, let mine = try store.chainHash(of: me, at: response.yourCounter),
                mine.prefix64 != response.yourDigest
            {
                throw Self.restored(me, hubHas: response.hubVersionVector[me], mine: vv[me])
            }
            let report = try store.accept(response, hubURL: hubURL, now: clock())
            // The hub sends ops this store already holds only for an origin whose chain head here
            // differs from its own (`SyncRequest.digests`), from that origin's start. If the page
            // ended before the two copies part, the next request would get the same page again
            // and the sync would stall: ask `runRecovering` to compare the whole copies now. (A page
            // that reached this store's counter without a fork found the copies equal.)
            if let resent = response.ops.first(where: { $0.dot.origin != me && $0.dot.counter <= vv[$0.dot.origin] })?.dot.origin,
                let last = response.ops.last(where: { $0.dot.origin == resent })?.dot.counter, last < vv[resent]
            {
                throw SyncError(
                    .fork,
                    "Hub giữ thao tác của bản sao \(resent) khác với bản ở máy này (máy này có đến \(resent):\(vv[resent]), giống nhau ít nhất đến \(resent):\(last)): bản ở máy này đến từ tệp thao tác hoặc gói tin của một nhánh khác.",
                    field: "origin", value: "\(resent):\(last + 1)")
            }
            summary.opsSent += mine.ops.count
            summary.opsReceived += response.ops.count
            summary.sent += response.applied
            summary.received += report.applied
            let before = hubHas
            hubHas = response.hubVersionVector[me]
            hubVector = response.hubVersionVector
            progress(SyncProgress(page: summary.roundTrips, sent: summary.sent, received: summary.received, more: response.more))
            FaultHook.passed(.clientPage)  // test only (CCHC_FAULT): SIGKILL after the K-th committed page
            let ownLeft = hubHas < vv[me]
            if !response.more && !ownLeft { break }
            // A hub that neither takes our ops nor sends anything would loop forever.
            if report.applied == 0 && hubHas <= before && (!mine.isEmpty || response.more) {
                stalled += 1
                if stalled >= 3 {
                    throw SyncError(
                        .internal, "Hub không nhận thêm thao tác của bản sao (dừng ở \(me):\(hubHas)).", field: "replica", value: me.rawValue)
                }
            } else {
                stalled = 0
            }
        }
        try Self.checkComplete(store: store, me: me, hubVector: hubVector)
        summary.conflicts = try store.conflicts().count
        summary.waitingForUpgrade = try store.unknownOpCount()
        return summary
    }

    /// Success is said only when each side holds what the other said it holds: every op the hub
    /// has is here, and every op of this replica is at the hub.
    static func checkComplete(store: ReplicaStore, me: ReplicaID, hubVector: VersionVector) throws {
        let mine = try store.versionVector()
        var missing: [String] = []
        for (origin, counter) in hubVector.sorted where origin != .genesis && mine[origin] < counter {
            missing.append("\(origin): có \(mine[origin])/\(counter)")
        }
        if hubVector[me] < mine[me] { missing.append("hub thiếu thao tác của bản sao này: \(hubVector[me])/\(mine[me])") }
        guard missing.isEmpty else {
            let held = (try? store.pendingCount()) ?? 0
            throw SyncError(
                .unavailable,
                "Đồng bộ chưa đầy đủ, hai bên chưa giữ cùng dữ liệu (\(missing.prefix(5).joined(separator: "; "))\(missing.count > 5 ? "; …" : ""))\(held > 0 ? "; \(held) thao tác đang chờ vì chưa kiểm tra được chữ ký" : ""). Hãy chạy lại «unit-client sync».",
                field: "version_vector", value: missing.first)
        }
    }

    /// The error that sends `unit-client sync` into recovery after a restore.
    static func restored(_ me: ReplicaID, hubHas: UInt64?, mine: UInt64) -> SyncError {
        SyncError(
            .fork,
            "Hub giữ thao tác của bản sao \(me) mà cơ sở dữ liệu này không có hoặc khác với nó\(hubHas.map { " (hub có đến \(me):\($0), máy này đến \(mine))" } ?? ""): cơ sở dữ liệu đã được khôi phục từ một bản sao lưu cũ. Công việc ghi sau đó sẽ được ghi lại dưới số mới.",
            field: "restore", value: "\(me):\(mine)")
    }

    /// The hub's copy of this replica's own ops after `counter`, all pages (for recovery after a
    /// restore): asks as if it held nothing of its own beyond `counter` and everything else the
    /// hub has, so only its own ops come back.
    public func fetchOwnOps(after counter: UInt64, hubVector: VersionVector) async throws -> OpBatch {
        try await fetchOps(of: credentials.replica, after: counter, hubVector: hubVector)
    }

    /// The hub's copy of `origin`'s ops after `counter`, all pages: asks as if it held nothing of
    /// `origin` beyond `counter` and everything else the hub has, so only those ops come back.
    public func fetchOps(of origin: ReplicaID, after counter: UInt64, hubVector: VersionVector) async throws -> OpBatch {
        let me = credentials.replica
        let key = try store.machineKey()
        var out = OpBatch()
        var have = counter
        while true {
            var vv = hubVector
            vv[origin] = have
            let (response, _) = try await exchange(SyncRequest(replica: me, versionVector: vv, pageLimit: SyncProtocol.maxPageOps, machineKey: key))
            let theirs = response.ops.filter { $0.dot.origin == origin }
            out.ops += theirs
            out.heads += response.heads.filter { $0.origin == origin }
            if let last = theirs.last { have = last.dot.counter }
            if theirs.isEmpty || !response.more || have >= response.hubVersionVector[origin] { break }
        }
        return out
    }

    /// The hub's vector, sending nothing of this replica's (the answer's ops are not applied).
    /// A store holding more of a revoked origin than the hub asks as if it held only the hub's
    /// copy of it (the hub refuses the rest: `field` `closed`).
    public func hubVector() async throws -> VersionVector {
        var vv = try store.versionVector()
        let key = try store.machineKey()
        while true {
            do {
                return try await exchange(SyncRequest(replica: credentials.replica, versionVector: vv, pageLimit: 1, machineKey: key)).0
                    .hubVersionVector
            } catch let e as SyncError where e.code == .fork && e.field == "closed" {
                guard let origin = Self.forkOrigin(e), let counter = Self.forkCounter(e), vv[origin] >= counter else { throw e }
                vv[origin] = counter - 1
            }
        }
    }

    /// One page, retried with exponential backoff while the failure may pass. Each attempt is
    /// signed afresh (new timestamp and nonce), so a retry is never mistaken for a replay.
    func exchange(_ request: SyncRequest) async throws -> (SyncResponse, Int) {
        let body = try WireCodec.encode(request)
        var attempt = 0
        while true {
            attempt += 1
            var headers = SyncAuth.signRequest(body: body, replica: credentials.replica, key: credentials.key, now: clock())
            headers[SyncProtocol.Header.schema] = String(SchemaVersion.current.version)
            let failure: SyncError
            do {
                let reply = try await transport.post(body: body, headers: headers)
                if reply.status == 200 {
                    try SyncAuth.verifyResponse(
                        body: reply.body, nonce: headers[SyncProtocol.Header.nonce] ?? "", signature: reply.headers[SyncProtocol.Header.signature],
                        key: credentials.key)
                    var response = try WireCodec.decodeResponse(reply.body)
                    response.hubSchema = reply.headers[SyncProtocol.Header.schema].flatMap { Int($0) }
                    return (response, attempt - 1)
                }
                let e = Self.error(fromStatus: reply.status, body: reply.body)
                if reply.status < 500 && reply.status != 408 && reply.status != 429 { throw e }
                failure = e
            } catch let e as SyncError where e.code != .unavailable {
                throw e
            } catch let e as SyncError {
                failure = e
            } catch {
                failure = SyncError(
                    .unavailable, "Không kết nối được hub \(hubURL): \(Self.networkReason(error)).", field: "hub", value: hubURL, cause: error)
            }
            if attempt >= retry.attempts {
                throw SyncError(
                    .unavailable, "\(failure.message) (đã thử \(attempt) lần)", field: failure.field ?? "hub", value: failure.value ?? hubURL)
            }
            await sleep(retry.delay(attempt))
        }
    }

    /// The error a hub's JSON error body describes.
    public static func error(fromStatus status: Int, body: Data) -> SyncError {
        struct Body: Decodable {
            struct E: Decodable {
                var code: String
                var message: String
                var field: String?
                var value: String?
            }
            var error: E
        }
        if let b = try? JSONDecoder().decode(Body.self, from: body) {
            return SyncError(
                SyncError.Code(b.error.code), "Hub từ chối (HTTP \(status)): \(b.error.message)", field: b.error.field, value: b.error.value)
        }
        let code: SyncError.Code =
            switch status {
            case 401: .unauthorized
            case 403: .forbidden
            case 400, 413: .invalidInput
            case 500...: .unavailable
            default: .internal
            }
        return SyncError(code, "Hub trả lời HTTP \(status).", field: "hub", value: String(status))
    }

    // MARK: Bundles

    /// A bundle for the hub: this replica's vector and its own ops the hub has not acknowledged.
    public static func exportBundle(store: ReplicaStore, credentials: HubCredentials, now: Int64) throws -> (data: Data, ops: Int) {
        let me = credentials.replica
        let acked = try store.peer("hub")?.acked[me] ?? 0
        try store.prepareToSend()
        let ops = try store.ops(of: me, after: acked, limit: .max)
        let request = SyncRequest(
            replica: me, versionVector: try store.versionVector(), batch: ops, pageLimit: 0, machineKey: try store.machineKey())
        let bundle = SyncBundle(direction: .toHub, replica: me, unit: credentials.unit, created: now, payload: try WireCodec.encode(request))
        return (try bundle.encoded(key: credentials.key), ops.count)
    }

    /// Writes to `path` a bundle (version 2) for the hub: this replica's vector and its own ops the
    /// hub has not acknowledged, page by page from one snapshot.
    public static func exportBundle(
        store: ReplicaStore, credentials: HubCredentials, to path: String, now: Int64, nonce: String = SyncAuth.newNonce()
    ) throws -> (ops: Int, bytes: Int) {
        let me = credentials.replica
        let acked = try store.peer("hub")?.acked[me] ?? 0
        try store.prepareToSend()
        let key = try store.machineKey()
        var after = VersionVector()
        after[me] = acked
        return try BundleStream.write(
            to: path, direction: .toHub, replica: me, unit: credentials.unit, created: now, nonce: nonce, key: credentials.key,
            kind: WireCodec.requestKind
        ) { sink in
            try store.forEachOpsPage(
                after: after, only: me,
                start: { vv in try sink.begin(fields: BundleStream.requestFields(replica: me, versionVector: vv, machineKey: key)) },
                { try sink.add($0) })
        }
    }

    /// Why the transport failed, in Vietnamese (the system's own text is English); the original
    /// error stays in `SyncError.cause` for logs.
    static func networkReason(_ error: any Error) -> String {
        let e = error as NSError
        guard e.domain == "NSURLErrorDomain" else { return "lỗi mạng" }
        switch e.code {
        case -1001: return "hết thời gian chờ"
        case -1003: return "không tìm thấy máy chủ"
        case -1004: return "máy chủ không nhận kết nối (hub chưa chạy hoặc sai cổng)"
        case -1005: return "kết nối bị ngắt giữa chừng"
        case -1009: return "không có kết nối mạng"
        default: return "lỗi mạng (mã \(e.code))"
        }
    }

    /// A bundle (either version) must come from the hub and be for this replica.
    static func checkAddressed(path: String, direction: SyncBundle.Direction, replica: ReplicaID, credentials: HubCredentials) throws {
        guard direction == .toReplica else {
            throw SyncError(
                .invalidInput, "Gói tin «\(path)» là gói gửi hub, không phải gói hub gửi bản sao.", field: "direction", value: direction.rawValue)
        }
        guard replica == credentials.replica else {
            throw SyncError(
                .forbidden, "Gói tin «\(path)» dành cho bản sao \(replica), không phải bản sao này (\(credentials.replica)).",
                field: "replica", value: replica.rawValue)
        }
    }

    /// A bundle from the hub, checked (direction, replica, checksum, signature, age) but not applied.
    public static func openBundle(_ data: Data, path: String, credentials: HubCredentials, now: Int64) throws -> (SyncResponse, SyncBundle) {
        let (bundle, hmac) = try SyncBundle.parse(data, path: path)
        try checkAddressed(path: path, direction: bundle.direction, replica: bundle.replica, credentials: credentials)
        try bundle.verify(hmac: hmac, key: credentials.key, now: now, path: path)
        return (try WireCodec.decodeResponse(bundle.payload), bundle)
    }

    /// A bundle (version 2) from the hub, checked (direction, replica, length, signature, age) but
    /// not yet read further.
    static func openStreamedBundle(path: String, credentials: HubCredentials, now: Int64) throws -> BundleStream.Reader {
        let reader = try BundleStream.Reader(path: path)
        try checkAddressed(path: path, direction: reader.direction, replica: reader.replica, credentials: credentials)
        try reader.verify(key: credentials.key, now: now)
        return reader
    }

    /// What importing a hub's bundle did (`importBundle`).
    public struct BundleImported: Sendable {
        public var report: ApplyReport
        /// This replica's own recovery after a restore from an old copy, if it ran.
        public var restore: Recovery.Report?
        /// Revoked replicas' ops set aside after the import (`Recovery.setAsideClosed`), in order.
        public var setAside: [Recovery.Report] = []
        /// The store, reopened when a recovery or a set-aside swapped its file (the one passed
        /// in is then closed).
        public var store: ReplicaStore
    }

    /// Imports the bundle from the hub in the file at `path`: one of version 2 page by page in one
    /// transaction (its HMAC checked first, its SHA-256 by the last page, before anything is
    /// committed), one of version 1 whole. One imported before is refused and changes nothing.
    /// - When this replica's own ops in the bundle differ from its own (its database was put back
    ///   to an old copy and wrote on), the hub's copy is taken back and the work done since is
    ///   written again under new counters (`Recovery.recoverFromRestore`, once), then the bundle
    ///   is imported into the rebuilt store;
    /// - then, for each revoked replica the bundle names (`BundleStream.Reader.closed`) of which
    ///   this store holds more ops than the hub, those are set aside (`Recovery.setAsideClosed`),
    ///   as an HTTP sync does after the hub's refusal `closed`.
    /// Use the returned store.
    public static func importBundle(path: String, store: ReplicaStore, credentials: HubCredentials, now: Int64) throws -> BundleImported {
        let me = credentials.replica
        do {
            return try importBundleOnce(path: path, store: store, credentials: credentials, now: now)
        } catch let e as SyncError where e.code == .fork && e.value?.hasPrefix("\(me):") == true {
            let own = try ownOpsInBundle(path: path, credentials: credentials, now: now)
            let acked = try store.peer("hub")?.acked[me] ?? 0
            guard let from = try Recovery.divergence(store: store, hubOwn: own, after: acked) else { throw e }
            let file = store.path
            let restore = try Recovery.recoverFromRestore(store: store, hubOwn: own, from: from, now: now)
            var done = try importBundleOnce(
                path: path, store: try ReplicaStore.open(path: file, catalog: store.catalog), credentials: credentials, now: now)
            done.restore = restore
            return done
        }
    }

    private static func importBundleOnce(path: String, store: ReplicaStore, credentials: HubCredentials, now: Int64) throws -> BundleImported {
        guard try BundleStream.isStreamed(path: path) else {
            let report = try importBundle(UserFile.read(path, field: "file"), path: path, store: store, credentials: credentials, now: now)
            return BundleImported(report: report, store: store)
        }
        let reader = try openStreamedBundle(path: path, credentials: credentials, now: now)
        let hubVector = try reader.responseFields()
        let report = try store.applyFromHub(
            pages: { try reader.next() }, hubVector: hubVector, hubURL: nil, nonce: reader.nonce,
            nonceExpiresAt: reader.created + SyncProtocol.bundleLifetime, now: now)
        var done = BundleImported(report: report, store: store)
        for closed in reader.closed {
            let file = done.store.path
            do {
                guard let r = try Recovery.setAsideClosed(closed, store: done.store, now: now) else { continue }
                done.setAside.append(r)
                done.store = try ReplicaStore.open(path: file, catalog: store.catalog)
            } catch var e as SyncError {
                // The bundle itself is in (importing it again is refused as a replay): say so.
                e.message =
                    "Đã nhập gói «\(path)» (\(report.applied) thao tác mới), nhưng chưa để riêng được thao tác của bản sao đã thu hồi \(closed.origin): "
                    + e.message + " Gói sau của hub sẽ thử lại."
                throw e
            }
        }
        return done
    }

    /// This replica's own ops in the hub's bundle at `path` (checked whole: its signature and
    /// checksum), for recovery after a restore; the other origins' ops are not kept.
    public static func ownOpsInBundle(path: String, credentials: HubCredentials, now: Int64) throws -> OpBatch {
        guard try BundleStream.isStreamed(path: path) else {
            let (response, _) = try openBundle(UserFile.read(path, field: "file"), path: path, credentials: credentials, now: now)
            return response.batch
        }
        let reader = try openStreamedBundle(path: path, credentials: credentials, now: now)
        _ = try reader.responseFields()
        var own = OpBatch()
        while let page = try reader.next() {
            own.ops += page.ops.filter { $0.dot.origin == credentials.replica }
            own.heads += page.heads.filter { $0.origin == credentials.replica }
        }
        return own
    }

    /// Imports a bundle from the hub; one imported before is refused and changes nothing.
    public static func importBundle(_ data: Data, path: String, store: ReplicaStore, credentials: HubCredentials, now: Int64) throws -> ApplyReport {
        let (response, bundle) = try openBundle(data, path: path, credentials: credentials, now: now)
        return try store.accept(
            response, hubURL: nil, nonce: bundle.nonce, nonceExpiresAt: bundle.created + SyncProtocol.bundleLifetime, now: now)
    }
}

import Foundation
import SyncCore

/// The network between one simulated machine and the hub: each request's encoded bytes go to the
/// hub's own `HubSyncService.handle` (what `hub serve` calls for `POST /v1/sync`), and the encoded
/// reply comes back, unless the history decides otherwise (cut, lost, duplicated, held back,
/// damaged, slow, or the machine crashes).
struct SimTransport: SyncTransport, @unchecked Sendable {
    let history: SimHistory
    let machine: Int

    func post(body: Data, headers: [String: String]) async throws -> TransportResponse {
        try history.deliver(machine: machine, body: body, headers: headers)
    }
}

/// A failure of the simulated network (the client counts it as a network error and retries).
struct SimNetworkError: Error, CustomStringConvertible {
    var what: String
    var description: String { "mạng mô phỏng: \(what)" }
}

/// What one `run` of a client moved over the simulated network, for the resumption invariant.
struct RunTraffic {
    /// Ops in requests the hub handled, and in replies the client received.
    var up = 0
    var down = 0
    /// Faults during this run that may make it redo a page.
    var interruptions = 0
    /// Faults of any kind during this run.
    var faults: [FaultKind] = []
    /// The requests the hub handled and what it applied of them.
    var hubApplied = 0
    /// A request of this run has been sent.
    var requested = false
}

/// A request held back by the network, delivered later (reordered after the client's retry).
struct HeldRequest {
    var body: Data
    var headers: [String: String]
    var machine: Int
}

extension SimHistory {
    /// One request over the simulated network.
    func deliver(machine i: Int, body: Data, headers: [String: String]) throws -> TransportResponse {
        var body = body
        var headers = headers
        let fault = faultsOn ? networkFault() : nil
        if let fault {
            stats.fault(fault)
            traffic.faults.append(fault)
            note("  mạng: \(fault.rawValue)")
        }
        switch fault {
        case .cutRequest:
            throw SimNetworkError(what: "kết nối đứt giữa yêu cầu")
        case .crashBeforeSend:
            throw SyncError(.internal, "Mô phỏng: máy tắt đột ngột trước khi gửi yêu cầu.", field: "sim", value: "crash-before-send")
        case .hubUnavailable:
            return TransportResponse(
                status: 503, headers: [:],
                body: SyncError(.unavailable, "Hub quá tải (mô phỏng).", field: "hub", value: "503").httpBody)
        case .delayedRequest:
            held.append(HeldRequest(body: body, headers: headers, machine: i))
            throw SimNetworkError(what: "yêu cầu bị giữ lại trên mạng")
        case .slowNetwork:
            now += Int64(rng.int(1...400))
        case .flippedRequest:
            var b = [UInt8](body)
            let at = rng.below(b.count)
            b[at] ^= UInt8(1 << rng.below(8))
            body = Data(b)
        default: break
        }
        let first = !traffic.requested
        traffic.requested = true
        if bug == .redownloadEverything, first, var request = try? WireCodec.decodeRequest(body) {
            request.versionVector = VersionVector()
            request.digests = [:]
            body = try WireCodec.encode(request)
            let c = machines[i].credentials
            let claims = try SyncAuth.claims(headers)
            headers = SyncAuth.signRequest(body: body, replica: c.replica, key: c.key, now: claims.timestamp, nonce: claims.nonce)
            headers[SyncProtocol.Header.schema] = String(SchemaVersion.current.version)
        }
        var reply = handleAtHub(body: body, headers: headers)
        if fault == .duplicateRequest {
            // The same bytes reach the hub twice: the second is a replay and must be refused by name.
            let again = handleAtHub(body: body, headers: headers)
            if again.status == 200 { try violation("no-replay", "hub chấp nhận một yêu cầu lặp lại (nonce đã dùng)") }
        }
        switch fault {
        case .replyLost:
            throw SimNetworkError(what: "mất phản hồi sau khi hub đã ghi")
        case .crashAfterHubCommit:
            throw SyncError(
                .internal, "Mô phỏng: máy tắt đột ngột sau khi hub đã ghi, trước khi nhận phản hồi.", field: "sim", value: "crash-after-commit")
        case .truncatedReply:
            reply.body = reply.body.prefix(reply.body.count / 2)
        case .flippedReply where !reply.body.isEmpty:
            var b = [UInt8](reply.body)
            b[rng.below(b.count)] ^= UInt8(1 << rng.below(8))
            reply.body = Data(b)
        default: break
        }
        if reply.status == 200 {
            if bug == .repliesLoseOps, var response = try? WireCodec.decodeResponse(reply.body), !response.ops.isEmpty {
                response.ops = []
                response.heads = []
                reply.body = try WireCodec.encode(response)
                reply.headers[SyncProtocol.Header.signature] = SyncAuth.signResponse(
                    body: reply.body, nonce: headers[SyncProtocol.Header.nonce] ?? "", key: machines[i].credentials.key)
            }
            if let r = try? WireCodec.decodeResponse(reply.body) { traffic.down += r.ops.count }
        }
        return reply
    }

    /// The hub's handling of one request, as the HTTP server does it (errors become JSON bodies
    /// with the error's status).
    func handleAtHub(body: Data, headers: [String: String]) -> TransportResponse {
        do {
            let o = try HubSyncService(store: hub).handle(headers: headers, body: body, now: now)
            hubAppliedTotal += o.applied
            traffic.hubApplied += o.applied
            traffic.up += o.received
            return TransportResponse(
                status: 200,
                headers: [SyncProtocol.Header.signature: o.signature, SyncProtocol.Header.schema: String(SchemaVersion.current.version)],
                body: o.body)
        } catch let e as SyncError {
            refused(e, by: "hub")
            // The real hub's bytes, keys sorted: unsorted, their order followed the process's hash
            // seed, a reply's flipped byte landed elsewhere on each run and history
            // 7112378701778612046 did not replay (SimulatorTests.replaysExactly).
            return TransportResponse(status: e.httpStatus, headers: [:], body: e.httpBody)
        } catch {
            unnamed.append("hub: \(error)")
            return TransportResponse(status: 500, headers: [:], body: Data())
        }
    }

    /// Which fault, if any, hits the next request.
    func networkFault() -> FaultKind? {
        guard rng.chance(28) else { return nil }
        return rng.pick([
            .cutRequest, .replyLost, .replyLost, .duplicateRequest, .delayedRequest, .truncatedReply, .flippedRequest, .flippedReply,
            .hubUnavailable, .slowNetwork, .crashBeforeSend, .crashAfterHubCommit, .crashAfterHubCommit,
        ])
    }

    /// The requests the network held back reach the hub now: each is refused by name (replayed,
    /// too old) or applied harmlessly (its ops are duplicates, or had not arrived by another way).
    func deliverHeld() throws {
        let late = held
        held = []
        for r in late {
            stats.fault(.lateDelivery)
            let reply = handleAtHub(body: r.body, headers: r.headers)
            note("  mạng: yêu cầu trễ của m\(r.machine) đến hub → HTTP \(reply.status)")
        }
    }
}

import Crypto
import Foundation

/// Request authentication (docs/PROTOCOL.md, Auth). The enrolment gives the replica a secret S;
/// both sides sign with K = SHA-256(S), so the hub stores only that hash, never S. A request
/// carries its replica, a Unix timestamp, a random nonce and HMAC-SHA256(K, canonical string),
/// where the canonical string binds the method, path, those headers and the body's SHA-256.
/// The hub answers with an HMAC over its body and the request's nonce, so the client knows the
/// answer comes from a hub holding K and belongs to its own request.
public enum SyncAuth {
    /// K = SHA-256(secret): the HMAC key on both sides and the only thing the hub stores.
    public static func key(fromSecret secret: String) -> Data {
        Data(SHA256.hash(data: Data(secret.utf8)))
    }

    /// A fresh secret: 32 random bytes in hex.
    public static func newSecret() -> String {
        hex(SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) })
    }

    /// A fresh nonce: 16 random bytes in hex.
    public static func newNonce() -> String {
        hex(SymmetricKey(size: .bits128).withUnsafeBytes { Data($0) })
    }

    public static func hex(_ d: some Sequence<UInt8>) -> String {
        d.map { String(format: "%02x", $0) }.joined()
    }

    public static func sha256Hex<D: DataProtocol>(_ d: D) -> String { hex(SHA256.hash(data: d)) }

    static func canonical(method: String, path: String, replica: String, timestamp: String, nonce: String, body: Data) -> String {
        "cchc-sync/\(SyncProtocol.version)\n\(method)\n\(path)\n\(replica)\n\(timestamp)\n\(nonce)\n\(sha256Hex(body))"
    }

    static func mac(_ message: String, key: Data) -> String {
        hex(HMAC<SHA256>.authenticationCode(for: Data(message.utf8), using: SymmetricKey(data: key)))
    }

    static func macMatches(_ signatureHex: String, message: String, key: Data) -> Bool {
        guard let sig = unhex(signatureHex) else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(sig, authenticating: Data(message.utf8), using: SymmetricKey(data: key))
    }

    static func unhex(_ s: String) -> Data? {
        let u = Array(s.utf8)
        guard u.count % 2 == 0, u.count <= 256 else { return nil }
        var out = Data(capacity: u.count / 2)
        var i = 0
        while i < u.count {
            guard let hi = nibble(u[i]), let lo = nibble(u[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }

    static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x61...0x66: return c - 0x61 + 10
        case 0x41...0x46: return c - 0x41 + 10
        default: return nil
        }
    }

    /// The headers of a signed request (lower-case names).
    public static func signRequest(
        body: Data, replica: ReplicaID, key: Data, now: Int64, nonce: String = newNonce(), method: String = "POST", path: String = SyncProtocol.path
    ) -> [String: String] {
        let ts = String(now)
        let sig = mac(canonical(method: method, path: path, replica: replica.rawValue, timestamp: ts, nonce: nonce, body: body), key: key)
        return [
            SyncProtocol.Header.protocolVersion: String(SyncProtocol.version),
            SyncProtocol.Header.replica: replica.rawValue,
            SyncProtocol.Header.timestamp: ts,
            SyncProtocol.Header.nonce: nonce,
            SyncProtocol.Header.signature: sig,
        ]
    }

    /// What a request claims about itself, before anything is verified.
    public struct Claims: Sendable, Equatable {
        public var replica: ReplicaID
        public var timestamp: Int64
        public var nonce: String
        public var signature: String
    }

    /// Reads the protocol version and the auth headers; `headers` keys are lower-case.
    public static func claims(_ headers: [String: String]) throws -> Claims {
        guard let v = headers[SyncProtocol.Header.protocolVersion] else {
            throw SyncError(.invalidInput, "Thiếu tiêu đề \(SyncProtocol.Header.protocolVersion) (phiên bản giao thức).", field: "protocol")
        }
        guard v == String(SyncProtocol.version) else { throw WireCodec.unsupportedVersion(v) }
        func need(_ name: String) throws -> String {
            guard let x = headers[name], !x.isEmpty else {
                throw SyncError(.unauthorized, "Yêu cầu chưa được ký: thiếu tiêu đề \(name).", field: name)
            }
            return x
        }
        let r = try need(SyncProtocol.Header.replica)
        guard let replica = ReplicaID(r) else {
            throw SyncError(.unauthorized, "Mã bản sao «\(r)» không hợp lệ.", field: "replica", value: r)
        }
        let ts = try need(SyncProtocol.Header.timestamp)
        guard let t = Int64(ts) else {
            throw SyncError(.unauthorized, "Dấu thời gian «\(ts)» không hợp lệ.", field: "timestamp", value: ts)
        }
        let nonce = try need(SyncProtocol.Header.nonce)
        guard (16...64).contains(nonce.utf8.count), nonce.utf8.allSatisfy({ nibble($0) != nil }) else {
            throw SyncError(
                .unauthorized, "Nonce «\(nonce.prefix(80))» không hợp lệ (16–64 chữ số hex).", field: "nonce", value: String(nonce.prefix(80)))
        }
        return Claims(replica: replica, timestamp: t, nonce: nonce, signature: try need(SyncProtocol.Header.signature))
    }

    /// Checks the timestamp window and the signature (constant-time). Replay of the nonce is the
    /// store's concern: it remembers nonces.
    public static func verify(_ c: Claims, body: Data, key: Data, now: Int64, method: String = "POST", path: String = SyncProtocol.path) throws {
        // Overflow-safe: a hostile timestamp such as Int64.min must be refused, not trap.
        let (skew, overflow) = now.subtractingReportingOverflow(c.timestamp)
        guard !overflow, skew.magnitude <= UInt64(SyncProtocol.clockWindow) else {
            throw SyncError(
                .unauthorized, "Dấu thời gian của yêu cầu lệch quá \(SyncProtocol.clockWindow) giây so với đồng hồ hub; hãy chỉnh đồng hồ máy.",
                field: "timestamp", value: String(c.timestamp))
        }
        let message = canonical(method: method, path: path, replica: c.replica.rawValue, timestamp: String(c.timestamp), nonce: c.nonce, body: body)
        guard macMatches(c.signature, message: message, key: key) else {
            throw SyncError(
                .unauthorized, "Chữ ký của yêu cầu không hợp lệ (sai khóa hoặc nội dung bị sửa).", field: "signature", value: c.replica.rawValue)
        }
    }

    /// The hub's signature over its answer to the request with `nonce`.
    public static func signResponse(body: Data, nonce: String, key: Data) -> String {
        mac("cchc-sync-response/\(SyncProtocol.version)\n\(nonce)\n\(sha256Hex(body))", key: key)
    }

    public static func verifyResponse(body: Data, nonce: String, signature: String?, key: Data) throws {
        guard let signature, macMatches(signature, message: "cchc-sync-response/\(SyncProtocol.version)\n\(nonce)\n\(sha256Hex(body))", key: key)
        else {
            throw SyncError(.unauthorized, "Phản hồi của hub không có chữ ký hợp lệ; không áp dụng.", field: "signature")
        }
    }
}

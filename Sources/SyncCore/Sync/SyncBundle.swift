import Foundation

/// A sync message as a file, for a link made of a USB stick (docs/PROTOCOL.md, Bundles).
///
/// Layout: the line `CCHC-BUNDLE/1`, one line of JSON (the header), then the payload: the same
/// wire bytes as an HTTP body (a `SyncRequest` towards the hub, a `SyncResponse` towards the
/// replica). The header holds the payload's length and SHA-256, a nonce, and an HMAC-SHA256 with
/// the replica's key K over all of it; a bundle from the hub is signed with the key of the
/// replica it is for. Any flipped byte breaks the checksum or the HMAC; a cut file breaks the length.
public struct SyncBundle: Sendable, Equatable {
    public static let magicLine = "CCHC-BUNDLE/1"

    /// Which way the bundle travels.
    public enum Direction: String, Sendable, Codable {
        case toHub = "to-hub"
        case toReplica = "to-replica"
    }

    public var direction: Direction
    /// The replica that wrote it (to the hub) or that it is for (to a replica).
    public var replica: ReplicaID
    public var unit: String
    /// Unix seconds when written.
    public var created: Int64
    public var nonce: String
    public var payload: Data

    public init(direction: Direction, replica: ReplicaID, unit: String, created: Int64, nonce: String = SyncAuth.newNonce(), payload: Data) {
        self.direction = direction
        self.replica = replica
        self.unit = unit
        self.created = created
        self.nonce = nonce
        self.payload = payload
    }

    struct Header: Codable {
        var direction: Direction
        var replica: String
        var unit: String
        var created: Int64
        var nonce: String
        var length: Int
        var sha256: String
        var hmac: String
        /// Version 2, from the hub: where revoked replicas' ops end at the hub (absent when none).
        var closed: [ClosedOrigin.Entry]? = nil
    }

    func signedText(length: Int, sha: String) -> String {
        "cchc-bundle/1\n\(direction.rawValue)\n\(replica.rawValue)\n\(unit)\n\(created)\n\(nonce)\n\(length)\n\(sha)"
    }

    /// The file's bytes, signed with `key` (K of `replica`).
    public func encoded(key: Data) throws -> Data {
        let sha = SyncAuth.sha256Hex(payload)
        let h = Header(
            direction: direction, replica: replica.rawValue, unit: unit, created: created, nonce: nonce, length: payload.count, sha256: sha,
            hmac: SyncAuth.mac(signedText(length: payload.count, sha: sha), key: key))
        var out = Data((Self.magicLine + "\n").utf8)
        out += try JSONEncoder.canonical.encode(h)
        out += Data("\n".utf8)
        out += payload
        return out
    }

    static func damaged(_ path: String, _ why: String) -> SyncError {
        SyncError(.corrupt, "Gói tin «\(path)» bị hỏng: \(why).", field: "file", value: path)
    }

    /// Parses a file and checks its framing and checksum, but not yet its signature: the key
    /// depends on the replica it names (`verify`).
    public static func parse(_ data: Data, path: String) throws -> (bundle: SyncBundle, hmac: String) {
        let bytes = [UInt8](data)
        let magic = Array((magicLine + "\n").utf8)
        guard bytes.count >= magic.count, Array(bytes[0..<magic.count]) == magic else {
            throw SyncError(.corrupt, "Tệp «\(path)» không phải gói tin đồng bộ CCHC (thiếu dòng \(magicLine)).", field: "file", value: path)
        }
        guard let nl = bytes[magic.count...].firstIndex(of: 0x0A) else { throw damaged(path, "thiếu phần đầu") }
        let h: Header
        do {
            h = try JSONDecoder().decode(Header.self, from: Data(bytes[magic.count..<nl]))
        } catch {
            throw damaged(path, "phần đầu không đọc được")
        }
        let payload = Data(bytes[(nl + 1)...])
        guard payload.count == h.length else {
            throw damaged(path, "độ dài \(payload.count) byte, phần đầu ghi \(h.length) byte (tệp bị cắt cụt hoặc thừa)")
        }
        guard SyncAuth.sha256Hex(payload) == h.sha256 else { throw damaged(path, "sai tổng kiểm SHA-256") }
        guard let replica = ReplicaID(h.replica) else { throw damaged(path, "mã bản sao «\(h.replica)» không hợp lệ") }
        let b = SyncBundle(direction: h.direction, replica: replica, unit: h.unit, created: h.created, nonce: h.nonce, payload: payload)
        return (b, h.hmac)
    }

    /// Checks the HMAC with `key` and the bundle's age against `now`.
    public func verify(hmac: String, key: Data, now: Int64, path: String) throws {
        guard SyncAuth.macMatches(hmac, message: signedText(length: payload.count, sha: SyncAuth.sha256Hex(payload)), key: key) else {
            throw SyncError(
                .unauthorized, "Chữ ký của gói tin «\(path)» không hợp lệ (không do bản sao \(replica) hoặc hub ký).", field: "signature",
                value: replica.rawValue)
        }
        let (age, overflow) = now.subtractingReportingOverflow(created)
        guard !overflow, age >= -86_400, age <= SyncProtocol.bundleLifetime else {
            throw SyncError(
                .unauthorized, "Gói tin «\(path)» tạo lúc \(created) đã quá hạn (tối đa \(SyncProtocol.bundleLifetime / 86_400) ngày).",
                field: "created", value: String(created))
        }
    }
}

import Crypto
import Foundation

/// Bundles of version 2 (docs/PROTOCOL.md, "Bundles"), written and read page by page so neither
/// side holds the file: the line `CCHC-BUNDLE/2`, the header line (as version 1: direction,
/// replica, unit, created, nonce, the payload's length and SHA-256, and the HMAC-SHA256 with the
/// replica's key K over all of them), then the payload: the 6-byte plain header of a wire body
/// (`CCHC`, the kind, the protocol version) and one DEFLATE stream holding the message's fields
/// and its ops in pages (`PagedOps`, as ops files of version 3).
///
/// Reading checks the framing, the length against the file's size and the HMAC before anything
/// is applied; the SHA-256 the HMAC vouches for is computed while the pages are read, and the
/// last page is handed over only once it matched. Applied in one transaction (`applyFromEnrolled`,
/// `applyFromHub`), a bundle cut, spliced or changed anywhere is refused whole and changes nothing.
public enum BundleStream {
    static let magicLine = "CCHC-BUNDLE/2"
    static let magic = Array((magicLine + "\n").utf8)

    /// The header line: the fields of version 1's (`SyncBundle.Header`), signed as version 2.
    typealias Header = SyncBundle.Header

    /// Whether the file at `path` is a bundle of version 2.
    public static func isStreamed(path: String) throws -> Bool {
        let f = try StreamingFileReader(path: path, field: "file")
        return try f.read(upTo: magic.count) == magic
    }

    // MARK: Fields

    /// A request's fields before its ops (as `WireCodec.encode(SyncRequest)` writes them).
    static func requestFields(replica: ReplicaID, versionVector: VersionVector, machineKey: MachineKey?) -> [UInt8] {
        var w = VarintWriter()
        WireCodec.writeString(replica.rawValue, to: &w)
        WireCodec.writeVector(versionVector, to: &w)
        w.write(0)  // page limit: a bundle is answered by another bundle
        WireCodec.writeKey(machineKey, to: &w)
        w.write(0)  // digests: none
        return w.bytes
    }

    /// A response's fields before its ops.
    static func responseFields(hubVersionVector: VersionVector) -> [UInt8] {
        var w = VarintWriter()
        WireCodec.writeVector(hubVersionVector, to: &w)
        w.write(0)  // more
        w.write(0)  // applied
        w.write(0)  // duplicates
        w.write(0)  // your counter
        w.bytes += [UInt8](repeating: 0, count: 8)  // your digest
        return w.bytes
    }

    // MARK: Writing

    /// Where a bundle's writer puts the message: its fields first (`begin`), then its pages.
    final class Sink {
        fileprivate let deflater: Deflate.Deflater
        fileprivate var began = false
        fileprivate(set) var ops = 0
        fileprivate(set) var heads = 0

        fileprivate init(_ deflater: Deflate.Deflater) { self.deflater = deflater }

        func begin(fields: [UInt8]) throws {
            precondition(!began, "BundleStream.Sink: begin twice")
            began = true
            try deflater.write(fields)
        }

        func add(_ batch: OpBatch) throws {
            precondition(began, "BundleStream.Sink: a page before the fields")
            guard !batch.ops.isEmpty || !batch.heads.isEmpty else { return }
            try deflater.write(try PagedOps.encode(batch))
            ops += batch.ops.count
            heads += batch.heads.count
        }
    }

    /// Writes a bundle to `path`: `fill` gives the message's fields and pages to the sink. The
    /// payload is written to a temporary file first (its length and SHA-256 go in the header
    /// before it), then the bundle is assembled and put in place; nothing is left on failure.
    static func write(
        to path: String, direction: SyncBundle.Direction, replica: ReplicaID, unit: String, created: Int64, nonce: String = SyncAuth.newNonce(),
        key: Data, kind: UInt8, closed: [ClosedOrigin] = [], fill: (Sink) throws -> Void
    ) throws -> (ops: Int, bytes: Int) {
        let url = URL(fileURLWithPath: path)
        let payloadPath = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).noi-dung-\(getpid())").path
        defer { unlink(payloadPath) }
        let payload = try StreamingFileWriter(path: payloadPath, field: "out")
        var hasher = SHA256()
        var length = 0
        func emit(_ bytes: [UInt8]) throws {
            hasher.update(data: bytes)
            length += bytes.count
            try payload.write(bytes)
        }
        try emit(WireCodec.magic + [kind, SyncProtocol.version])
        let sink = Sink(try Deflate.Deflater(sink: emit))
        try fill(sink)
        guard sink.began else { throw SyncError(.internal, "Gói tin không có phần đầu thông điệp.") }
        try sink.deflater.write(PagedOps.end(ops: sink.ops, heads: sink.heads))
        try sink.deflater.finish()
        let ops = sink.ops
        try payload.commit()
        let sha = hasher.finalize().map { String(format: "%02x", $0) }.joined()
        var h = Header(
            direction: direction, replica: replica.rawValue, unit: unit, created: created, nonce: nonce, length: length, sha256: sha, hmac: "",
            closed: closed.isEmpty ? nil : closed.map(\.entry))
        h.hmac = SyncAuth.mac(h.signedText, key: key)
        let out = try StreamingFileWriter(path: path, field: "out")
        try out.write(magic)
        try out.write([UInt8](try JSONEncoder.canonical.encode(h)))
        try out.write([0x0A])
        let source = try StreamingFileReader(path: payloadPath, field: "out")
        while true {
            let chunk = try source.read(upTo: 1 << 20)
            if chunk.isEmpty { break }
            try out.write(chunk)
        }
        try out.commit()
        return (ops, out.written)
    }

    // MARK: Reading

    /// A bundle of version 2 being read: the header at once, the payload page by page.
    public final class Reader {
        public let path: String
        let header: Header
        public let direction: SyncBundle.Direction
        public let replica: ReplicaID
        public var unit: String { header.unit }
        public var created: Int64 { header.created }
        public var nonce: String { header.nonce }
        /// From the hub: where revoked replicas' ops end there (`ClosedOrigin`); trusted only
        /// once `verify` checked the HMAC, which covers them.
        public let closed: [ClosedOrigin]
        private let file: StreamingFileReader
        private var hasher = SHA256()
        private var payloadRead = 0
        private var input: InflatedBytes?
        private var done = false
        public private(set) var pagesRead = 0
        public private(set) var opsRead = 0
        private var headsRead = 0

        static func damaged(_ path: String, _ why: String) -> SyncError {
            SyncBundle.damaged(path, why)
        }

        /// Reads the magic line and the header, and checks the payload's length against the file.
        public init(path: String) throws {
            self.path = path
            let file = try StreamingFileReader(path: path, field: "file")
            self.file = file
            guard try file.read(upTo: magic.count) == magic else {
                throw SyncError(.corrupt, "Tệp «\(path)» không phải gói tin đồng bộ CCHC (thiếu dòng \(magicLine)).", field: "file", value: path)
            }
            var line: [UInt8] = []
            while true {
                let b = try file.read(upTo: 1)
                guard let c = b.first else { throw Self.damaged(path, "thiếu phần đầu") }
                if c == 0x0A { break }
                line.append(c)
                guard line.count <= 64 * 1024 else { throw Self.damaged(path, "phần đầu quá dài") }
            }
            do {
                header = try JSONDecoder().decode(Header.self, from: Data(line))
            } catch {
                throw Self.damaged(path, "phần đầu không đọc được")
            }
            let size = ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? -1
            let actual = size - file.offset
            guard actual == header.length else {
                throw Self.damaged(path, "độ dài \(actual) byte, phần đầu ghi \(header.length) byte (tệp bị cắt cụt hoặc thừa)")
            }
            guard let replica = ReplicaID(header.replica) else { throw Self.damaged(path, "mã bản sao «\(header.replica)» không hợp lệ") }
            self.replica = replica
            direction = header.direction
            closed = try (header.closed ?? []).map { try ClosedOrigin.parse($0, path: path) }
            guard closed.isEmpty || direction == .toReplica else {
                throw Self.damaged(path, "gói gửi hub không được mang danh sách bản sao đã thu hồi")
            }
        }

        /// Checks the HMAC with `key` and the bundle's age against `now` (as `SyncBundle.verify`).
        public func verify(key: Data, now: Int64) throws {
            guard SyncAuth.macMatches(header.hmac, message: header.signedText, key: key) else {
                throw SyncError(
                    .unauthorized, "Chữ ký của gói tin «\(path)» không hợp lệ (không do bản sao \(replica) hoặc hub ký).", field: "signature",
                    value: replica.rawValue)
            }
            let (age, overflow) = now.subtractingReportingOverflow(header.created)
            guard !overflow, age >= -86_400, age <= SyncProtocol.bundleLifetime else {
                throw SyncError(
                    .unauthorized, "Gói tin «\(path)» tạo lúc \(header.created) đã quá hạn (tối đa \(SyncProtocol.bundleLifetime / 86_400) ngày).",
                    field: "created", value: String(header.created))
            }
        }

        private func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
            let n = try file.read(into: buffer)
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            payloadRead += n
            return n
        }

        /// Starts the payload: its plain header must be a message of `kind`.
        private func start(kind: UInt8) throws -> InflatedBytes {
            var head = [UInt8](repeating: 0, count: 6)
            let n = try head.withUnsafeMutableBytes { try read(into: $0) }
            _ = try WireCodec.header(Data(head[0..<n]), kind: kind)
            let input = InflatedBytes(try Deflate.Inflater(limit: Int.max, source: { [unowned self] in try self.read(into: $0) }))
            self.input = input
            return input
        }

        private func wrapped<T>(_ body: () throws -> T) throws -> T {
            do {
                return try body()
            } catch let e as SyncError where e.code == .corrupt {
                let place = pagesRead == 0 ? "" : " ở trang \(pagesRead + 1) (sau \(opsRead) thao tác đọc được)"
                throw SyncError(.corrupt, "Gói tin «\(path)» bị hỏng\(place): \(WireCodec.reason(e))", field: "file", value: path, cause: e)
            }
        }

        /// A request's fields (before its ops): sender, vector, machine key.
        public func requestFields() throws -> (replica: ReplicaID, versionVector: VersionVector, machineKey: MachineKey?) {
            try wrapped {
                let input = try start(kind: WireCodec.requestKind)
                let replica = try ReplicaID.parse(try input.string(), field: "replica")
                let vv = try input.vector()
                _ = try input.varint()
                let keyLength = try input.varint()
                var key: MachineKey?
                if keyLength != 0 {
                    guard keyLength == 32 else { throw WireCodec.corrupt("khóa của máy không đúng độ dài") }
                    let raw = try input.slice(32).bytes
                    guard let k = MachineKey(base64: Data(raw).base64EncodedString()) else { throw WireCodec.corrupt("khóa của máy không hợp lệ") }
                    key = k
                }
                guard try input.varint() == 0 else { throw WireCodec.corrupt("gói tin không mang mã băm đầu chuỗi") }
                return (replica, vv, key)
            }
        }

        /// A response's fields (before its ops): the hub's vector.
        public func responseFields() throws -> VersionVector {
            try wrapped {
                let input = try start(kind: WireCodec.responseKind)
                let vv = try input.vector()
                for _ in 0..<4 { _ = try input.varint() }
                _ = try input.slice(8)
                return vv
            }
        }

        /// The next page, or nil after the last once the totals, the stream, the payload's length
        /// and its SHA-256 (vouched for by the HMAC) checked out.
        public func next() throws -> OpBatch? {
            guard let input, !done else { return nil }
            return try wrapped {
                guard let batch = try PagedOps.next(input, opsSoFar: opsRead, headsSoFar: headsRead) else {
                    let sha = hasher.finalize().map { String(format: "%02x", $0) }.joined()
                    guard payloadRead == header.length, sha == header.sha256 else { throw WireCodec.corrupt("sai tổng kiểm SHA-256") }
                    done = true
                    return nil
                }
                pagesRead += 1
                opsRead += batch.ops.count
                headsRead += batch.heads.count
                return batch
            }
        }
    }
}

extension SyncBundle.Header {
    /// What the HMAC of a version-2 bundle covers.
    /// With a list of revoked replicas (`closed`, from the hub), one more line for each.
    var signedText: String {
        var text = "cchc-bundle/2\n\(direction.rawValue)\n\(replica)\n\(unit)\n\(created)\n\(nonce)\n\(length)\n\(sha256)"
        for e in closed ?? [] { text += "\nclosed \(e.o) \(e.c) \(e.h) \(e.sig)" }
        return text
    }
}

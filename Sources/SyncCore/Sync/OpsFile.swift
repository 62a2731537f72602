import Foundation

/// Ops carried by a file between replicas (`unit-client ops export` / `ops import`), for a link
/// with no hub: any origin's ops with the signed heads that cover them, so the receiver verifies
/// them end to end whoever carried the file (docs/PROTOCOL.md, "Ops files"). Two forms with the
/// same content: compact (the wire encoding, the default) and JSON (readable, `--format json`).
public struct OpsFile: Codable, Sendable {
    public static let currentFormat = "cchc-ops/2"
    /// The first line of the compact form.
    static let compactMagic = Array("CCHC-OPS/2\n".utf8)

    public var format: String
    /// The replica that wrote the file.
    public var replica: ReplicaID
    public var unit: String
    /// The writer's vector when the file was written.
    public var versionVector: VersionVector
    public var ops: [Op]
    public var heads: [SignedHead]

    public init(replica: ReplicaID, unit: String, versionVector: VersionVector, batch: OpBatch) {
        self.format = Self.currentFormat
        self.replica = replica
        self.unit = unit
        self.versionVector = versionVector
        self.ops = batch.ops
        self.heads = batch.heads
    }

    public var batch: OpBatch { OpBatch(ops: ops, heads: heads) }

    enum CodingKeys: String, CodingKey {
        case format, replica, unit, ops, heads
        case versionVector = "version_vector"
    }

    /// The readable form.
    public func encoded() throws -> Data { try JSONEncoder.canonical.encode(self) }

    /// The compact form: the magic line, then the writer, its vector and the ops with their heads
    /// in the wire encoding, DEFLATE-compressed.
    public func encodedCompact() throws -> Data {
        var w = VarintWriter()
        WireCodec.writeString(replica.rawValue, to: &w)
        WireCodec.writeString(unit, to: &w)
        WireCodec.writeVector(versionVector, to: &w)
        WireCodec.writeOps(ops, heads: heads, to: &w)
        return Data(Self.compactMagic) + (try Deflate.compress(w.data))
    }

    /// Reads a file in either form, with errors that name the file.
    public static func read(path: String) throws -> OpsFile {
        let data = try UserFile.read(path, field: "file")
        if data.starts(with: compactMagic) {
            do {
                var r = VarintReader(try Deflate.decompress(data.dropFirst(compactMagic.count), limit: 1 << 30))
                let replica = try ReplicaID.parse(try WireCodec.readString(&r), field: "replica")
                let unit = try WireCodec.readString(&r)
                let vv = try WireCodec.readVector(&r)
                let batch = try WireCodec.readOps(&r)
                guard r.atEnd else { throw WireCodec.corrupt("dữ liệu thừa sau các thao tác") }
                return OpsFile(replica: replica, unit: unit, versionVector: vv, batch: batch)
            } catch let e as SyncError {
                throw SyncError(.corrupt, "Tệp «\(path)» bị hỏng: \(e.message)", field: "file", value: path, cause: e)
            }
        }
        if data.starts(with: Array("{\"format\":\"cchc-ops/1\"".utf8)) {
            throw SyncError(
                .corrupt, "Tệp «\(path)» có định dạng «cchc-ops/1» của phiên bản trước (thao tác không ký); hãy xuất lại bằng chương trình mới.",
                field: "format", value: "cchc-ops/1")
        }
        let file: OpsFile
        do {
            file = try JSONDecoder().decode(OpsFile.self, from: data)
        } catch {
            throw SyncError(.corrupt, "Tệp «\(path)» không phải tệp thao tác hợp lệ: \(error)", field: "file", value: path, cause: error)
        }
        guard file.format == currentFormat else {
            throw SyncError(
                .corrupt, "Tệp «\(path)» có định dạng «\(file.format)», chương trình chỉ đọc «\(currentFormat)».", field: "format", value: file.format
            )
        }
        return file
    }
}

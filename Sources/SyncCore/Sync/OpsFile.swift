import Foundation

/// A plain (unsigned) exchange of ops between replicas: what `unit-client ops export` writes and
/// `ops import` reads. Signed bundles for the hub build on the same op encoding.
public struct OpsFile: Codable, Sendable {
    public static let currentFormat = "cchc-ops/1"

    public var format: String
    /// The replica that wrote the file.
    public var replica: ReplicaID
    public var unit: String
    /// The writer's vector when the file was written.
    public var versionVector: VersionVector
    public var ops: [Op]

    public init(replica: ReplicaID, unit: String, versionVector: VersionVector, ops: [Op]) {
        self.format = Self.currentFormat
        self.replica = replica
        self.unit = unit
        self.versionVector = versionVector
        self.ops = ops
    }

    enum CodingKeys: String, CodingKey {
        case format, replica, unit, ops
        case versionVector = "version_vector"
    }

    public func encoded() throws -> Data { try JSONEncoder.canonical.encode(self) }

    /// Reads a file, with errors that name the file.
    public static func read(path: String) throws -> OpsFile {
        let data = try UserFile.read(path, field: "file")
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

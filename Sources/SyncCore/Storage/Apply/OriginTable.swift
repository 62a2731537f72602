import GRDB

/// Replica ids interned to the small integers the op log and the metadata blobs store
/// (table `origin`). Loaded once per transaction or read.
struct OriginTable {
    private(set) var replicaAt: [Int64: ReplicaID] = [:]
    private(set) var indexOf: [ReplicaID: Int64] = [:]

    init() {}

    /// A table of the given interned origins (what `load` reads from the database).
    init(_ interned: [Int64: ReplicaID]) {
        for (index, id) in interned { remember(id, at: index) }
    }

    static func load(_ db: Database) throws -> OriginTable {
        var table = OriginTable()
        for row in try Row.fetchAll(db, sql: "SELECT idx, replica FROM origin") {
            guard let id = ReplicaID(row[1] as String) else { continue }
            table.remember(id, at: row[0])
        }
        return table
    }

    private mutating func remember(_ id: ReplicaID, at index: Int64) {
        replicaAt[index] = id
        indexOf[id] = index
    }

    /// The replica stored as `index`; a reference to no known origin means a damaged row.
    func replica(_ index: Int64, in what: String = "Siêu dữ liệu") throws -> ReplicaID {
        guard let id = replicaAt[index] else { throw SyncError(.corrupt, "\(what) tham chiếu bản sao không tồn tại.") }
        return id
    }

    /// The index of an origin already interned (every origin an op or register names is interned
    /// before it is written, so a miss is a bug, not bad input).
    func index(_ origin: ReplicaID) throws -> Int64 {
        guard let i = indexOf[origin] else { throw SyncError(.internal, "Bản sao \(origin) chưa được ghi nhận.") }
        return i
    }

    /// The index of `origin`, interning it in `db` when new.
    mutating func intern(_ origin: ReplicaID, in db: Database) throws -> Int64 {
        if let known = indexOf[origin] { return known }
        try db.execute(sql: "INSERT INTO origin(replica) VALUES (?)", arguments: [origin.rawValue])
        let i = db.lastInsertedRowID
        remember(origin, at: i)
        return i
    }
}

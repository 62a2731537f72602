import Foundation
import SyncCore
import Testing

/// How every end-to-end suite builds what it starts from, so a change to a command's flags is
/// mended in one place. A hub with enrolled replicas is `HubHarness.serving`; standalone
/// replicas and activities are made here, through the built `unit-client`, or, where a test
/// needs hundreds of records, written straight into a store by the same code the CLI runs.
enum Fixtures {
    /// A standalone replica (`unit-client init --unit`) in the file `db`, run in `dir`; checks
    /// with `status --json` that it is the replica asked for.
    static func replica(
        _ db: String, unit: String, replica: String? = nil, label: String? = nil, in dir: URL, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        var args = ["init", "--unit", unit]
        if let replica { args += ["--replica", replica] }
        if let label { args += ["--label", label] }
        try Run.ok(.unitClient, args + ["--db", db], in: dir, sourceLocation: sourceLocation)
        let status = try Run.ok(.unitClient, ["status", "--json", "--db", db], in: dir, sourceLocation: sourceLocation)
        let object = try JSONSerialization.jsonObject(with: status.stdout) as? [String: Any]
        #expect(object?["unit"] as? String == unit, "init --unit \(unit): \(status)", sourceLocation: sourceLocation)
        if let replica {
            #expect(object?["replica_id"] as? String == replica, "init --replica \(replica): \(status)", sourceLocation: sourceLocation)
        }
    }

    /// Records an activity with `unit-client activity add` on `db`; returns the new id, which the
    /// command prints alone on its last line.
    @discardableResult
    static func addActivity(
        db: String, in dir: URL, form: String, content: String, date: String, title: String, quantity: Int? = nil, participants: Int? = nil,
        url: String? = nil, sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> String {
        var args = ["activity", "add", "--db", db, "--form", form, "--content", content, "--date", date, "--title", title]
        if let quantity { args += ["--quantity", String(quantity)] }
        if let participants { args += ["--participants", String(participants)] }
        if let url { args += ["--url", url] }
        let r = try Run.ok(.unitClient, args, in: dir, sourceLocation: sourceLocation)
        let id = r.lastLine
        #expect(id.hasPrefix("HD."), "the last line of `activity add` is the new id: \(r)", sourceLocation: sourceLocation)
        return id
    }

    /// Writes an activity straight into `store` (fast, the same code as the CLI); returns its id.
    @discardableResult
    static func writeActivity(
        _ store: ReplicaStore, unit: String, date: String, form: String, content: String, title: String, quantity: Int
    ) throws -> RecordID {
        try store.createRecord(
            kind: .activity, owner: unit,
            changes: [
                ("unit", .text(unit)), ("date", .text(date)), ("form", .text(form)), ("content", .text(content)), ("title", .text(title)),
                ("quantity", .int(Int64(quantity))), ("deleted", .int(0)),
            ])
    }

    /// A replica in memory enrolled (by `hubStore`, the hub's own store) for `unit`, with the
    /// credentials an in-process `SyncClient` needs to reach the hub at `hubURL`.
    static func enrolledInMemory(
        by hubStore: ReplicaStore, unit: String, hubURL: String, label: String
    ) throws -> (store: ReplicaStore, credentials: HubCredentials) {
        let e = try hubStore.enrol(unit: unit, hubURL: hubURL)
        let s = try ReplicaStore.inMemory()
        try s.initialise(identity: .init(replica: e.replicaID, unit: unit), label: label)
        return (s, HubCredentials(hubURL: hubURL, replica: e.replicaID, unit: unit, secret: e.secret))
    }
}

import Foundation
import Testing

@testable import SyncCore

/// Histories through a real hub (in process, real stores on disk, the wire encoding) where
/// machines are restored from old snapshots, a second machine uses a copied enrolment, and files
/// are forged or damaged on the way. Every history converges or refuses with a named reason, and
/// nothing the hub ever acknowledged or any user ever created is lost.
@Suite("Verifiable writes: histories with restores, twin machines, forged and damaged ops", .serialized)
struct RestoreHistoryTests {
    static let seeds = PropertyRuns.seeds(default: 10, base: 0x9E5_0000_0000, soakVariable: "CCHC_SOAK_RESTORE_HISTORIES")

    @Test("Lịch sử có khôi phục bản sao lưu, máy sinh đôi, tệp giả: hội tụ, không mất gì / histories with restores converge, nothing lost")
    func histories() async throws {
        var totals = RestoreHistory.Stats()
        var failures = 0
        for seed in Self.seeds {
            let history = try RestoreHistory(seed: seed)
            do {
                try await history.run()
                totals.add(history.stats)
            } catch {
                Issue.record("seed \(seed) (replay: CCHC_SEED=\(seed)): \(error)")
                failures += 1
                if failures >= 3 { return }
            }
        }
        print("restore histories: \(totals)")
        // The generator must reach the hard cases, or passing proves little.
        if Self.seeds.count >= 5 {
            #expect(totals.recoveries > 0, "no restored replica ever had to recover: \(totals)")
            #expect(totals.rehomes > 0, "no twin machine was ever refused and rehomed: \(totals)")
            #expect(totals.forgedRefused > 0 && totals.damagedRefused > 0, "\(totals)")
        }
    }
}

final class RestoreHistory {
    struct Stats: CustomStringConvertible {
        var steps = 0, syncs = 0, restores = 0, recoveries = 0, rehomes = 0, forgedRefused = 0, damagedRefused = 0, damagedHarmless = 0
        mutating func add(_ o: Stats) {
            steps += o.steps
            syncs += o.syncs
            restores += o.restores
            recoveries += o.recoveries
            rehomes += o.rehomes
            forgedRefused += o.forgedRefused
            damagedRefused += o.damagedRefused
            damagedHarmless += o.damagedHarmless
        }
        var description: String {
            "steps \(steps), syncs \(syncs), restores \(restores), recoveries \(recoveries), rehomes \(rehomes), forged refused \(forgedRefused), damaged refused \(damagedRefused) (harmless flips \(damagedHarmless))"
        }
    }

    struct Machine {
        var path: String
        var credentials: HubCredentials
        var snapshots: [String] = []
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let seed: UInt64
    var rng: SeededRandom
    let dir: URL
    let hub: ReplicaStore
    var machines: [Machine] = []
    var twinMade = false
    var titles = Set<String>()
    var everAtHub = Set<String>()
    var acknowledged: [Dot: Op] = [:]
    var stats = Stats()
    var counter = 0

    init(seed: UInt64) throws {
        self.seed = seed
        rng = SeededRandom(seed: seed)
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("restore-history-\(seed)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        hub = try ReplicaStore.open(path: dir.appendingPathComponent("hub.sqlite").path, create: true)
        try hub.initialise(identity: nil)
        for unit in ["TTQLCK", "TTQLCK", "VP"] { machines.append(try enrol(unit: unit, name: "m\(machines.count)")) }
    }

    deinit { try? FileManager.default.removeItem(at: dir) }

    func enrol(unit: String, name: String, as existing: HubCredentials? = nil) throws -> Machine {
        let path = dir.appendingPathComponent("\(name).sqlite").path
        let creds: HubCredentials
        if let existing {
            creds = existing
        } else {
            let e = try hub.enrol(unit: unit, hubURL: "http://hub.invalid")
            creds = HubCredentials(hubURL: e.hubURL, replica: e.replicaID, unit: unit, secret: e.secret)
        }
        let s = try ReplicaStore.open(path: path, create: true)
        try s.initialise(identity: .init(replica: creds.replica, unit: unit), label: name)
        try s.saveCredentials(creds)
        return Machine(path: path, credentials: creds)
    }

    func client(_ s: ReplicaStore, _ m: Machine) -> SyncClient {
        var c = SyncClient(
            store: s, credentials: m.credentials, hubURL: m.credentials.hubURL, transport: InProcessTransport(service: HubSyncService(store: hub)))
        c.retry = RetryPolicy(attempts: 1, baseDelay: 0, maxDelay: 0)
        c.pageLimit = [7, 50, SyncProtocol.maxPageOps][Int(seed % 3)]
        return c
    }

    func run() async throws {
        for _ in 0..<rng.int(25...45) {
            stats.steps += 1
            try await step()
        }
        // Quiescence: everyone syncs until nothing moves; then all are identical.
        for _ in 0..<2 { for i in machines.indices { try await sync(i) } }
        let hubDump = try hub.dump().json()
        for m in machines {
            let s = try ReplicaStore.open(path: m.path)
            guard try s.dump().json() == hubDump else {
                let mine = try s.dump().records
                let theirs = try hub.dump().records
                let diff = Set(mine.keys).union(theirs.keys).filter { mine[$0] != theirs[$0] }.sorted()
                print("trace of seed \(seed):\n" + trace.joined(separator: "\n"))
                throw Failure(
                    description:
                        "\(m.credentials.replica) differs from the hub at quiescence (records \(diff.prefix(3))): vv \(try s.versionVector()) vs \(try hub.versionVector())"
                )
            }
            guard try s.pendingCount() == 0 else { throw Failure(description: "\(m.credentials.replica) still holds back ops") }
        }
        guard try hub.pendingCount() == 0 else { throw Failure(description: "the hub still holds back ops") }
        // Nothing acknowledged lost; every activity anybody created is there.
        let now = Dictionary(uniqueKeysWithValues: try hub.ops(after: VersionVector()).ops.map { ($0.dot, $0) })
        for (dot, op) in acknowledged {
            guard let current = now[dot], current == op else { throw Failure(description: "the hub lost or changed acknowledged op \(dot)") }
        }
        // Work a restore threw away before it ever left the machine is the restore's doing; every
        // activity that reached the hub once stays there.
        let present = Set(try hub.activities(unit: nil).map(\.title))
        let missing = everAtHub.subtracting(present)
        guard missing.isEmpty else { throw Failure(description: "activities the hub once had are missing: \(missing.sorted())") }
    }

    var trace: [String] = []

    func step() async throws {
        let i = rng.int(0...(machines.count - 1))
        let roll = rng.int(0...99)
        let vv = (try? ReplicaStore.open(path: machines[i].path).versionVector()).map { "\($0)" } ?? "?"
        let acked = (try? ReplicaStore.open(path: machines[i].path).peer("hub")?.acked).map { "\($0)" } ?? "-"
        trace.append("step \(stats.steps) m\(i) \(machines[i].credentials.replica) roll \(roll) vv \(vv) acked \(acked)")
        switch roll {
        case 0..<35: try write(i)
        case 35..<65: try await sync(i)
        case 65..<75: try snapshot(i)
        case 75..<85: try restore(i)
        case 85..<90: try makeTwin(i)
        case 90..<95: try forge(from: i)
        default: try damage(from: i)
        }
    }

    func write(_ i: Int) throws {
        let s = try ReplicaStore.open(path: machines[i].path)
        let unit = machines[i].credentials.unit
        let mine = try s.activities(unit: unit)
        if mine.isEmpty || rng.chance(0.6) {
            counter += 1
            let title = "Hoạt động \(seed)-\(counter)"
            titles.insert(title)
            _ = try s.createRecord(
                kind: .activity, owner: unit,
                changes: [
                    ("unit", .text(unit)), ("date", .text("2026-03-0\(rng.int(1...9))")), ("form", .text("HT01")), ("content", .text("ND05")),
                    ("title", .text(title)), ("quantity", .int(Int64(rng.int(1...9)))), ("deleted", .int(0)),
                ])
        } else {
            let target = try RecordID.parse(rng.pick(mine).id)
            try s.writeRecord(target, changes: [("quantity", .int(Int64(rng.int(10...99))))])
        }
    }

    func sync(_ i: Int) async throws {
        stats.syncs += 1
        let s = try ReplicaStore.open(path: machines[i].path)
        do {
            let (_, recovered, _) = try await client(s, machines[i]).runRecovering()
            if recovered.restore != nil { stats.recoveries += 1 }
        } catch let e as SyncError where e.code == .forbidden && e.field == "enrolment" {
            // A second machine on one enrolment: refused with its work kept, then moved.
            let e2 = try hub.enrol(unit: machines[i].credentials.unit, hubURL: "http://hub.invalid")
            _ = try Recovery.rehome(store: s, enrolment: e2)
            machines[i].credentials = HubCredentials(hubURL: e2.hubURL, replica: e2.replicaID, unit: e2.unit, secret: e2.secret)
            // Older snapshots belong to the identity it left.
            machines[i].snapshots = []
            stats.rehomes += 1
            let reopened = try ReplicaStore.open(path: machines[i].path)
            _ = try await client(reopened, machines[i]).runRecovering()
        }
        for op in try hub.ops(after: VersionVector()).ops {
            if let known = acknowledged[op.dot], known != op { throw Failure(description: "the hub changed acknowledged op \(op.dot)") }
            acknowledged[op.dot] = op
        }
        everAtHub.formUnion(try hub.activities(unit: nil).map(\.title))
    }

    func snapshot(_ i: Int) throws {
        let copy = machines[i].path + ".snap\(machines[i].snapshots.count)"
        try ReplicaStore.open(path: machines[i].path).backup(to: copy)
        machines[i].snapshots.append(copy)
    }

    func restore(_ i: Int) throws {
        guard !machines[i].snapshots.isEmpty else { return }
        let from = rng.pick(machines[i].snapshots)
        let fm = FileManager.default
        for suffix in ["", "-wal", "-shm"] { try? fm.removeItem(atPath: machines[i].path + suffix) }
        try fm.copyItem(atPath: from, toPath: machines[i].path)
        stats.restores += 1
    }

    /// Another machine initialised from the same enrolment as machine `i`.
    func makeTwin(_ i: Int) throws {
        guard !twinMade else { return }
        twinMade = true
        machines.append(try enrol(unit: machines[i].credentials.unit, name: "twin\(i)", as: machines[i].credentials))
        try write(machines.count - 1)
    }

    /// Machine `i`'s own ops with one value changed, handed to another machine: refused by name, nothing changed.
    func forge(from i: Int) throws {
        let src = try ReplicaStore.open(path: machines[i].path)
        var batch = try src.ops(of: machines[i].credentials.replica, after: 0, limit: .max)
        let editable = batch.ops.indices.filter { batch.ops[$0].field == "title" }
        guard let k = editable.randomElement(using: &rng) else { return }
        batch.ops[k].value = .text("Tiêu đề giả mạo \(seed)")
        let j = (i + 1) % machines.count
        let dst = try ReplicaStore.open(path: machines[j].path)
        let before = try dst.dump().json()
        do {
            try dst.apply(batch, source: .peer(authenticated: nil, unit: nil))
            throw Failure(description: "a forged value of \(batch.ops[k].dot) was accepted")
        } catch let e as SyncError {
            guard e.code == .unauthorized || e.code == .fork, e.value != nil else {
                throw Failure(description: "forgery refused without naming it: \(e)")
            }
        }
        guard try dst.dump().json() == before else { throw Failure(description: "a refused forgery changed the store") }
        stats.forgedRefused += 1
    }

    /// Machine `i`'s ops as a wire body with one byte flipped: either refused, or harmless.
    func damage(from i: Int) throws {
        let src = try ReplicaStore.open(path: machines[i].path)
        let batch = try src.ops(after: VersionVector())
        guard !batch.isEmpty else { return }
        let body = try WireCodec.encode(SyncResponse(hubVersionVector: try src.versionVector(), batch: batch, more: false))
        var bytes = [UInt8](body)
        let at = rng.int(6...(bytes.count - 1))
        bytes[at] ^= UInt8(1 << rng.int(0...7))
        let j = (i + 1) % machines.count
        let dst = try ReplicaStore.open(path: machines[j].path)
        let before = try dst.dump().json()
        do {
            let decoded = try WireCodec.decodeResponse(Data(bytes))
            do {
                try dst.apply(decoded.batch, source: .peer(authenticated: nil, unit: nil))
                // Accepted: then every op the store holds is the genuine one (the flip hit
                // something harmless, or what it changed was only held back).
                let genuine = Dictionary(uniqueKeysWithValues: batch.ops.map { ($0.dot, $0) })
                for op in try dst.ops(after: VersionVector()).ops {
                    if let g = genuine[op.dot], g != op { throw Failure(description: "a damaged op \(op.dot) was applied (byte \(at))") }
                }
                stats.damagedHarmless += 1
            } catch let e as SyncError {
                guard try dst.dump().json() == before else { throw Failure(description: "a refused damaged batch changed the store: \(e)") }
                stats.damagedRefused += 1
            }
        } catch let e as SyncError {
            _ = e
            stats.damagedRefused += 1
        }
    }
}

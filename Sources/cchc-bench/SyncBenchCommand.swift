import ArgumentParser
import CommandSupport
import Foundation
import SyncCore

/// `cchc-bench sync`: wire bytes per op, the cost of a 10-op sync against a large and a small
/// hub, and the hub's peak memory serving an initial sync over HTTP (`hub serve`, run from the
/// same build).
struct SyncBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Byte trên đường truyền mỗi thao tác; chi phí đồng bộ 10 thao tác với hub lớn và nhỏ; bộ nhớ đỉnh của hub khi đồng bộ lần đầu.",
        discussion: """
            Tạo cơ sở dữ liệu tạm trong --dir (mặc định thư mục tạm). Build release để có số đo có ý nghĩa.
            Phép đo bộ nhớ chạy «hub serve» của cùng bản build (tệp «hub» cạnh cchc-bench).
            """)
    @Option(help: "Số thao tác của hub lớn (mặc định: 1000000).", transform: Count.readingInt("ops"))
    var ops = 1_000_000
    @Option(help: "Số thao tác của hub nhỏ (mặc định: 1000).", transform: Count.readingInt("small-ops"))
    var smallOps = 1_000
    @Option(help: "Thư mục làm việc.")
    var dir: String?
    @Flag(help: "Bỏ qua phép đo bộ nhớ (khởi chạy «hub serve» và đồng bộ lần đầu toàn bộ).")
    var skipMemory = false

    func run() async throws {
        let work = dir ?? (NSTemporaryDirectory() as NSString).appendingPathComponent("cchc-bench-\(getpid())")
        try? FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        try wireBytes()
        let small = try buildHub(path: (work as NSString).appendingPathComponent("small.sqlite"), ops: smallOps)
        let large = try buildHub(path: (work as NSString).appendingPathComponent("large.sqlite"), ops: ops)
        let tSmall = try tenOpSync(small)
        let tLarge = try tenOpSync(large)
        print(
            String(
                format: "đồng bộ 10 thao tác (sync 10 ops): hub %d thao tác %.2f ms, hub %d thao tác %.2f ms (trung vị), tỉ lệ %.2f",
                try small.opCount(), tSmall * 1000,
                try large.opCount(), tLarge * 1000, tLarge / tSmall))
        if !skipMemory { try await initialSyncMemory(large) }
    }

    /// A replica's realistic week: activities with Vietnamese titles and a few edits.
    static func workload(_ replica: ReplicaID, unit: String, from: UInt64, activities: Int, hlc: inout UInt64) -> [Op] {
        var ops: [Op] = []
        var c = from
        func op(_ record: String, _ field: String, _ v: Value) {
            c += 1
            hlc += 1 << 16 | UInt64(c % 13)
            ops.append(Op(dot: Dot(replica, c), hlc: HLC(rawValue: hlc), record: record, field: field, value: v, supersedes: []))
        }
        if from == 0 {
            var signer = OpSigner()
            op(RecordID.replica(replica).rawValue, "unit", .text(unit))
            op(RecordID.replica(replica).rawValue, "key", signer.publicKey(for: replica))
        }
        let topics = [
            "Tuyên truyền thủ tục hải quan điện tử", "Đối thoại doanh nghiệp xuất nhập khẩu", "Hướng dẫn dịch vụ công trực tuyến toàn trình",
            "Phổ biến Nghị định về cải cách hành chính", "Tin bài trên trang thông tin điện tử", "Phát tờ rơi tại cửa khẩu Hữu Nghị",
        ]
        for i in 0..<activities {
            let rec = RecordID(kind: .activity, owner: unit, suffix: "\(replica).\(c + 1)").rawValue
            op(rec, "unit", .text(unit))
            op(rec, "date", .text(String(format: "2026-%02d-%02d", 1 + i % 12, 1 + i % 28)))
            op(rec, "form", .text(String(format: "HT%02d", 1 + i % 5)))
            op(rec, "content", .text(String(format: "ND%02d", 1 + i % 11)))
            op(rec, "title", .text("\(topics[i % topics.count]) đợt \(i / topics.count + 1)"))
            op(rec, "quantity", .int(Int64(1 + i % 20)))
            op(rec, "participants", .int(Int64(20 + (i * 7) % 200)))
            op(rec, "deleted", .int(0))
        }
        return ops
    }

    /// Activities as units record them: titles built from the plan's own vocabulary with
    /// places and dates, descriptions for half, links for the online forms, the `recorded`
    /// time, and later edits superseding earlier values. Seeded, so figures are repeatable.
    static func realisticWorkload(_ replica: ReplicaID, unit: String, activities: Int, seed: UInt64) -> [Op] {
        var rng = SplitMix64(seed: seed)
        func next() -> UInt64 { rng.next() }
        func pick<T>(_ a: [T]) -> T { a[Int(next() % UInt64(a.count))] }
        let catalog = Catalog.standard
        let vocabulary = (catalog.contentItems.map(\.title) + catalog.forms.map(\.title) + catalog.duties.map(\.title))
            .joined(separator: " ").split(separator: " ").map(String.init)
        let places = [
            "cửa khẩu Hữu Nghị", "cửa khẩu Tân Thanh", "ga Đồng Đăng", "cửa khẩu Chi Ma", "trụ sở Ban", "xã Bảo Lâm", "Khu trung chuyển hàng hóa",
        ]
        let openers = ["Tuyên truyền", "Phổ biến", "Hướng dẫn", "Đối thoại về", "Tập huấn", "Đăng tin"]
        var ops: [Op] = []
        var c: UInt64 = 0
        var hlc = UInt64(1_767_225_600_000) << 16
        func op(_ record: String, _ field: String, _ v: Value, _ sup: [Dot] = []) -> Dot {
            c += 1
            hlc += (next() % 90_000 + 1) << 16
            ops.append(Op(dot: Dot(replica, c), hlc: HLC(rawValue: hlc), record: record, field: field, value: v, supersedes: sup))
            return Dot(replica, c)
        }
        _ = op(RecordID.replica(replica).rawValue, "unit", .text(unit))
        var signer = OpSigner()
        _ = op(RecordID.replica(replica).rawValue, "key", signer.publicKey(for: replica))
        var titles: [(String, Dot)] = []
        for i in 0..<activities {
            let rec = RecordID(kind: .activity, owner: unit, suffix: "\(replica).\(c + 1)").rawValue
            let form = catalog.forms[Int(next() % UInt64(catalog.forms.count))]
            let content = pick(catalog.contentItems)
            _ = op(rec, "unit", .text(unit))
            _ = op(rec, "date", .text(String(format: "2026-%02d-%02d", 1 + next() % 12, 1 + next() % 28)))
            _ = op(rec, "form", .text(form.code))
            _ = op(rec, "content", .text(next() % 3 == 0 ? "\(content.code),\(pick(catalog.contentItems).code)" : content.code))
            let title = "\(pick(openers)) \(content.title.prefix(40 + Int(next() % 40))) tại \(pick(places))"
            titles.append((rec, op(rec, "title", .text(title))))
            if next() % 2 == 0 {
                let words = (0..<(8 + Int(next() % 16))).map { _ in pick(vocabulary) }.joined(separator: " ")
                _ = op(rec, "description", .text(words))
            }
            _ = op(rec, "quantity", .int(Int64(1 + next() % 30)))
            _ = op(rec, "participants", .int(Int64(next() % 400)))
            if form.requiresURL { _ = op(rec, "url", .text("https://bqlkktck.langson.gov.vn/tin-tuc/\(100_000 + next() % 900_000)")) }
            _ = op(rec, "recorded", .text(ISO8601DateFormatter().string(from: HLC(rawValue: hlc).date)))
            _ = op(rec, "deleted", .int(0))
            if i % 5 == 4, !titles.isEmpty {
                let (r, d) = pick(titles)
                let dot = op(r, "title", .text("\(pick(openers)) \(pick(catalog.contentItems).title.prefix(50)) (đã sửa)"), [d])
                titles.removeAll { $0.0 == r }
                titles.append((r, dot))
            }
        }
        return ops
    }

    func wireBytes() throws {
        let me = ReplicaID("a1b2c3d4") ?? .genesis
        for (n, page) in [(250, false), (5_000, true)] {
            let ops = Self.realisticWorkload(me, unit: "TTQLCK", activities: n, seed: 2026)
            let sample = page ? Array(ops.prefix(SyncProtocol.maxPageOps)) : ops
            var signer = OpSigner()
            let batch = try signer.sign(sample)
            let req = SyncRequest(
                replica: me, versionVector: VersionVector([me: UInt64(ops.count)]), batch: batch, machineKey: signer.key(for: me).publicKey)
            let wire = try WireCodec.encode(req)
            let json = try OpsFile(replica: me, unit: "TTQLCK", versionVector: req.versionVector, batch: batch).encoded()
            print(
                String(
                    format: "đường truyền (wire): %d thao tác, %d byte nén = %.1f B/op (tệp thao tác JSON thường: %.1f B/op)", sample.count,
                    wire.count,
                    Double(wire.count) / Double(sample.count), Double(json.count) / Double(sample.count)))
        }
    }

    /// A hub database with about `ops` ops from 20 enrolled replicas, built in batches.
    func buildHub(path: String, ops target: Int) throws -> ReplicaStore {
        if let s = try? ReplicaStore.open(path: path), (try? s.isInitialised()) == true, (try s.opCount()) >= target {
            return s
        }
        try? FileManager.default.removeItem(atPath: path)
        let s = try ReplicaStore.open(path: path, create: true)
        try s.initialise(identity: nil)
        let units = ["VP", "CPCM-QLDTDN", "CPCM-QHXDMT", "TTQLCK"]
        let origins = (0..<20).map { i in ReplicaID(String(format: "bench%04d", i)) ?? .genesis }
        for (i, o) in origins.enumerated() { _ = try s.enrol(unit: units[i % 4], hubURL: nil, replica: o) }
        var counters = [UInt64](repeating: 0, count: origins.count)
        var hlc = UInt64(1_767_225_600_000) << 16
        let started = Date()
        var total = try s.opCount()
        var k = 0
        // Spread over all origins whatever the size, so hubs differ in ops, not in replicas.
        let perBatch = max(1, min(625, target / (8 * origins.count)))
        var signer = OpSigner()
        while total < target {
            let i = k % origins.count
            let batch = Self.workload(
                origins[i], unit: units[i % 4], from: counters[i], activities: perBatch, hlc: &hlc)
            counters[i] += UInt64(batch.count)
            try s.apply(try signer.sign(batch), source: .peer(authenticated: nil, unit: nil))
            total += batch.count
            k += 1
        }
        print(String(format: "đã tạo %@: %d thao tác trong %.1f s", path, try s.opCount(), Date().timeIntervalSince(started)))
        return s
    }

    /// Median time of the hub handling a signed 10-op request (decode, verify, apply, answer).
    func tenOpSync(_ hub: ReplicaStore) throws -> Double {
        let file = try hub.enrol(unit: "TTQLCK", hubURL: nil)
        let key = SyncAuth.key(fromSecret: file.secret)
        let service = HubSyncService(store: hub)
        try hub.checkpoint()
        var hlc = UInt64(1_767_225_600_000) << 16
        var counter: UInt64 = 0
        var times: [Double] = []
        var signer = OpSigner()
        for round in 0..<45 {
            var ops = Self.workload(file.replicaID, unit: "TTQLCK", from: counter, activities: 2, hlc: &hlc)
            ops = Array(ops.prefix(10))
            counter = ops.last?.dot.counter ?? counter
            let vv = try hub.versionVector().merged(with: VersionVector([file.replicaID: counter]))
            let body = try WireCodec.encode(
                SyncRequest(
                    replica: file.replicaID, versionVector: vv, batch: try signer.sign(ops), machineKey: signer.key(for: file.replicaID).publicKey))
            let now = Int64(Date().timeIntervalSince1970)
            let t0 = DispatchTime.now().uptimeNanoseconds
            _ = try service.handle(headers: SyncAuth.signRequest(body: body, replica: file.replicaID, key: key, now: now), body: body, now: now)
            let dt = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            // The first rounds warm the page cache, as on a hub that has been serving.
            if round >= 5 { times.append(dt) }
        }
        return times.sorted()[times.count / 2]
    }

    /// Starts `hub serve` on the large database, pulls everything into an empty replica over
    /// HTTP, and reads the server's peak resident memory when it exits.
    func initialSyncMemory(_ hub: ReplicaStore) async throws {
        let file = try hub.enrol(unit: "VP", hubURL: nil)
        let p = Process()
        p.executableURL = try Self.hubExecutable()
        p.arguments = ["serve", "--port", "0", "--db", hub.path, "--log-level", "warning"]
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        var port = 0
        var buffer = ""
        while port == 0 {
            let d = pipe.fileHandleForReading.availableData
            if d.isEmpty { throw SyncError(.internal, "hub serve đã dừng.") }
            buffer += String(decoding: d, as: UTF8.self)
            if let line = buffer.split(separator: "\n").first(where: { $0.hasPrefix("listening on") }),
                let n = Int(line.split(separator: ":").last ?? "")
            {
                port = n
            }
        }
        let clientPath = (URL(fileURLWithPath: hub.path).deletingLastPathComponent().path as NSString).appendingPathComponent("client.sqlite")
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: clientPath + suffix) }
        let client = try ReplicaStore.open(path: clientPath, create: true)
        try client.initialise(identity: .init(replica: file.replicaID, unit: "VP"))
        let address = "http://127.0.0.1:\(port)"
        let creds = HubCredentials(hubURL: address, replica: file.replicaID, unit: "VP", secret: file.secret)
        let transport = URLSessionTransport(hubURL: try SyncClient.hubURL(address, field: "hub"), timeout: 300)
        let sync = SyncClient(store: client, credentials: creds, hubURL: creds.hubURL, transport: transport)
        let t0 = Date()
        let summary = try await sync.run()
        let secs = Date().timeIntervalSince(t0)
        kill(p.processIdentifier, SIGTERM)
        p.waitUntilExit()
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_CHILDREN.rawValue), &usage)
        print(
            String(
                format:
                    "đồng bộ lần đầu (initial sync): %d thao tác trong %d trang, %.1f s (%.0f thao tác/s); bộ nhớ đỉnh của hub (peak RSS) %.1f MB",
                summary.received, summary.roundTrips, secs, Double(summary.received) / secs, Double(usage.ru_maxrss) / 1024))
    }

    /// The `hub` of the same build: beside this executable (`.build/release/hub` next to
    /// `.build/release/cchc-bench`).
    static func hubExecutable() throws -> URL {
        let me = Bundle.main.executableURL ?? URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        let hub = me.deletingLastPathComponent().appendingPathComponent("hub")
        guard FileManager.default.isExecutableFile(atPath: hub.path) else {
            throw SyncError(
                .notFound,
                "Không tìm thấy tệp chạy «hub» cạnh cchc-bench (\(hub.path)); hãy build cả gói (swift build -c release) hoặc dùng --skip-memory.",
                field: "hub", value: hub.path)
        }
        return hub
    }
}

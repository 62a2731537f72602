import ArgumentParser
import CommandSupport
import Foundation
import SyncCore

/// `cchc-bench fill`: writes N realistic activities into a replica through the ordinary local
/// write path (`ReplicaStore.localWrites`, the same writes as `unit-client activity add|edit|delete`),
/// so load and file-size tests can build a large replica in seconds.
struct FillCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fill",
        abstract: "Ghi N hoạt động giống thật vào một bản sao qua đường ghi cục bộ thông thường, để thử tải và dung lượng tệp.",
        discussion: """
            Ví dụ: cchc-bench fill --db /tmp/lon.sqlite --activities 100000
            Tệp chưa có thì tạo bản sao mới như «unit-client init --unit U» (mã bản sao suy ra từ hạt giống); tệp đã có
            thì ghi thêm vào bản sao đó. Hình thức HT01–HT09, 1–3 nội dung ND01–ND11, ngày trong năm Kế hoạch 2026 (15/12/2025–14/12/2026); khoảng 10%
            hoạt động được sửa lại (tiêu đề hoặc số lượng), khoảng 3% bị xóa. Cùng hạt giống thì cùng dữ liệu.
            Chỉ dùng cho bản sao thử nghiệm, không dùng cho bản sao đang làm việc thật.
            """)

    @Option(help: "Tệp cơ sở dữ liệu của bản sao (tạo mới nếu chưa có).")
    var db: String
    @Option(parsing: .unconditional, help: "Số hoạt động cần ghi (1–10000000).")
    var activities: String
    @Option(parsing: .unconditional, help: "Hạt giống ngẫu nhiên (số nguyên không âm).")
    var seed = "20260101"
    @Option(help: "Mã đơn vị của bản sao mới (VP, CPCM-QLDTDN, CPCM-QHXDMT, TTQLCK; mặc định TTQLCK).")
    var unit: String?
    @Flag(help: "In kết quả dạng JSON.")
    var json = false

    /// Activities written per transaction.
    static let batchSize = 1_000
    static let maxActivities = 10_000_000

    struct Summary: Codable {
        var db: String
        var replica: String
        var unit: String
        var created: Bool
        var activities: Int
        var edits: Int
        var deletes: Int
        var remaining: Int
        var ops: Int
        var seconds: Double
        var bytes: Int
    }

    func run() async throws {
        guard let n = Int(activities.trimmingCharacters(in: .whitespaces)), (1...Self.maxActivities).contains(n) else {
            throw SyncError.invalid("activities", activities, "cần một số nguyên từ 1 đến \(Self.maxActivities).")
        }
        guard let seedValue = UInt64(seed.trimmingCharacters(in: .whitespaces)) else {
            throw SyncError.invalid("seed", seed, "cần một số nguyên không âm.")
        }
        let catalog = Catalog.standard
        if let unit { _ = try catalog.requireUnit(unit, field: "unit") }
        var rng = SplitMix64(seed: seedValue)
        let (store, me, created) = try openOrCreate(catalog: catalog, rng: &rng)
        let opsBefore = try store.opCount()
        let start = DispatchTime.now().uptimeNanoseconds
        var writer = ActivityWriter(catalog: catalog, unit: me.unit, replica: me.replica)
        var done = 0
        while done < n {
            let count = min(Self.batchSize, n - done)
            try store.localWrites { batch in try writer.write(count, into: &batch, rng: &rng) }
            done += count
        }
        try store.checkpoint()
        let seconds = secondsSince(start)
        let summary = Summary(
            db: db, replica: me.replica.rawValue, unit: me.unit, created: created, activities: n, edits: writer.edits,
            deletes: writer.deletes, remaining: n - writer.deletes, ops: try store.opCount() - opsBefore, seconds: seconds,
            bytes: fileBytes(db))
        if json { return try printJSON(summary) }
        let unitName = catalog.unit(me.unit)?.name ?? ""
        print("Bản sao \(me.replica) của đơn vị \(me.unit) (\(unitName)) tại \(db)\(created ? " (mới tạo)" : "").")
        print(
            "Đã ghi \(n) hoạt động (activities): \(summary.edits) lần sửa (edits), \(summary.deletes) lần xóa (deletes); còn \(summary.remaining)."
        )
        print(
            String(
                format: "Thao tác: %d trong %.2f s = %.0f thao tác/s (ops).", summary.ops, seconds, Double(summary.ops) / max(seconds, 1e-9)))
        print(String(format: "Dung lượng tệp: %.1f MB (file size).", Double(summary.bytes) / 1e6))
    }

    /// The replica at `db`: opened when initialised, else created for `--unit` (default TTQLCK)
    /// with a replica id drawn from the seed, as `unit-client init --unit U` creates one.
    func openOrCreate(catalog: Catalog, rng: inout SplitMix64) throws -> (ReplicaStore, ReplicaStore.Identity, Bool) {
        // Drawn whether or not it is used, so the activities depend on the seed alone.
        let drawn = 0x1000_0000 + rng.next() % 0xF000_0000
        let store = try ReplicaStore.open(path: db, create: true)
        if try store.isInitialised() {
            guard let me = try store.identity() else {
                throw SyncError(
                    .invalidInput, "Cơ sở dữ liệu «\(db)» là của hub (không phải bản sao của một đơn vị); «fill» chỉ ghi vào bản sao của đơn vị.",
                    field: "db", value: db)
            }
            if let unit, unit != me.unit {
                throw SyncError.invalid("unit", unit, "bản sao «\(db)» thuộc đơn vị \(me.unit).")
            }
            return (store, me, false)
        }
        guard let replica = ReplicaID(String(drawn, radix: 16)) else {
            throw SyncError(.internal, "Không tạo được mã bản sao từ hạt giống.", field: "seed", value: seed)
        }
        let me = ReplicaStore.Identity(replica: replica, unit: unit ?? "TTQLCK")
        var signer = OpSigner(seed: drawn)
        try store.initialise(identity: me, label: "cchc-bench fill", signingKey: signer.key(for: me.replica))
        return (store, me, true)
    }
}

/// Generates and writes the activities; remembers which are still live, for later edits and
/// deletes. Deterministic for the generator's state.
struct ActivityWriter {
    let catalog: Catalog
    let unit: String
    let replica: ReplicaID
    /// Counters of the live activities' first ops (their ids are `HD.<unit>.<replica>.<counter>`).
    var live: [UInt64] = []
    var edits = 0
    var deletes = 0

    /// Each content item's topics (its title's parts), and the days of 2026: made once, not per activity.
    let topics: [String: [String]]
    let dates: [String]

    init(catalog: Catalog, unit: String, replica: ReplicaID) {
        self.catalog = catalog
        self.unit = unit
        self.replica = replica
        topics = Dictionary(catalog.contentItems.map { ($0.code, $0.title.components(separatedBy: "; ")) }, uniquingKeysWith: { a, _ in a })
        dates = (0..<365).map(Self.date)
    }

    static let places = [
        "cửa khẩu Hữu Nghị", "cửa khẩu Tân Thanh", "cửa khẩu Chi Ma", "ga Đồng Đăng", "cửa khẩu Cốc Nam", "trụ sở Ban", "Khu trung chuyển hàng hóa",
        "xã Bảo Lâm", "thị trấn Đồng Đăng", "Khu kinh tế cửa khẩu Đồng Đăng - Lạng Sơn",
    ]
    /// How each form's activities are usually titled.
    static let openers: [String: [String]] = [
        "HT01": ["Tập huấn về", "Lồng ghép sinh hoạt chuyên đề:", "Bồi dưỡng kiến thức về"],
        "HT02": ["Hội nghị đối thoại với doanh nghiệp về", "Đối thoại doanh nghiệp xuất nhập khẩu về"],
        "HT03": ["Hội thi tìm hiểu", "Hội nghị tuyên truyền"],
        "HT04": ["Phát tờ rơi về", "Treo khẩu hiệu tuyên truyền", "Trình chiếu trên màn hình điện tử:"],
        "HT05": ["Niêm yết thủ tục hành chính:", "Cập nhật niêm yết TTHC về"],
        "HT06": ["Tin bài:", "Bài viết về", "Đăng tin về"],
        "HT07": ["Bài đăng Zalo:", "Bài đăng Facebook:", "Video TikTok về"],
        "HT08": ["Bản tin điện tử CCHC:", "Đăng Bản tin CCHC về"],
        "HT09": ["Trợ lý ảo hướng dẫn", "Ứng dụng trí tuệ nhân tạo trong"],
    ]
    static let descriptions = [
        "Phối hợp với Đồn Biên phòng cửa khẩu và các doanh nghiệp xuất nhập khẩu trên địa bàn.",
        "Hướng dẫn người dân, doanh nghiệp nộp hồ sơ trực tuyến toàn trình trên Cổng dịch vụ công.",
        "Giải đáp vướng mắc về thủ tục hải quan, kiểm dịch và thanh toán không dùng tiền mặt.",
        "Phát tài liệu và hướng dẫn cài đặt ứng dụng định danh điện tử VNeID.",
        "Tiếp nhận ý kiến, kiến nghị của doanh nghiệp để tổng hợp báo cáo Ban.",
    ]
    static let notes = [
        "Có ảnh minh họa kèm theo.", "Số liệu theo sổ theo dõi của đơn vị.", "Đã báo cáo lãnh đạo Ban.", "Cần bổ sung danh sách tham dự.",
    ]
    static let monthDays = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

    /// A day of the 2026 plan year (0…364: 15/12/2025 → 14/12/2026) as `YYYY-MM-DD`.
    static func date(_ dayOfYear: Int) -> String {
        if dayOfYear < 17 { return String(format: "2025-12-%02d", 15 + dayOfYear) }
        var d = dayOfYear - 17
        var m = 0
        while d >= monthDays[m] {
            d -= monthDays[m]
            m += 1
        }
        return String(format: "2026-%02d-%02d", m + 1, d + 1)
    }

    func pick<T>(_ list: [T], _ rng: inout SplitMix64) -> T { list[rng.below(list.count)] }

    func title(form: String, content: Catalog.ContentItem, rng: inout SplitMix64) -> String {
        let opener = pick(Self.openers[form] ?? ["Tuyên truyền"], &rng)
        return "\(opener) \(pick(topics[content.code] ?? [content.title], &rng)) tại \(pick(Self.places, &rng))"
    }

    func quantity(form: String, rng: inout SplitMix64) -> Int64 {
        switch form {
        case "HT04": return Int64(50 + rng.below(1_951))
        case "HT05": return Int64(1 + rng.below(40))
        default: return Int64(1 + rng.below(10))
        }
    }

    /// Writes `count` new activities, with an edit of an earlier one after about 10% of them and
    /// a delete after about 3%.
    mutating func write(_ count: Int, into batch: inout LocalWriteBatch, rng: inout SplitMix64) throws {
        let forms = catalog.forms
        let items = catalog.contentItems
        for _ in 0..<count {
            let form = pick(forms, &rng)
            var chosen = Set<Int>()
            let n = 1 + rng.below(3)
            while chosen.count < n { chosen.insert(rng.below(items.count)) }
            let content = chosen.sorted().map { items[$0] }
            let date = dates[rng.below(dates.count)]
            var changes: [(String, Value)] = [
                ("unit", .text(unit)), ("date", .text(date)), ("form", .text(form.code)),
                ("content", .text(content.map(\.code).joined(separator: ","))),
                ("title", .text(title(form: form.code, content: pick(content, &rng), rng: &rng))),
            ]
            if rng.below(10) < 4 { changes.append(("description", .text(pick(Self.descriptions, &rng)))) }
            changes.append(("quantity", .int(quantity(form: form.code, rng: &rng))))
            if form.participantsUnit != nil { changes.append(("participants", .int(Int64(10 + rng.below(291))))) }
            if form.requiresURL {
                let path = form.code == "HT06" ? "https://bqlkktck.langson.gov.vn/tin-tuc/" : "https://www.facebook.com/bqlkktckdongdang/posts/"
                changes.append(("url", .text("\(path)\(100_000 + rng.below(900_000))")))
            }
            if rng.below(10) == 0 { changes.append(("note", .text(pick(Self.notes, &rng)))) }
            func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
            let recorded = "\(date)T\(two(1 + rng.below(10))):\(two(rng.below(60))):\(two(rng.below(60)))Z"
            changes.append(("recorded", .text(recorded)))
            changes.append(("deleted", .int(0)))
            let id = try batch.create(kind: .activity, owner: unit, changes: changes)
            guard let counter = id.rawValue.split(separator: ".").last.flatMap({ UInt64($0) }) else {
                throw SyncError(.internal, "Mã hoạt động không như mong đợi: \(id.rawValue).")
            }
            live.append(counter)

            let r = rng.below(100)
            if r < 13, !live.isEmpty {
                let k = rng.below(live.count)
                let target = RecordID(kind: .activity, owner: unit, suffix: "\(replica).\(live[k])")
                if r < 10 {
                    let change: (String, Value) =
                        rng.below(2) == 0
                        ? ("title", .text("\(title(form: pick(forms, &rng).code, content: pick(items, &rng), rng: &rng)) (đã cập nhật)"))
                        : ("quantity", .int(Int64(1 + rng.below(500))))
                    if try !batch.write(target, changes: [change]).isEmpty { edits += 1 }
                } else {
                    try batch.write(target, changes: [], delete: true)
                    live.swapAt(k, live.count - 1)
                    live.removeLast()
                    deletes += 1
                }
            }
        }
    }
}

import Foundation
import Testing

@testable import SyncCore

@Suite struct ReportPeriodTests {
    @Test(
        "Cửa sổ chốt số liệu / cut-off windows (Nghị định 09/2019)",
        arguments: [
            ("2026-Q1", "2025-12-15", "2026-03-14"),
            ("2026-Q2", "2026-03-15", "2026-06-14"),
            ("2026-Q3", "2026-06-15", "2026-09-14"),
            ("2026-Q4", "2026-09-15", "2026-12-14"),
            ("2026-H1", "2025-12-15", "2026-06-14"),
            ("2026-9M", "2025-12-15", "2026-09-14"),
            ("2026-Y", "2025-12-15", "2026-12-14"),
            ("2026-03-01_2026-03-31", "2026-03-01", "2026-03-31"),
        ])
    func windows(code: String, from: String, to: String) throws {
        let p = try ReportPeriod.parse(code)
        #expect(p.window.from == from)
        #expect(p.window.to == to)
        #expect(p.description == code)
        #expect(try ReportPeriod.parse(p.description) == p)
        #expect(p.contains(day: from) && p.contains(day: to))
        #expect(!p.contains(day: dayBefore(from)) && !p.contains(day: dayAfter(to)))
    }

    @Test("Các quý nối liền nhau và phủ đúng cả năm / quarters tile the year")
    func quartersTileTheYear() throws {
        let year = try ReportPeriod.parse("2026-Y").window
        let quarters = (1...4).map { ReportPeriod.quarter(2026, $0).window }
        #expect(quarters[0].from == year.from && quarters[3].to == year.to)
        for q in 0..<3 { #expect(dayAfter(quarters[q].to) == quarters[q + 1].from) }
        #expect(ReportPeriod.halfYear(2026).window.to == quarters[1].to)
    }

    @Test("Mã kỳ viết thường, tên tiếng Việt, kỳ kế tiếp / lower case codes, names, next period")
    func namesAndNext() throws {
        #expect(try ReportPeriod.parse("2026-q2") == .quarter(2026, 2))
        #expect(try ReportPeriod.parse(" 2026-6t ") == .halfYear(2026))
        #expect(ReportPeriod.quarter(2026, 1).vietnameseName == "quý I năm 2026")
        #expect(ReportPeriod.halfYear(2026).vietnameseName == "6 tháng đầu năm 2026")
        #expect(ReportPeriod.adHoc(from: "2026-03-01", to: "2026-03-31").vietnameseName == "từ ngày 01/03/2026 đến ngày 31/03/2026")
        #expect(ReportPeriod.quarter(2026, 4).next == .quarter(2027, 1))
        #expect(ReportPeriod.quarter(2026, 1).next == .quarter(2026, 2))
        #expect(ReportPeriod.halfYear(2026).next == .quarter(2026, 3))
        #expect(try ReportPeriod.parse("2026-9t") == .nineMonths(2026))
        #expect(ReportPeriod.nineMonths(2026).vietnameseName == "9 tháng đầu năm 2026")
        #expect(ReportPeriod.nineMonths(2026).next == .quarter(2026, 4))
    }

    @Test(
        "Kỳ không tồn tại bị từ chối, nêu trường và giá trị / a period that does not exist",
        arguments: ["2026-Q5", "2026-Q0", "2026", "26-Q1", "2026-H2", "1999-Q1", "2026-02-30_2026-03-01", "2026-03-10_2026-03-01", "Q1-2026"])
    func badPeriods(code: String) {
        expectSyncError(field: "period", value: code) { try ReportPeriod.parse(code) }
    }

    func dayAfter(_ s: String) -> String { shift(s, by: 1) }
    func dayBefore(_ s: String) -> String { shift(s, by: -1) }

    func shift(_ s: String, by days: Int) -> String {
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(identifier: "UTC")!
        let parts = s.split(separator: "-").map { Int($0)! }
        let date = cal.date(from: DateComponents(year: parts[0], month: parts[1], day: parts[2]))!
        let c = cal.dateComponents([.year, .month, .day], from: cal.date(byAdding: .day, value: days, to: date)!)
        return String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!)
    }
}

@Suite struct CalendarDayTests {
    @Test("Ngày hợp lệ và không hợp lệ / real and impossible dates")
    func validity() {
        for ok in ["2026-03-02", "2028-02-29", "2000-02-29", "2026-12-31"] { #expect(CalendarDay.isValid(ok), "\(ok)") }
        for bad in [
            "2026-02-30", "2026-02-29", "1900-02-29", "2026-13-01", "2026-00-10", "2026-04-31", "2026-2-3", "02/03/2026", "2026-03-02x", "",
            "2026-+3-02", "+026-03-02", "2026-03-+2", "2026-03- 2",
        ] {
            #expect(!CalendarDay.isValid(bad), "\(bad)")
        }
        expectSyncError(field: "date", value: "2026-02-30") { try CalendarDay.parse("2026-02-30") }
        #expect(CalendarDay.vietnamese("2026-03-05") == "05/03/2026")
    }
}

@Suite struct VersionVectorTests {
    let a = ReplicaID("a1b2c3d4")!
    let g = ReplicaID.genesis

    @Test("Dạng chữ: phân tích và in lại / text form round trip")
    func parseAndPrint() throws {
        let vv = try VersionVector.parse("genesis:30,a1b2c3d4:12")
        #expect(vv[g] == 30 && vv[a] == 12)
        #expect(vv.description == "a1b2c3d4:12,genesis:30")
        #expect(try VersionVector.parse(vv.description) == vv)
        #expect(try VersionVector.parse("") == VersionVector())
        #expect(try VersionVector.parse(" a1b2c3d4:5,a1b2c3d4:7 ")[a] == 7)
        #expect(vv.total == 42)
    }

    @Test(
        "Dạng chữ sai bị từ chối, nêu tùy chọn / malformed vectors",
        arguments: ["abc", "a1b2c3d4:x", "AB12CD34:1", "a1b2c3d4:-1", "a1b2c3d4:1:2", "ab:1"])
    func badText(text: String) {
        expectSyncError(field: "since", value: text) { try VersionVector.parse(text) }
    }

    @Test("Bộ đếm 0 không được lưu / zero counters are not stored")
    func zeroCounters() {
        var vv = VersionVector([a: 0])
        #expect(vv == VersionVector())
        vv[a] = 3
        vv[a] = 0
        #expect(vv == VersionVector() && vv.counters.isEmpty)
    }

    @Test("Hợp nhất: giao hoán, kết hợp, lũy đẳng, là cận trên nhỏ nhất / merge is a join")
    func mergeLaws() throws {
        var rng = SeededRandom(seed: 7)
        let origins = ["aaaa", "bbbb", "cccc", "genesis"].map { ReplicaID($0)! }
        func random() -> VersionVector {
            var vv = VersionVector()
            for o in origins where rng.chance(0.7) { vv[o] = UInt64(rng.int(0...9)) }
            return vv
        }
        for i in 0..<500 {
            let (x, y, z) = (random(), random(), random())
            #expect(x.merged(with: y) == y.merged(with: x), "case \(i)")
            #expect(x.merged(with: y).merged(with: z) == x.merged(with: y.merged(with: z)), "case \(i)")
            #expect(x.merged(with: x) == x, "case \(i)")
            let m = x.merged(with: y)
            #expect(x.isDominated(by: m) && y.isDominated(by: m), "case \(i)")
            for o in origins { #expect(m[o] == max(x[o], y[o]), "case \(i)") }
            #expect(x.isDominated(by: y) == origins.allSatisfy { x[$0] <= y[$0] }, "case \(i)")
            for o in origins { #expect(x.contains(Dot(o, 1)) == (x[o] >= 1)) }
            #expect(try JSONDecoder().decode(VersionVector.self, from: JSONEncoder().encode(x)) == x)
        }
    }
}

@Suite struct FieldValidatorTests {
    let validator = FieldValidator()

    func spec(_ field: String, _ kind: EntityKind = .activity) -> FieldSpec {
        EntitySchema.fields(kind)[EntitySchema.index(of: field, in: kind)!]
    }

    @Test("Văn bản: NFC, cắt khoảng trắng; trống bị từ chối khi bắt buộc / text")
    func text() throws {
        let nfd = "  Tuyên truyền tại Đồng Đăng ".decomposedStringWithCanonicalMapping
        let v = try validator.normalise(.text(nfd), for: spec("title"))
        #expect(v.text.map { Array($0.unicodeScalars) } == Array("Tuyên truyền tại Đồng Đăng".unicodeScalars))
        expectSyncError(field: "title", value: "   ") { try validator.normalise(.text("   "), for: spec("title")) }
        expectSyncError(field: "title", value: "∅") { try validator.normalise(.null, for: spec("title")) }
        #expect(try validator.normalise(.text("  "), for: spec("note")) == .null, "an optional text left empty is cleared")
        #expect(try validator.normalise(.null, for: spec("note")) == .null)
        expectSyncError(field: "title", value: "a\u{7}b") { try validator.normalise(.text("a\u{7}b"), for: spec("title")) }
        #expect(throws: SyncError.self) { try validator.normalise(.text(String(repeating: "ư", count: 501)), for: spec("title")) }
        #expect(try validator.normalise(.text(String(repeating: "ư", count: 500)), for: spec("title")) != .null)
    }

    @Test("Số đếm: không âm, là số nguyên / counts")
    func counts() throws {
        #expect(try validator.normalise(.int(0), for: spec("quantity")) == .int(0))
        expectSyncError(field: "quantity", value: "-3") { try validator.normalise(.int(-3), for: spec("quantity")) }
        // A bound, so that summing counts for a report can never overflow.
        #expect(try validator.normalise(.int(FieldValidator.maxCount), for: spec("participants")) == .int(FieldValidator.maxCount))
        expectSyncError(field: "participants", value: "1000000001") { try validator.normalise(.int(1_000_000_001), for: spec("participants")) }
        expectSyncError(field: "dossiers_total", value: String(Int64.max)) {
            try validator.normalise(.int(.max), for: spec("dossiers_total", .report))
        }
        expectSyncError(field: "participants", value: "ba") { try validator.normalise(.text("ba"), for: spec("participants")) }
        expectSyncError(field: "deleted", value: "2") { try validator.normalise(.int(2), for: spec("deleted")) }
        #expect(try validator.normalise(.int(1), for: spec("deleted")) == .int(1))
    }

    @Test("Mã trong Kế hoạch: hình thức, nội dung, đơn vị, nhiệm vụ / catalog codes")
    func codes() throws {
        #expect(try validator.normalise(.text("HT06"), for: spec("form")) == .text("HT06"))
        // Which codes exist is the plan's data (PlanBook): the validator checks their shape only.
        #expect(try validator.normalise(.text("HT10"), for: spec("form")) == .text("HT10"))
        expectSyncError(field: "form", value: "HT1") { try validator.normalise(.text("HT1"), for: spec("form")) }
        expectSyncError(field: "form", value: "ND01") { try validator.normalise(.text("ND01"), for: spec("form")) }
        #expect(try validator.normalise(.text("nd10, ND05,ND05"), for: spec("content")) == .text("ND05,ND10"))
        #expect(try validator.normalise(.text("ND05,ND12"), for: spec("content")) == .text("ND05,ND12"))
        expectSyncError(field: "content", value: "HT01") { try validator.normalise(.text("ND05,HT01"), for: spec("content")) }
        expectSyncError(field: "content", value: "ND1234") { try validator.normalise(.text("ND1234"), for: spec("content")) }
        #expect(throws: SyncError.self) { try validator.normalise(.text(""), for: spec("content")) }
        expectSyncError(field: "unit", value: "XYZ") { try validator.normalise(.text("XYZ"), for: spec("unit")) }
        #expect(try validator.normalise(.text("TTQLCK"), for: spec("unit")) == .text("TTQLCK"))
        #expect(try validator.normalise(.text("TN05"), for: spec("item", .task)) == .text("TN05"))
        expectSyncError(field: "item", value: "HT01") { try validator.normalise(.text("HT01"), for: spec("item", .task)) }
        expectSyncError(field: "status", value: "xong") { try validator.normalise(.text("xong"), for: spec("status", .task)) }
        #expect(try validator.normalise(.text("2026-q1"), for: spec("period", .report)) == .text("2026-Q1"))
        expectSyncError(field: "period", value: "2026-Q5") { try validator.normalise(.text("2026-Q5"), for: spec("period", .report)) }
    }

    @Test("Ngày và đường dẫn / dates and URLs")
    func datesAndURLs() throws {
        #expect(try validator.normalise(.text("2026-03-02"), for: spec("date")) == .text("2026-03-02"))
        expectSyncError(field: "date", value: "2026-02-30") { try validator.normalise(.text("2026-02-30"), for: spec("date")) }
        let good = "https://bqlkktck.langson.gov.vn/tin/123?x=1"
        #expect(try validator.normalise(.text(good), for: spec("url")) == .text(good))
        #expect(try validator.normalise(.text("HTTP://example.vn"), for: spec("url")) == .text("HTTP://example.vn"))
        for bad in ["ftp://example.vn/a", "javascript:alert(1)", "https://", "bqlkktck.langson.gov.vn", "file:///etc/passwd"] {
            expectSyncError(field: "url", value: bad) { try validator.normalise(.text(bad), for: spec("url")) }
        }
    }
}

@Suite struct StorageFormTests {
    @Test("HLC: dạng lưu trữ đảo ngược được và giữ thứ tự trong mỗi dạng / the storage form round-trips")
    func hlcStorageForm() {
        let epoch = HLC.storageEpochMillis
        var rng = SplitMix64(seed: 0xC1C)
        var samples: [HLC] = [
            .zero, HLC(rawValue: 1), .latestAccepted, HLC(millis: epoch, logical: 0), HLC(millis: epoch - 1, logical: 0),
            HLC(millis: epoch, logical: 255), HLC(millis: epoch, logical: 256), HLC(millis: 1_772_000_000_000, logical: 0),
            HLC(millis: 1_772_000_000_000, logical: UInt16.max), HLC(rawValue: HLC.latestAccepted.rawValue - 1),
        ]
        for _ in 0..<100_000 {
            let raw = rng.next() & UInt64(Int64.max)
            // Mostly realistic timestamps (2020–2060, small logical part), some anywhere.
            let millis = 1_577_836_800_000 + rng.next() % 1_262_304_000_000
            samples.append(rng.next() % 4 == 0 ? HLC(rawValue: raw) : HLC(millis: millis, logical: UInt16(rng.next() % 300)))
        }
        for h in samples {
            let s = h.storageValue
            #expect(HLC(storageValue: s) == h, "\(h.rawValue)")
            // The compact form (non-negative) is used exactly for timestamps after 2025 with a small logical part.
            #expect((s >= 0) == (h.millis >= epoch && h.logical < 256), "\(h.rawValue)")
        }
        // Realistic timestamps of this decade fit in 6 bytes of an SQLite record (< 2^47).
        #expect(HLC(millis: 1_893_456_000_000, logical: 255).storageValue < 1 << 47)
    }

    @Test("HLC trong siêu dữ liệu: hiệu số đọc lại đúng, kể cả giữa hai dạng / meta HLC differences round-trip")
    func hlcDeltaRoundTrip() throws {
        var rng = SplitMix64(seed: 0xD17A)
        let edges: [Int64] = [0, 1, -1, 256, -256, Int64.max, Int64.min, 1 << 61, -(1 << 61), (1 << 61) * 2, HLC.latestAccepted.storageValue]
        var pairs: [(Int64, Int64)] = []
        for a in edges { for b in edges { pairs.append((a, b)) } }
        for _ in 0..<100_000 {
            let a = HLC(millis: 1_772_000_000_000 + rng.next() % 40_000_000_000, logical: UInt16(rng.next() % 3)).storageValue
            let b = rng.next() % 10 == 0 ? Int64(bitPattern: rng.next()) : a &+ Int64(rng.next() % 1_000_000_000) << 8
            pairs.append((a, b))
        }
        var w = VarintWriter()
        for (base, t) in pairs { RegisterCodec.writeHLCDelta(t &- base, into: &w) }
        let bytes = w.bytes
        try bytes.withUnsafeBytes { raw in
            var r = RawVarintReader(raw)
            for (base, t) in pairs {
                let d = try RegisterCodec.readHLCDelta(&r)
                #expect(base &+ d == t)
            }
            #expect(r.atEnd)
        }
        // Equal logical parts a month apart: 5 bytes.
        var month = VarintWriter()
        RegisterCodec.writeHLCDelta(
            HLC(millis: 1_775_000_000_000, logical: 0).storageValue - HLC(millis: 1_772_400_000_000, logical: 0).storageValue, into: &month)
        #expect(month.bytes.count == 5)
    }

    @Test("Mỗi loại bản ghi có dưới 32 trường (mã đích của nhật ký thao tác) / every kind fits the op log's target")
    func fieldsFitTheTarget() {
        for kind in EntityKind.allCases {
            #expect(EntitySchema.fields(kind).count <= 1 << OpTarget.fieldBits, "\(kind)")
            let target = LoadedRecord(id: RecordID(kind: kind, owner: "VP", suffix: "x")).target(EntitySchema.fields(kind).count - 1)
            #expect(OpTarget.field(target) == EntitySchema.fields(kind).count - 1)
        }
    }
}

@Suite struct RecordIDTests {
    @Test(
        "Mã bản ghi hợp lệ: loại và đơn vị sở hữu / valid ids give their kind and owner",
        arguments: [
            ("RE.a1b2c3d4", EntityKind.replica, "a1b2c3d4"), ("NV.VP.TN05", .task, "VP"), ("NV.CPCM-QLDTDN.a1b2c3d4.7", .task, "CPCM-QLDTDN"),
            ("HD.TTQLCK.a1b2c3d4.18446744073709551615", .activity, "TTQLCK"), ("BC.VP.2026-Q1", .report, "VP"), ("KH.2026.ND12", .plan, "2026"),
            ("KH.2027.CHUNG", .plan, "2027"),
        ])
    func valid(raw: String, kind: EntityKind, owner: String) throws {
        let id = try RecordID.parse(raw)
        #expect(id.kind == kind && id.owner == owner && id.rawValue == raw)
    }

    @Test(
        "Mã bản ghi sai bị từ chối, nêu trường và giá trị / malformed ids",
        arguments: [
            "", ".", "RE", "RE.", "RE.ABCD1234", "RE.abc", "RE.a1b2c3d4.1", "NV.VP", "NV.VP.a.b.c", "HD.VP.a1b2c3d4",
            "HD.VP.a1b2c3d4.18446744073709551616", "HD.VP.a1b2c3d4.-1", "HD.VP.A1B2C3D4.1", "BC.VP", "BC..2026-Q1", "XX.VP.1",
            "HD.TTQLCK.a1b2c3d4.1.", "BC.VP.2026 Q1", "BC.Việt.2026-Q1", "KH.26.ND01", "KH.2026", "KH.2026.ND01.x",
            "NV.\(String(repeating: "A", count: 41)).TN01",
        ])
    func malformed(raw: String) {
        expectSyncError(field: "record", value: raw) { try RecordID.parse(raw, field: "record") }
    }

    @Test("Ngẫu nhiên: khớp với cách tách đơn giản theo dấu chấm / random ids agree with a plain split-based reference")
    func agreesWithReference() {
        // The reference: split on dots, then the id rules written plainly (as parse had them before).
        func reference(_ raw: String) -> (EntityKind, String)? {
            let parts = raw.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            let partOK: (String) -> Bool = { p in
                (1...40).contains(p.utf8.count)
                    && p.utf8.allSatisfy {
                        $0 < 0x80 && (Character(UnicodeScalar($0)).isLetter || Character(UnicodeScalar($0)).isNumber || $0 == 0x2D)
                    }
            }
            guard parts.allSatisfy(partOK) else { return nil }
            switch (parts[0], parts.count) {
            case ("RE", 2): return ReplicaID(parts[1]) == nil ? nil : (.replica, parts[1])
            case ("NV", 3), ("NV", 4): return (.task, parts[1])
            case ("HD", 4): return ReplicaID(parts[2]) == nil || UInt64(parts[3]) == nil ? nil : (.activity, parts[1])
            case ("BC", 3): return (.report, parts[1])
            case ("KH", 3): return parts[1].count == 4 && parts[1].allSatisfy { $0.isASCII && $0.isNumber } ? (.plan, parts[1]) : nil
            case ("VB", 4): return ReplicaID(parts[2]) == nil || UInt64(parts[3]) == nil ? nil : (.directive, parts[1])
            case ("TH", 3): return (.draft, parts[1])
            default: return nil
            }
        }
        var rng = SplitMix64(seed: 0x1D)
        let pieces = [
            "RE", "NV", "HD", "BC", "KH", "VB", "TH", ".", ".", "VP", "a1b2c3d4", "7", "-", "Z", "ab", "Đ", "18446744073709551616", "x y", "",
            "HD.VP.", ".12",
            "2026", "KH.2026.",
        ]
        var valid = Set<EntityKind>()
        for _ in 0..<50_000 {
            let raw = (0..<rng.below(10)).map { _ in pieces[rng.below(pieces.count)] }.joined()
            let got = try? RecordID.parse(raw)
            let want = reference(raw)
            #expect(got?.kind == want?.0 && got?.owner == want?.1, "\(raw)")
            if let k = got?.kind { valid.insert(k) }
        }
        // The random strings reach every kind, not only rejections.
        #expect(valid == Set(EntityKind.allCases))
    }
}

/// The plan's master data is found beside the installed programs or named by CCHC_CATALOG; when it
/// is missing or damaged the error says where it looked, instead of a crash.
@Suite("Catalog file: where it is looked for, what a missing or damaged file says")
struct CatalogLocationTests {
    @Test("CCHC_CATALOG, when set, is the only place looked in; otherwise beside the program, then ../share/cchc")
    func locations() {
        let named = Catalog.standardLocations(environment: ["CCHC_CATALOG": "/srv/cchc/plan.json"])
        #expect(named.map(\.path) == ["/srv/cchc/plan.json"])
        let paths = Catalog.standardLocations(environment: [:]).map(\.path)
        #expect(paths.count == 3)
        #expect(paths[0].hasSuffix("/CCHCSync_SyncCore.resources/plan-2026.json"))
        #expect(paths[1].hasSuffix("/share/cchc/plan-2026.json"))
        #expect(paths[2].hasSuffix("Sources/SyncCore/Resources/plan-2026.json"))
    }

    @Test("A missing file is refused naming every place looked in; a damaged one as corrupt")
    func missingAndDamaged() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cchc-catalog-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = dir.appendingPathComponent("a.json")
        let b = dir.appendingPathComponent("b.json")
        do {
            _ = try Catalog.load(from: [a, b])
            Issue.record("a missing catalog was accepted")
        } catch {
            #expect(error.code == .database && error.message.contains(a.path) && error.message.contains(b.path), "\(error.message)")
        }
        try Data("{\"plan\": 1}".utf8).write(to: b)
        do {
            _ = try Catalog.load(from: [a, b])
            Issue.record("a damaged catalog was accepted")
        } catch {
            #expect(error.code == .corrupt && error.message.contains(b.path), "\(error.message)")
        }
        let good = try Catalog.load(from: [a, Catalog.standardLocations(environment: [:])[2]])
        #expect(good.contentItems.count == 11 && good.forms.count == 9 && good.duties.count == 6)
    }
}

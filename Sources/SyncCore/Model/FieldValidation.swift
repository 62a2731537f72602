import Foundation

/// Checks and normalises field values against the schema and the catalog. The same code runs on
/// user input before a local write and on every op that arrives from elsewhere.
public struct FieldValidator: Sendable {
    public let catalog: Catalog

    public init(catalog: Catalog = .standard) { self.catalog = catalog }

    /// Whether `s` is a plan code of the family `prefix` (ND, HT, TN): the prefix and 2–3 digits.
    /// Which codes exist is the plan's data, which changes during the year: a peer's op is
    /// checked for the shape only, a local write against the plan in force (`PlanBook`).
    public static func isPlanCode(_ s: Substring, prefix: String) -> Bool {
        let b = Array(s.utf8)
        let p = Array(prefix.utf8)
        guard b.count >= p.count + 2, b.count <= p.count + 3, b.starts(with: p) else { return false }
        return b.dropFirst(p.count).allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
    }

    /// The list itself when it is already sorted, unique and well formed (the common case at sync).
    func canonicalContentList(_ s: String) -> String? {
        let codes = s.split(separator: ",", omittingEmptySubsequences: false)
        guard !codes.isEmpty else { return nil }
        var previous: Substring = ""
        for c in codes {
            guard c > previous, Self.isPlanCode(c, prefix: "ND") else { return nil }
            previous = c
        }
        return s
    }

    /// `YYYY-MM-DD` or an ISO 8601 UTC/offset timestamp `YYYY-MM-DDTHH:MM:SS[.fff](Z|±HH:MM)`.
    static func isTimestamp(_ s: String) -> Bool {
        let b = Array(s.utf8)
        guard b.count >= 10, CalendarDay.isValid(String(decoding: b[0..<10], as: UTF8.self)) else { return false }
        if b.count == 10 { return true }
        func digits(_ r: Range<Int>) -> Int? {
            guard r.upperBound <= b.count, b[r].allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
            return Int(String(decoding: b[r], as: UTF8.self))
        }
        guard b.count >= 20, b[10] == UInt8(ascii: "T"), b[13] == UInt8(ascii: ":"), b[16] == UInt8(ascii: ":"),
            let h = digits(11..<13), let m = digits(14..<16), let sec = digits(17..<19), h < 24, m < 60, sec < 61
        else { return false }
        var i = 19
        if b[i] == UInt8(ascii: ".") {
            i += 1
            let start = i
            while i < b.count, b[i] >= 0x30 && b[i] <= 0x39 { i += 1 }
            guard i > start else { return false }
        }
        guard i < b.count else { return false }
        if b[i] == UInt8(ascii: "Z") { return i == b.count - 1 }
        guard b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-"), b.count == i + 6, b[i + 3] == UInt8(ascii: ":"),
            digits(i + 1..<i + 3) != nil, digits(i + 4..<i + 6) != nil
        else { return false }
        return true
    }

    /// Whether `s` holds a control character (Unicode Cc: U+0000–U+001F, U+007F–U+009F) other
    /// than newline and tab. Cc has no other members, so a scan of the UTF-8 bytes decides it
    /// exactly, without looking up each scalar's properties.
    static func hasControlCharacter(_ s: String) -> Bool {
        // Over the contiguous bytes when the string has them (a native string always does).
        s.utf8.withContiguousStorageIfAvailable { hasControlCharacter(bytes: $0) } ?? hasControlCharacter(bytes: s.utf8)
    }

    private static func hasControlCharacter<Bytes: Sequence<UInt8>>(bytes: Bytes) -> Bool {
        var afterC2 = false
        for b in bytes {
            if b < 0x20 {
                if b != 0x0A && b != 0x09 { return true }
            } else if b == 0x7F || (afterC2 && b >= 0x80 && b <= 0x9F) {
                return true
            }
            afterC2 = b == 0xC2
        }
        return false
    }

    /// Whether the first and last characters of `s` are not white space. Decided from the bytes
    /// when they are printable ASCII (the common case); otherwise from the characters.
    static func isTrimmed(_ s: String) -> Bool {
        guard let first = s.utf8.first, let last = s.utf8.last else { return true }
        let firstOK = first > 0x20 && first < 0x7F ? true : !(s.first?.isWhitespace ?? false)
        let lastOK = last > 0x20 && last < 0x7F ? true : !(s.last?.isWhitespace ?? false)
        return firstOK && lastOK
    }

    /// `YYYY-MM-DD` made of ASCII digits and a valid day: a subset of what `CalendarDay.isValid`
    /// accepts, decided without splitting the string. Anything else goes to `CalendarDay`.
    static func isPlainDate(_ s: String) -> Bool {
        guard s.utf8.count == 10 else { return false }
        return s.utf8.withContiguousStorageIfAvailable { isPlainDate(bytes: $0) } ?? isPlainDate(bytes: s.utf8)
    }

    private static func isPlainDate<Bytes: Sequence<UInt8>>(bytes: Bytes) -> Bool {
        var y = 0
        var m = 0
        var d = 0
        for (i, c) in bytes.enumerated() {
            if i == 4 || i == 7 {
                guard c == UInt8(ascii: "-") else { return false }
                continue
            }
            guard c >= 0x30 && c <= 0x39 else { return false }
            let digit = Int(c - 0x30)
            if i < 4 {
                y = y * 10 + digit
            } else if i < 7 {
                m = m * 10 + digit
            } else {
                d = d * 10 + digit
            }
        }
        guard (1900...2200).contains(y), (1...12).contains(m), d >= 1 else { return false }
        let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
        let days = m == 2 ? (leap ? 29 : 28) : (m == 4 || m == 6 || m == 9 || m == 11 ? 30 : 31)
        return d <= days
    }

    /// The largest count a field takes (people, items, procedures, dossiers): far above any real
    /// figure, and low enough that a year's totals over every unit can never overflow.
    public static let maxCount: Int64 = 1_000_000_000

    /// The normalised value, or an error naming the field and the value.
    public func normalise(_ value: Value, for spec: FieldSpec) throws -> Value {
        let name = spec.name
        if value == .null {
            if spec.optional { return .null }
            throw SyncError.invalid(name, "∅", "trường bắt buộc.")
        }
        switch spec.type {
        case .count, .flag:
            guard let i = value.int else { throw SyncError.invalid(name, value.description, "cần một số nguyên.") }
            if case .flag = spec.type, i != 0 && i != 1 { throw SyncError.invalid(name, String(i), "chỉ nhận 0 hoặc 1.") }
            if i < 0 { throw SyncError.invalid(name, String(i), "không được là số âm.") }
            if i > Self.maxCount {
                throw SyncError.invalid(name, String(i), "lớn quá \(Self.maxCount) (một tỷ).")
            }
            return value
        default:
            break
        }
        guard let raw = value.text else { throw SyncError.invalid(name, value.description, "cần một chuỗi ký tự.") }
        let s = VietnameseText.nfc(raw)
        switch spec.type {
        case .text(let maxLength):
            let t = Self.isTrimmed(s) ? s : s.trimmingCharacters(in: .whitespacesAndNewlines)
            if t.isEmpty && !spec.optional { throw SyncError.invalid(name, raw, "không được để trống.") }
            if t.utf8.count > maxLength, t.count > maxLength {
                throw SyncError.invalid(name, String(t.prefix(40)) + "…", "dài quá \(maxLength) ký tự.")
            }
            if Self.hasControlCharacter(t) {
                throw SyncError.invalid(name, raw, "chứa ký tự điều khiển.")
            }
            return t.isEmpty ? .null : .text(t)
        case .date:
            return Self.isPlainDate(s) || CalendarDay.isValid(s) ? .text(s) : .text(try CalendarDay.parse(s, field: name))
        case .unit:
            return .text(try catalog.requireUnit(s, field: name).code)
        case .planItem:
            let t = s.trimmingCharacters(in: .whitespaces).uppercased()
            guard Self.isPlanCode(Substring(t), prefix: "ND") || Self.isPlanCode(Substring(t), prefix: "TN") else {
                throw SyncError.invalid(name, raw, "cần mã nội dung (ND01…) hoặc nhiệm vụ (TN01…) của Kế hoạch.")
            }
            return .text(t)
        case .duty:
            let t = s.trimmingCharacters(in: .whitespaces).uppercased()
            guard Self.isPlanCode(Substring(t), prefix: "TN") else {
                throw SyncError.invalid(name, raw, "cần mã nhiệm vụ của Kế hoạch (TN01…).")
            }
            return .text(t)
        case .form:
            let t = s.trimmingCharacters(in: .whitespaces).uppercased()
            guard Self.isPlanCode(Substring(t), prefix: "HT") else {
                throw SyncError.invalid(name, raw, "cần mã hình thức của Kế hoạch (HT01…).")
            }
            return .text(t)
        case .contentList:
            if let canonical = canonicalContentList(s) { return .text(canonical) }
            let codes = s.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).uppercased() }
            guard !codes.isEmpty else { throw SyncError.invalid(name, raw, "cần ít nhất một nội dung (ND01…).") }
            for c in codes where !Self.isPlanCode(Substring(c), prefix: "ND") {
                throw SyncError.invalid(name, c, "cần mã nội dung của Kế hoạch (ND01…).")
            }
            return .text(Array(Set(codes)).sorted().joined(separator: ","))
        case .unitList:
            let codes = s.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            guard !codes.isEmpty else { throw SyncError.invalid(name, raw, "cần ít nhất một đơn vị.") }
            for c in codes { _ = try catalog.requireUnit(c, field: name) }
            return .text(Array(Set(codes)).sorted().joined(separator: ","))
        case .url:
            let t = s.trimmingCharacters(in: .whitespaces)
            guard let u = URLComponents(string: t), let scheme = u.scheme?.lowercased(), scheme == "http" || scheme == "https",
                let host = u.host, !host.isEmpty, t.count <= 2000
            else { throw SyncError.invalid(name, raw, "đường dẫn phải bắt đầu bằng http:// hoặc https://.") }
            return .text(t)
        case .choice(let options):
            guard options.contains(s) else {
                throw SyncError.invalid(name, raw, "chỉ nhận một trong: \(options.joined(separator: ", ")).")
            }
            return .text(s)
        case .timestamp:
            guard Self.isTimestamp(s) else {
                throw SyncError.invalid(name, raw, "cần thời điểm ISO 8601.")
            }
            return .text(s)
        case .period:
            return .text(try ReportPeriod.parse(s, field: name).description)
        case .publicKey:
            guard let key = MachineKey(base64: s) else {
                throw SyncError.invalid(name, raw, "cần khóa công khai Ed25519 (32 byte, base64).")
            }
            return .text(key.base64)
        case .count, .flag:
            return value
        }
    }
}

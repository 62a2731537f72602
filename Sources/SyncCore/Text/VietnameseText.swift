import Foundation

/// Vietnamese text handling: NFC on input, a diacritic-free folded key for search, and a
/// collation key that sorts in Vietnamese alphabetical order (a ă â b c d đ e ê …; tones second).
public enum VietnameseText {
    /// Unicode NFC (input methods and some systems produce NFD).
    public static func nfc(_ s: String) -> String {
        // Fast path: text without combining marks or scripts that compose (all of Vietnamese typed
        // with a precomposed input method) is already NFC; Foundation's normaliser is slow on Linux.
        if isPrecomposedOnly(s) { return s }
        return s.precomposedStringWithCanonicalMapping
    }

    /// Whether every scalar is below U+0300 or in U+1E00–U+1EFF, read from the UTF-8 bytes: such
    /// a scalar is ASCII, a two-byte sequence led by C2–CB, or E1 followed by B8–BB.
    static func isPrecomposedOnly(_ s: String) -> Bool {
        // Over the string's contiguous bytes when it has them (a native string always does):
        // iterating `String.UTF8View` itself costs a call per byte.
        s.utf8.withContiguousStorageIfAvailable { isPrecomposedOnly(bytes: $0) } ?? isPrecomposedOnly(bytes: s.utf8)
    }

    private static func isPrecomposedOnly<Bytes: Sequence<UInt8>>(bytes: Bytes) -> Bool {
        var afterE1 = false
        for b in bytes {
            if afterE1 {
                guard b >= 0xB8 && b <= 0xBB else { return false }
                afterE1 = false
            } else if b >= 0xCC {
                guard b == 0xE1 else { return false }
                afterE1 = true
            }
        }
        return true
    }

    /// Base letters of precomposed Latin letters (U+00C0–U+024F, U+1E00–U+1EFF), lower case.
    private static let foldTable: [UInt32: Unicode.Scalar] = {
        var t: [UInt32: Unicode.Scalar] = [:]
        for v in Array(0x00C0...0x024F) + Array(0x1E00...0x1EFF) {
            guard let scalar = Unicode.Scalar(UInt32(v)) else { continue }
            if let base = String(scalar).decomposedStringWithCanonicalMapping.unicodeScalars.first,
                let lower = base.properties.lowercaseMapping.unicodeScalars.first
            {
                t[UInt32(v)] = lower
            }
        }
        t[0x0110] = "d"
        t[0x0111] = "d"
        return t
    }()

    /// The search key: no diacritics, đ → d, lower case, runs of white space folded to one space.
    public static func fold(_ s: String) -> String {
        var out = String.UnicodeScalarView()
        var lastSpace = true
        let simple = s.unicodeScalars.allSatisfy { $0.value < 0x0300 || (0x1E00...0x1EFF).contains($0.value) }
        let source = simple ? s : s.decomposedStringWithCanonicalMapping
        for original in source.unicodeScalars {
            var scalar = original
            if scalar.value < 0x80 {
                if scalar.value >= 0x41 && scalar.value <= 0x5A, let l = Unicode.Scalar(scalar.value + 32) { scalar = l }
                if scalar == " " || scalar == "\t" || scalar == "\n" || scalar == "\r" {
                    if !lastSpace { out.append(" ") }
                    lastSpace = true
                    continue
                }
                lastSpace = false
                out.append(scalar)
                continue
            }
            if let base = foldTable[scalar.value] { scalar = base }
            if scalar.properties.generalCategory == .nonspacingMark { continue }
            if scalar.properties.isWhitespace {
                if !lastSpace { out.append(" ") }
                lastSpace = true
                continue
            }
            lastSpace = false
            // đ/Đ were folded to "d" by foldTable above.
            for l in scalar.properties.lowercaseMapping.unicodeScalars { out.append(l) }
        }
        var result = String(out)
        if result.hasSuffix(" ") { result.removeLast() }
        return result
    }

    /// Whether `haystack` contains `needle`, ignoring case and diacritics.
    public static func matches(_ haystack: String, _ needle: String) -> Bool {
        let n = fold(needle)
        return n.isEmpty || fold(haystack).contains(n)
    }

    private static let breve: Unicode.Scalar = "\u{0306}"
    private static let circumflex: Unicode.Scalar = "\u{0302}"
    private static let horn: Unicode.Scalar = "\u{031B}"
    private static let tones: [Unicode.Scalar: UInt32] = [
        "\u{0300}": 1, "\u{0309}": 2, "\u{0303}": 3, "\u{0301}": 4, "\u{0323}": 5,
    ]

    /// A key whose lexicographic order is Vietnamese order: letters first (with ă, â, đ, ê, ô, ơ, ư
    /// as letters of their own), then tones, then the original text for a total order.
    public static func collationKey(_ s: String) -> [UInt32] {
        var primary: [UInt32] = []
        var secondary: [UInt32] = []
        var tertiary: [UInt32] = []
        let scalars = Array(nfc(s).decomposedStringWithCanonicalMapping.unicodeScalars)
        var i = 0
        while i < scalars.count {
            let base = scalars[i]
            var modifier: UInt32 = 0
            var tone: UInt32 = 0
            var j = i + 1
            while j < scalars.count, scalars[j].properties.generalCategory == .nonspacingMark {
                let m = scalars[j]
                if m == breve {
                    modifier = 1
                } else if m == circumflex {
                    modifier = 2
                } else if m == horn {
                    modifier = 3
                } else if let t = tones[m] {
                    tone = t
                } else {
                    modifier = 4 + m.value
                }
                j += 1
            }
            let lower = base.properties.lowercaseMapping.unicodeScalars.first ?? base
            var letter = lower.value
            if lower == "đ" {
                letter = UInt32(("d" as Unicode.Scalar).value)
                modifier = 1
            }
            primary.append(letter << 8 | min(modifier, 255))
            secondary.append(tone)
            tertiary.append(base.properties.isUppercase ? 0 : 1)
            i = j
        }
        return primary + [0] + secondary + [0] + tertiary
    }

    /// Sorts in Vietnamese order.
    public static func sorted<T>(_ items: [T], by key: (T) -> String) -> [T] {
        let keyed = items.map { (collationKey(key($0)), $0) }
        return keyed.sorted { $0.0.lexicographicallyPrecedes($1.0) }.map(\.1)
    }
}

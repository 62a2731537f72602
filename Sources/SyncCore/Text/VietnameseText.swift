import Foundation

/// Vietnamese text handling: NFC on input, a diacritic-free folded key for search, and a
/// collation key that sorts in Vietnamese alphabetical order (a ă â b c d đ e ê …; tones second).
public enum VietnameseText {
    /// Unicode NFC (input methods and some systems produce NFD).
    public static func nfc(_ s: String) -> String { s.precomposedStringWithCanonicalMapping }

    /// The search key: no diacritics, đ → d, lower case, runs of white space folded to one space.
    public static func fold(_ s: String) -> String {
        var out = String.UnicodeScalarView()
        var lastSpace = true
        for scalar in s.decomposedStringWithCanonicalMapping.unicodeScalars {
            if scalar.properties.generalCategory == .nonspacingMark { continue }
            if scalar.properties.isWhitespace {
                if !lastSpace { out.append(" ") }
                lastSpace = true
                continue
            }
            lastSpace = false
            switch scalar {
            case "đ", "Đ": out.append("d")
            default:
                for l in scalar.properties.lowercaseMapping.unicodeScalars { out.append(l) }
            }
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

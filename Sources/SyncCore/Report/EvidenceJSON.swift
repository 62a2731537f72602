import Foundation

/// Writes an `EvidenceItem` exactly as `JSONEncoder` with `[.sortedKeys, .withoutEscapingSlashes]`
/// does (nil fields omitted, same string escapes). Kept for speed: the evidence list is most of a
/// year's JSON (a hundred thousand items in `hub bench report`) and `JSONEncoder` is several times
/// slower on it, against the one-second budget of the yearly export. `jsonData()` splices this
/// output into the encoder's; the test `jsonMatchesEncoder` holds the two byte for byte.
enum EvidenceJSON {
    static func append(_ e: EvidenceItem, to out: inout String) {
        out += "{\"content\":["
        for (i, c) in e.content.enumerated() {
            if i > 0 { out += "," }
            string(c, to: &out)
        }
        out += "],\"date\":"
        string(e.date, to: &out)
        out += ",\"form\":"
        string(e.form, to: &out)
        out += ",\"id\":"
        string(e.id, to: &out)
        if let l = e.lateFrom {
            out += ",\"lateFrom\":"
            string(l, to: &out)
        }
        if let p = e.participants {
            out += ",\"participants\":"
            out += String(p)
        }
        if let q = e.quantity {
            out += ",\"quantity\":"
            out += String(q)
        }
        out += ",\"title\":"
        string(e.title, to: &out)
        out += ",\"unit\":"
        string(e.unit, to: &out)
        if let u = e.url {
            out += ",\"url\":"
            string(u, to: &out)
        }
        out += "}"
    }

    static func string(_ s: String, to out: inout String) {
        out += "\""
        if !s.utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) {
            out += s
        } else {
            for u in s.unicodeScalars {
                switch u {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                case "\r": out += "\\r"
                case "\t": out += "\\t"
                case "\u{08}": out += "\\b"
                case "\u{0C}": out += "\\f"
                default:
                    if u.value < 0x20 {
                        out += "\\u" + String(format: "%04x", u.value)
                    } else {
                        out.unicodeScalars.append(u)
                    }
                }
            }
        }
        out += "\""
    }
}

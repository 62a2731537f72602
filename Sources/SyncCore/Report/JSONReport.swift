import Foundation

extension ConsolidatedReport {
    /// Compact JSON with sorted keys: equal reports give equal bytes. The evidence list (most of a
    /// year's file) is written by `EvidenceJSON`, byte for byte what `JSONEncoder` would write, and
    /// spliced in; the rest goes through `JSONEncoder`.
    public func jsonData() throws -> Data {
        let e = JSONEncoder.canonical
        var rest = self
        rest.evidence = []
        let head = try e.encode(rest)
        // `evidence` sorts first among the keys, so the encoding starts with it.
        let marker = Data("{\"evidence\":[]".utf8)
        guard head.starts(with: marker) else {
            var d = try e.encode(self)
            d.append(0x0A)
            return d
        }
        var out = "{\"evidence\":["
        out.reserveCapacity(400 * evidence.count + 64)
        for (i, item) in evidence.enumerated() {
            if i > 0 { out += "," }
            EvidenceJSON.append(item, to: &out)
        }
        out += "]"
        var d = Data(out.utf8)
        d.append(head[head.index(head.startIndex, offsetBy: marker.count)...])
        d.append(0x0A)
        return d
    }
}

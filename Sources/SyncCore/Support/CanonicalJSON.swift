import Foundation

extension JSONEncoder {
    /// Sorted keys, no escaped slashes: stable bytes for equal values.
    public static var canonical: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }
}

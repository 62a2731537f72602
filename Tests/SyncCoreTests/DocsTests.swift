import Foundation
import Testing

/// The docs describe the code as it is: every repository path they name exists, and they cite no
/// file outside the repository.
@Suite("Docs name only files that exist in the repository")
struct DocsTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func documents() throws -> [URL] {
        let docs = root.appendingPathComponent("docs")
        let names = try FileManager.default.contentsOfDirectory(atPath: docs.path).filter { $0.hasSuffix(".md") }.sorted()
        return [root.appendingPathComponent("README.md")] + names.map { docs.appendingPathComponent($0) }
    }

    /// Paths in backticks or links that start at a top-level folder of the repository.
    static func paths(in text: String) -> [String] {
        let pattern = #"(?:Sources|Tests|docs|scripts|deploy|plans)/[A-Za-z0-9_+./-]*[A-Za-z0-9_+/-]"#
        guard let re = try? NSRegularExpression(pattern: pattern) else { return [] }
        let ns = text as NSString
        return re.matches(in: text, range: NSRange(location: 0, length: ns.length)).map { ns.substring(with: $0.range) }
    }

    @Test("Every path named in README.md and docs/*.md exists")
    func pathsExist() throws {
        var checked = 0
        for doc in try Self.documents() {
            let text = try String(contentsOf: doc, encoding: .utf8)
            for path in Set(Self.paths(in: text)) {
                // A glob or a folder written with a trailing slash names a folder.
                let clean = path.hasSuffix("/") ? String(path.dropLast()) : path
                guard !clean.contains("*") else { continue }
                checked += 1
                #expect(
                    FileManager.default.fileExists(atPath: Self.root.appendingPathComponent(clean).path),
                    "\(doc.lastPathComponent) names \(path), which does not exist")
            }
        }
        #expect(checked > 20, "only \(checked) paths found: the pattern no longer matches the docs")
    }

    @Test("No doc or source cites files outside the repository")
    func noOutsideCitations() throws {
        var texts: [(String, String)] = []
        for doc in try Self.documents() { texts.append((doc.lastPathComponent, try String(contentsOf: doc, encoding: .utf8))) }
        let sources = FileManager.default.enumerator(atPath: Self.root.appendingPathComponent("Sources").path)
        while let p = sources?.nextObject() as? String {
            guard p.hasSuffix(".swift") else { continue }
            texts.append((p, try String(contentsOf: Self.root.appendingPathComponent("Sources").appendingPathComponent(p), encoding: .utf8)))
        }
        for (name, text) in texts {
            for outside in ["../shared", "DESIGN.md", "STYLE.md"] {
                #expect(!text.contains(outside), "\(name) cites \(outside), which is not in the repository")
            }
        }
    }
}

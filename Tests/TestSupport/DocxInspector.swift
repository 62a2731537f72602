import Foundation
import ZIPFoundation

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// Opens a DOCX the way a reader would: the ZIP, each XML part checked for well-formedness,
/// and the text of each paragraph of a part.
public struct DocxInspector {
    public var parts: [String: Data] = [:]

    public init(_ data: Data) throws {
        let archive = try Archive(data: data, accessMode: .read)
        for entry in archive where entry.type == .file {
            var d = Data()
            _ = try archive.extract(entry, skipCRC32: false) { d.append($0) }
            parts[entry.path] = d
        }
    }

    /// Parses an XML part; nil when it is well-formed, else the parser's error.
    public static func wellFormedError(_ data: Data) -> String? {
        let parser = XMLParser(data: data)
        let ok = parser.parse()
        return ok ? nil : String(describing: parser.parserError)
    }

    /// The text of every `w:p` of a part, in order.
    public func paragraphs(_ part: String = "word/document.xml") -> [String] {
        guard let d = parts[part] else { return [] }
        let collector = ParagraphCollector()
        let parser = XMLParser(data: d)
        parser.shouldProcessNamespaces = false
        parser.delegate = collector
        _ = parser.parse()
        return collector.paragraphs
    }

    /// Every table of a part: its rows, each row's cells as text (paragraphs of a cell joined
    /// by newlines), in document order.
    public func tables(_ part: String = "word/document.xml") -> [[[String]]] {
        guard let d = parts[part] else { return [] }
        let collector = TableCollector()
        let parser = XMLParser(data: d)
        parser.delegate = collector
        _ = parser.parse()
        return collector.tables
    }

    /// Attributes of the first element named `name` in a part.
    public func attributes(of name: String, in part: String = "word/document.xml") -> [String: String]? {
        guard let d = parts[part] else { return nil }
        let finder = ElementFinder(name: name)
        let parser = XMLParser(data: d)
        parser.delegate = finder
        _ = parser.parse()
        return finder.found
    }
}

final class ParagraphCollector: NSObject, XMLParserDelegate {
    var paragraphs: [String] = []
    var current = ""
    var inText = false
    var depth = 0

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:])
    {
        if name == "w:p" {
            if depth == 0 { current = "" }
            depth += 1
        }
        if name == "w:t" { inText = true }
        if name == "w:br" { current += "\n" }
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if name == "w:t" { inText = false }
        if name == "w:p" {
            depth -= 1
            if depth == 0 { paragraphs.append(current) }
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if inText { current += string }
    }
}

final class ElementFinder: NSObject, XMLParserDelegate {
    let name: String
    var found: [String: String]?

    init(name: String) { self.name = name }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:])
    {
        if name == self.name && found == nil { found = attributes }
    }
}

final class TableCollector: NSObject, XMLParserDelegate {
    var tables: [[[String]]] = []
    var open: [Int] = []
    var cell: String?
    var inText = false

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:])
    {
        switch name {
        case "w:tbl":
            open.append(tables.count)
            tables.append([])
        case "w:tr": if let t = open.last { tables[t].append([]) }
        case "w:tc": cell = ""
        case "w:p": if let c = cell, !c.isEmpty { cell = c + "\n" }
        case "w:br": cell? += "\n"
        case "w:t": inText = true
        default: break
        }
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        switch name {
        case "w:tbl": open.removeLast()
        case "w:tc":
            if let t = open.last, let c = cell, !tables[t].isEmpty { tables[t][tables[t].count - 1].append(c) }
            cell = nil
        case "w:t": inText = false
        default: break
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if inText, cell != nil { cell? += string }
    }
}

import Foundation

/// A minimal WordprocessingML writer: paragraphs, runs and tables as escaped XML text, and the
/// package (ZIP with content types and relationships). Written by hand so no template file is needed.
struct WordML {
    /// Paragraph formatting.
    struct Para {
        /// The paragraph style; nil is body text (`Body`). The document's default style is the
        /// evidence annex's centred cell (see `styles`), so every other paragraph names its style.
        var style: String?
        var align: String?
        var firstLine: Int?
        var indentLeft: Int?
        var indentRight: Int?
        var before: Int?
        var after: Int?
        var keepNext = false
        var pageBreakBefore = false
        /// Bottom border, to draw the short rules under the agency name and the motto.
        var ruleBelow = false

        var xml: String {
            var s = ""
            s += "<w:pStyle w:val=\"\(style ?? "Body")\"/>"
            if keepNext { s += "<w:keepNext/>" }
            if pageBreakBefore { s += "<w:pageBreakBefore/>" }
            if ruleBelow { s += "<w:pBdr><w:bottom w:val=\"single\" w:sz=\"6\" w:space=\"1\" w:color=\"000000\"/></w:pBdr>" }
            if before != nil || after != nil {
                s += "<w:spacing"
                if let before { s += " w:before=\"\(before)\"" }
                if let after { s += " w:after=\"\(after)\"" }
                s += "/>"
            }
            if firstLine != nil || indentLeft != nil || indentRight != nil {
                s += "<w:ind"
                if let indentLeft { s += " w:left=\"\(indentLeft)\"" }
                if let indentRight { s += " w:right=\"\(indentRight)\"" }
                if let firstLine { s += " w:firstLine=\"\(firstLine)\"" }
                s += "/>"
            }
            if let align { s += "<w:jc w:val=\"\(align)\"/>" }
            return "<w:pPr>\(s)</w:pPr>"
        }
    }

    /// Character formatting; `size` in points.
    struct Run {
        var text: String
        var bold = false
        var italic = false
        var size: Double?

        init(_ text: String, bold: Bool = false, italic: Bool = false, size: Double? = nil) {
            self.text = text
            self.bold = bold
            self.italic = italic
            self.size = size
        }

        var xml: String {
            var p = ""
            if bold { p += "<w:b/><w:bCs/>" }
            if italic { p += "<w:i/><w:iCs/>" }
            if let size {
                let hp = Int((size * 2).rounded())
                p += "<w:sz w:val=\"\(hp)\"/><w:szCs w:val=\"\(hp)\"/>"
            }
            let props = p.isEmpty ? "" : "<w:rPr>\(p)</w:rPr>"
            return "<w:r>\(props)<w:t xml:space=\"preserve\">\(WordML.escape(text))</w:t></w:r>"
        }
    }

    /// The XML written so far: one growing buffer, no String appends (a year's evidence annex is
    /// tens of megabytes).
    private(set) var out: ByteWriter
    /// The opening of each column's cell in the open table.
    private(set) var cellStarts: [String] = []

    init(capacity: Int = 1 << 16) { out = ByteWriter(capacity: capacity) }

    /// The XML written so far, as UTF-8 bytes.
    var bytes: [UInt8] { out.bytes }

    /// The XML written so far as text (for the small fragments nested in layout tables).
    var body: String { out.string }

    mutating func paragraph(_ para: Para = Para(), _ runs: [Run]) {
        raw("<w:p>")
        raw(para.xml)
        for r in runs { raw(r.xml) }
        raw("</w:p>")
    }

    mutating func paragraph(_ text: String, _ para: Para = Para(), bold: Bool = false, italic: Bool = false, size: Double? = nil) {
        paragraph(para, [Run(text, bold: bold, italic: italic, size: size)])
    }

    mutating func raw(_ xml: String) { out.append(xml) }

    /// Text content, escaped as `escape` does; text without markup characters (nearly all of it)
    /// is copied as it is.
    mutating func text(_ s: String) {
        var s = s
        let plain = s.withUTF8 { b in
            guard !Self.needsEscape(b) else { return false }
            out.append(b)
            return true
        }
        if !plain { raw(Self.escape(s)) }
    }

    /// A `w:t` element holding `s`: with `xml:space="preserve"` only when XML would otherwise
    /// lose some of its white space (a space at either end, two in a row, a tab).
    mutating func textElement(_ s: String) {
        var s = s
        let preserve = s.withUTF8 { b in
            guard let first = b.first, let last = b.last else { return false }
            if first == 0x20 || last == 0x20 { return true }
            var previous: UInt8 = 0
            for u in b {
                if u == 0x09 || (u == 0x20 && previous == 0x20) { return true }
                previous = u
            }
            return false
        }
        raw(preserve ? "<w:t xml:space=\"preserve\">" : "<w:t>")
        text(s)
        raw("</w:t>")
    }

    /// The decimal digits of `n` (no grouping), without a temporary String.
    mutating func number(_ n: Int) { out.digits(n) }

    /// `2026-03-05` → `05/03/2026` (as `VN.day`), straight into the buffer.
    mutating func day(_ date: String) {
        if !out.vietnameseDay(date, accept: { !Self.needsEscape($0) }) { text(VN.day(date)) }
    }

    /// A writer for `word/document.xml`: the XML declaration and the opening of the body are
    /// written first, so the finished buffer is the part itself (no copy into another buffer).
    static func document(capacity: Int) -> WordML {
        var w = WordML(capacity: capacity)
        w.raw("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<w:document \(namespaces)><w:body>")
        return w
    }

    /// Closes a `document(capacity:)` writer with the page set-up of its last section
    /// (`restartNumbering`: its pages are numbered from 1, as an annex's are).
    mutating func finishDocument(restartNumbering: Bool = false) {
        raw(Self.sectionProperties(restartNumbering: restartNumbering))
        raw("</w:body></w:document>")
    }

    /// Ends the current section (the next part starts on a new page with its own numbering):
    /// WordprocessingML keeps a section's set-up in its last paragraph.
    mutating func endSection(restartNumbering: Bool) {
        raw("<w:p><w:pPr><w:pStyle w:val=\"TableText\"/>")
        raw(Self.sectionProperties(restartNumbering: restartNumbering))
        raw("</w:pPr></w:p>")
    }

    /// A table with the given column widths (twips). Cell contents are already-built paragraph XML.
    /// `borders: false` gives the borderless layout tables of the heading and signature.
    static func table(widths: [Int], rows: [[String]], borders: Bool, header: Bool = false, indent: Int = 0) -> String {
        var w = WordML(capacity: 4096)
        w.beginTable(widths: widths, borders: borders, indent: indent)
        for (i, row) in rows.enumerated() { w.row(row, header: header && i == 0) }
        w.endTable()
        return w.body
    }

    /// Starts a table written row by row straight into the body, so a long evidence list needs
    /// no intermediate copies.
    mutating func beginTable(widths: [Int], borders: Bool, indent: Int = 0) {
        raw("<w:tbl><w:tblPr><w:tblW w:w=\"\(widths.reduce(0, +))\" w:type=\"dxa\"/>")
        if indent != 0 { raw("<w:tblInd w:w=\"\(indent)\" w:type=\"dxa\"/>") }
        let b = borders ? "w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"000000\"" : "w:val=\"nil\""
        raw("<w:tblBorders><w:top \(b)/><w:left \(b)/><w:bottom \(b)/><w:right \(b)/><w:insideH \(b)/><w:insideV \(b)/></w:tblBorders>")
        raw("<w:tblLayout w:type=\"fixed\"/><w:tblCellMar><w:left w:w=\"57\" w:type=\"dxa\"/><w:right w:w=\"57\" w:type=\"dxa\"/></w:tblCellMar>")
        raw("<w:tblLook w:val=\"0000\"/></w:tblPr><w:tblGrid>")
        for w in widths { raw("<w:gridCol w:w=\"\(w)\"/>") }
        raw("</w:tblGrid>")
        cellStarts = widths.map { "<w:tc><w:tcPr><w:tcW w:w=\"\($0)\" w:type=\"dxa\"/></w:tcPr>" }
    }

    /// One row of the open table; a header row repeats at the top of each page.
    mutating func row(_ cells: [String], header: Bool = false) {
        raw(header ? "<w:tr><w:trPr><w:tblHeader/><w:cantSplit/></w:trPr>" : "<w:tr><w:trPr><w:cantSplit/></w:trPr>")
        for (j, cell) in cells.enumerated() {
            raw(cellStarts[min(j, cellStarts.count - 1)])
            raw(cell.isEmpty ? "<w:p><w:pPr><w:pStyle w:val=\"Body\"/></w:pPr></w:p>" : cell)
            raw("</w:tc>")
        }
        raw("</w:tr>")
    }

    mutating func endTable() { raw("</w:tbl>") }

    /// A table cell paragraph in the table style.
    static func cell(_ text: String, bold: Bool = false, italic: Bool = false, align: String? = nil, size: Double? = nil) -> String {
        let pPr: String
        switch align {
        case nil: pPr = "<w:p><w:pPr><w:pStyle w:val=\"TableText\"/></w:pPr>"
        case "center": pPr = "<w:p><w:pPr><w:pStyle w:val=\"TableText\"/><w:jc w:val=\"center\"/></w:pPr>"
        case "right": pPr = "<w:p><w:pPr><w:pStyle w:val=\"TableText\"/><w:jc w:val=\"right\"/></w:pPr>"
        default: pPr = "<w:p>" + Para(style: "TableText", align: align).xml
        }
        return pPr + Run(text, bold: bold, italic: italic, size: size).xml + "</w:p>"
    }

    /// XML text escaping; characters XML 1.0 forbids (control characters) are dropped.
    static func escape(_ s: String) -> String {
        var copy = s
        guard copy.withUTF8({ needsEscape($0) }) else { return s }
        var out = ""
        out.reserveCapacity(s.utf8.count + 16)
        for ch in s.unicodeScalars {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\t": out += " "
            default:
                if ch.value < 0x20 || (0xFFFE...0xFFFF).contains(ch.value) { continue }
                out.unicodeScalars.append(ch)
            }
        }
        return out
    }

    /// Whether the text holds a character `escape` rewrites or drops.
    static func needsEscape(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        // 0xEF leads U+F000–U+FFFF, where XML forbids U+FFFE/U+FFFF: let `escape` look at it.
        for u in b where u == 0x26 || u == 0x3C || u == 0x3E || u == 0x22 || u == 0x27 || (u < 0x20 && u != 0x09) || u == 0xEF { return true }
        return false
    }

    static let namespaces =
        "xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\" xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\""

    /// The page set-up: A4 portrait; margins top/bottom 20 mm, left 30 mm, right 15 mm; page
    /// number header from page 2 (a different, empty first-page header).
    static func sectionProperties(restartNumbering: Bool) -> String {
        """
        <w:sectPr><w:headerReference w:type="default" r:id="rIdHeaderDefault"/><w:headerReference w:type="first" r:id="rIdHeaderFirst"/>\
        <w:type w:val="nextPage"/><w:pgSz w:w="11906" w:h="16838"/>\
        <w:pgMar w:top="1134" w:right="850" w:bottom="1134" w:left="1701" w:header="567" w:footer="567" w:gutter="0"/>\
        \(restartNumbering ? "<w:pgNumType w:start=\"1\"/>" : "")<w:titlePg/></w:sectPr>
        """
    }

    /// The whole package. Entries get a fixed date so equal reports give equal bytes.
    static func package(document: [UInt8], title: String) throws -> Data {
        let xmlHead = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
        let parts: [(String, String)] = [
            (
                "[Content_Types].xml",
                xmlHead + """
                    <Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">\
                    <Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>\
                    <Default Extension="xml" ContentType="application/xml"/>\
                    <Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>\
                    <Override PartName="/word/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/>\
                    <Override PartName="/word/settings.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.settings+xml"/>\
                    <Override PartName="/word/header1.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.header+xml"/>\
                    <Override PartName="/word/header2.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.header+xml"/>\
                    <Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>\
                    <Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>\
                    </Types>
                    """
            ),
            (
                "_rels/.rels",
                xmlHead + """
                    <Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
                    <Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>\
                    <Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/>\
                    <Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties" Target="docProps/app.xml"/>\
                    </Relationships>
                    """
            ),
            (
                "docProps/core.xml",
                xmlHead + """
                    <cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" \
                    xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" \
                    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:title>\(escape(title))</dc:title><dc:language>vi-VN</dc:language></cp:coreProperties>
                    """
            ),
            (
                "docProps/app.xml",
                xmlHead + """
                    <Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"><Application>CCHCSync hub</Application></Properties>
                    """
            ),
            (
                "word/_rels/document.xml.rels",
                xmlHead + """
                    <Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
                    <Relationship Id="rIdStyles" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>\
                    <Relationship Id="rIdSettings" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/settings" Target="settings.xml"/>\
                    <Relationship Id="rIdHeaderDefault" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/header" Target="header1.xml"/>\
                    <Relationship Id="rIdHeaderFirst" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/header" Target="header2.xml"/>\
                    </Relationships>
                    """
            ),
            ("word/styles.xml", xmlHead + styles),
            (
                "word/settings.xml",
                xmlHead + """
                    <w:settings \(namespaces)><w:defaultTabStop w:val="720"/><w:characterSpacingControl w:val="doNotCompress"/>\
                    <w:compat><w:compatSetting w:name="compatibilityMode" w:uri="http://schemas.microsoft.com/office/word" w:val="15"/></w:compat></w:settings>
                    """
            ),
            (
                "word/header1.xml",
                xmlHead + """
                    <w:hdr \(namespaces)><w:p><w:pPr><w:pStyle w:val="TableText"/><w:jc w:val="center"/><w:rPr><w:sz w:val="26"/><w:szCs w:val="26"/></w:rPr></w:pPr>\
                    <w:r><w:rPr><w:sz w:val="26"/><w:szCs w:val="26"/></w:rPr><w:fldChar w:fldCharType="begin"/></w:r>\
                    <w:r><w:rPr><w:sz w:val="26"/><w:szCs w:val="26"/></w:rPr><w:instrText xml:space="preserve"> PAGE </w:instrText></w:r>\
                    <w:r><w:rPr><w:sz w:val="26"/><w:szCs w:val="26"/></w:rPr><w:fldChar w:fldCharType="separate"/></w:r>\
                    <w:r><w:rPr><w:sz w:val="26"/><w:szCs w:val="26"/></w:rPr><w:fldChar w:fldCharType="end"/></w:r></w:p></w:hdr>
                    """
            ),
            ("word/header2.xml", xmlHead + "<w:hdr \(namespaces)><w:p><w:pPr><w:pStyle w:val=\"TableText\"/></w:pPr></w:p></w:hdr>"),
        ]
        // Fixed entry dates (2026-01-01, as before) for reproducible files. zlib level 3 on the
        // year's 45 MB document.xml: 0.09 s, 1.8 MB (level 1: 0.10 s, 2.0 MB; level 6, what
        // ZIPFoundation used: 0.31 s, 1.4 MB); levels 4 and up switch to zlib's slow matcher.
        var zip = ZipWriter(level: 3, capacity: 1 << 16 + document.count / 16)
        for (path, text) in parts { try zip.add(path, Array(text.utf8)) }
        try zip.add("word/document.xml", document)
        return try zip.finish()
    }

    /// Body text (`Body`): Times New Roman 14 pt, justified, first-line indent 1 cm; a table text
    /// style without indent; the evidence annex's styles. The default paragraph style (`Normal`)
    /// is the evidence annex's centred cell, 11 pt: four of the five cells of each of up to a
    /// hundred thousand rows, which then need no paragraph properties at all. Every other
    /// paragraph names its style (`Para.style`), and each style sets every property `Normal`
    /// sets, so nothing depends on whether a reader bases unbased styles on the default.
    static let styles = """
        <w:styles \(namespaces)><w:docDefaults><w:rPrDefault><w:rPr>\
        <w:rFonts w:ascii="Times New Roman" w:hAnsi="Times New Roman" w:eastAsia="Times New Roman" w:cs="Times New Roman"/>\
        <w:sz w:val="28"/><w:szCs w:val="28"/><w:lang w:val="vi-VN" w:eastAsia="en-US" w:bidi="ar-SA"/></w:rPr></w:rPrDefault>\
        <w:pPrDefault><w:pPr><w:spacing w:after="0" w:line="240" w:lineRule="auto"/></w:pPr></w:pPrDefault></w:docDefaults>\
        <w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/>\
        <w:pPr><w:spacing w:before="20" w:after="20" w:line="240" w:lineRule="auto"/><w:ind w:firstLine="0"/><w:jc w:val="center"/></w:pPr>\
        <w:rPr><w:sz w:val="22"/><w:szCs w:val="22"/></w:rPr></w:style>\
        <w:style w:type="paragraph" w:styleId="Body"><w:name w:val="Body"/><w:qFormat/>\
        <w:pPr><w:spacing w:before="120" w:after="0" w:line="264" w:lineRule="auto"/><w:ind w:firstLine="567"/><w:jc w:val="both"/></w:pPr>\
        <w:rPr><w:sz w:val="28"/><w:szCs w:val="28"/></w:rPr></w:style>\
        <w:style w:type="paragraph" w:styleId="TableText"><w:name w:val="Table Text"/><w:basedOn w:val="Body"/><w:qFormat/>\
        <w:pPr><w:spacing w:before="20" w:after="20" w:line="240" w:lineRule="auto"/><w:ind w:firstLine="0"/><w:jc w:val="left"/></w:pPr>\
        <w:rPr><w:sz w:val="24"/><w:szCs w:val="24"/></w:rPr></w:style>\
        <w:style w:type="paragraph" w:styleId="EvL"><w:name w:val="Evidence Text"/><w:basedOn w:val="TableText"/>\
        <w:rPr><w:sz w:val="22"/><w:szCs w:val="22"/></w:rPr></w:style>\
        <w:style w:type="character" w:styleId="EvNote"><w:name w:val="Evidence Note"/>\
        <w:rPr><w:i/><w:iCs/><w:sz w:val="20"/><w:szCs w:val="20"/></w:rPr></w:style>\
        <w:style w:type="paragraph" w:styleId="Heading"><w:name w:val="Report Heading"/><w:basedOn w:val="Body"/><w:qFormat/>\
        <w:pPr><w:keepNext/><w:spacing w:before="120"/></w:pPr><w:rPr><w:b/><w:bCs/></w:rPr></w:style>\
        <w:style w:type="table" w:default="1" w:styleId="TableNormal"><w:name w:val="Normal Table"/><w:tblPr><w:tblInd w:w="0" w:type="dxa"/>\
        <w:tblCellMar><w:top w:w="0" w:type="dxa"/><w:left w:w="108" w:type="dxa"/><w:bottom w:w="0" w:type="dxa"/><w:right w:w="108" w:type="dxa"/></w:tblCellMar></w:tblPr></w:style>\
        </w:styles>
        """
}

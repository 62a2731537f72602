import Foundation

/// The export formats of the consolidated report.
public enum ReportFormat: String, Sendable, CaseIterable {
    /// WordprocessingML in the Nghị định 30/2020 layout, for signing and sending.
    case docx
    /// Markdown, for reading in a terminal.
    case md
    /// UTF-8 CSV with BOM and CRLF (RFC 4180), opens in Excel with Vietnamese text.
    case csv
    /// Stable JSON (sorted keys) for other systems.
    case json

    public static func parse(_ raw: String) throws -> ReportFormat {
        let s = raw.lowercased().trimmingCharacters(in: .whitespaces)
        if s == "markdown" { return .md }
        guard let f = ReportFormat(rawValue: s) else {
            throw SyncError.invalid("format", raw, "chỉ nhận docx, md, csv hoặc json.")
        }
        return f
    }
}

extension ConsolidatedReport {
    /// The report in `format`, as the bytes of the file. The audience and the part shape the
    /// documents (DOCX, Markdown); CSV and JSON are data for other systems and always whole.
    public func export(_ format: ReportFormat, audience: ReportAudience = .external, part: ReportPart = .full) throws -> Data {
        switch format {
        case .json: return try jsonData()
        case .csv: return csvData()
        case .md: return Data(markdown(audience: audience, part: part).utf8)
        case .docx: return try DocxReport(report: self, audience: audience, part: part).data()
        }
    }
}

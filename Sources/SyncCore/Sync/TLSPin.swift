import Crypto
import Foundation

/// The hub certificate a replica accepts over https: the SHA-256 of the leaf certificate's DER
/// bytes, as 64 lower-case hex digits. `hub enrol --tls-cert` writes it into the enrolment file;
/// the client refuses any other certificate, whoever signed it (the hub's certificate is usually
/// self-signed, and no certificate authority is trusted instead of the pin).
public enum TLSPin {
    /// The fingerprint of DER bytes.
    public static func fingerprint(der: some DataProtocol) -> String {
        SHA256.hash(data: Data(der)).map { String(format: "%02x", $0) }.joined()
    }

    /// A fingerprint as written in an enrolment file, normalised (lower case, colons and spaces
    /// dropped, an optional `sha256:` prefix), or nil when it is not 64 hex digits.
    public static func normalised(_ raw: String) -> String? {
        var s = raw.lowercased().trimmingCharacters(in: .whitespaces)
        if s.hasPrefix("sha256:") { s.removeFirst(7) }
        s = s.filter { $0 != ":" && $0 != " " }
        guard s.count == 64, s.allSatisfy({ $0.isHexDigit }) else { return nil }
        return s
    }

    /// The DER bytes of every certificate in a PEM text, in order (the leaf first in a chain file).
    public static func certificates(pem: String) -> [Data] {
        var out: [Data] = []
        var body: String?
        for line in pem.split(whereSeparator: \.isNewline).map({ $0.trimmingCharacters(in: .whitespaces) }) {
            if line == "-----BEGIN CERTIFICATE-----" {
                body = ""
            } else if line == "-----END CERTIFICATE-----", let b = body {
                if let d = Data(base64Encoded: b) { out.append(d) }
                body = nil
            } else if body != nil {
                body! += line
            }
        }
        return out
    }

    /// The fingerprint of the first certificate in the PEM file at `path` (what `hub serve
    /// --tls-cert` presents), or an error naming `field` and the path.
    public static func fingerprint(pemFile path: String, field: String) throws -> String {
        let data = try UserFile.read(path, field: field, what: "tệp chứng chỉ")
        guard let leaf = certificates(pem: String(decoding: data, as: UTF8.self)).first else {
            throw SyncError.invalid(field, path, "không phải tệp chứng chỉ PEM (cần khối «-----BEGIN CERTIFICATE-----»).")
        }
        return fingerprint(der: leaf)
    }

    /// The refusal when the hub presents another certificate than the pinned one (exit 4).
    public static func mismatch(url: String, presented: String, pinned: String) -> SyncError {
        SyncError(
            .forbidden,
            "Chứng chỉ TLS của hub «\(url)» có dấu vân tay SHA-256 «\(presented)», khác với dấu vân tay đã ghim trong tệp ghi danh «\(pinned)»: "
                + "không kết nối, không gửi gì. Nếu hub vừa đổi chứng chỉ, hãy ghi danh lại («hub enrol --url … --tls-cert TỆP») và dùng «unit-client rehome --enrolment TỆP-MỚI»; nếu không, có thể có máy khác đang mạo danh hub.",
            field: "tls_fingerprint", value: presented)
    }
}

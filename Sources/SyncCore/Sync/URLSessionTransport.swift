import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The HTTP transport: one POST per page through URLSession. The one transport of the project:
/// `unit-client sync` and the sync benchmark's initial sync both use it.
public struct URLSessionTransport: SyncTransport {
    let endpoint: URL
    let session: URLSession

    /// Posts to `<hubURL>/<sync path>`; `timeout` seconds per request, four times that per page.
    public init(hubURL: URL, timeout: Double) {
        endpoint = hubURL.appendingPathComponent(String(SyncProtocol.path.dropFirst()))
        let config = URLSessionConfiguration.ephemeral
        config.timeoutIntervalForRequest = timeout
        config.timeoutIntervalForResource = timeout * 4
        session = URLSession(configuration: config)
    }

    public func post(body: Data, headers: [String: String]) async throws -> TransportResponse {
        var req = URLRequest(url: endpoint)
        req.httpMethod = "POST"
        req.httpBody = body
        req.setValue(SyncProtocol.mediaType, forHTTPHeaderField: "Content-Type")
        for (k, v) in headers { req.setValue(v, forHTTPHeaderField: k) }
        let (data, response) = try await session.data(for: req)
        guard let http = response as? HTTPURLResponse else {
            throw SyncError(.unavailable, "Hub trả lời không phải HTTP.", field: "hub", value: endpoint.absoluteString)
        }
        var h: [String: String] = [:]
        for (k, v) in http.allHeaderFields {
            if let k = k as? String, let v = v as? String { h[k.lowercased()] = v }
        }
        return TransportResponse(status: http.statusCode, headers: h, body: data)
    }
}

import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A TCP relay in front of the hub that cuts connections on purpose: after `cutAfter` bytes of
/// answers have passed, it closes the connection it is relaying, once per `cuts`. It stands for
/// a link that drops in the middle of a response.
final class CuttingProxy: @unchecked Sendable {
    let target: Int
    private(set) var port = 0
    private let lock = NSLock()
    private var relayed = 0
    private var cutsLeft: Int
    private let cutAfter: Int
    private var listener: Int32 = -1
    private(set) var cutsMade = 0

    init(target: Int, cutAfter: Int, cuts: Int) throws {
        self.target = target
        self.cutAfter = cutAfter
        self.cutsLeft = cuts
        listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = Self.loopback(port: 0)
        let ok = withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard ok == 0, listen(listener, 64) == 0 else { throw HarnessError("proxy: bind/listen failed") }
        var bound = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &bound) { p in p.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &len) } }
        port = Int(UInt16(bigEndian: bound.sin_port))
        let t = Thread { [self] in acceptLoop() }
        t.start()
    }

    deinit { close(listener) }

    static func loopback(port: Int) -> sockaddr_in {
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = in_port_t(UInt16(port).bigEndian)
        a.sin_addr.s_addr = inet_addr("127.0.0.1")
        return a
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 { return }
            let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var addr = Self.loopback(port: target)
            let ok = withUnsafePointer(to: &addr) { p in
                p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            if ok != 0 {
                close(client)
                close(upstream)
                continue
            }
            Thread { [self] in pump(from: client, to: upstream, answers: false, pair: (client, upstream)) }.start()
            Thread { [self] in pump(from: upstream, to: client, answers: true, pair: (client, upstream)) }.start()
        }
    }

    private func pump(from: Int32, to: Int32, answers: Bool, pair: (Int32, Int32)) {
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(from, &buf, buf.count)
            if n <= 0 { break }
            var cut = false
            if answers {
                lock.lock()
                relayed += n
                if cutsLeft > 0 && relayed >= cutAfter {
                    cutsLeft -= 1
                    cutsMade += 1
                    relayed = 0
                    cut = true
                }
                lock.unlock()
            }
            if cut {
                // Forward half of this chunk, then drop the link in both directions.
                _ = write(to, buf, n / 2)
                shutdown(pair.0, Int32(SHUT_RDWR))
                shutdown(pair.1, Int32(SHUT_RDWR))
                break
            }
            if write(to, buf, n) != n { break }
        }
        shutdown(to, Int32(SHUT_WR))
    }
}

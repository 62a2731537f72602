import Crypto
import Foundation

/// What binds each op to its content and its author (docs/PROTOCOL.md, "Verifiable ops").
///
/// Each origin's ops form a hash chain: `H(n) = SHA-256("cchc-op/1" ‖ H(n−1) ‖ op n)`, with
/// `H(0)` thirty-two zero bytes and op n in its canonical bytes (`canonical`): its dot, clock,
/// record, field, value and supersedes. The author signs chain heads with its Ed25519 key
/// (`SignedHead`); a signature on head n covers every op of the origin up to n. The plan's seed
/// (origin `genesis`) is not chained: every replica makes it from the catalog.
public struct ChainHash: Hashable, Sendable, CustomStringConvertible {
    /// The 32 bytes as four big-endian words: no heap allocation per op hashed.
    let w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64

    public static let zero = ChainHash(w0: 0, w1: 0, w2: 0, w3: 0)

    init(w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64) {
        self.w0 = w0
        self.w1 = w1
        self.w2 = w2
        self.w3 = w3
    }

    init(raw: UnsafeRawBufferPointer) {
        func word(_ i: Int) -> UInt64 { (0..<8).reduce(0) { $0 << 8 | UInt64(raw[i * 8 + $1]) } }
        self.init(w0: word(0), w1: word(1), w2: word(2), w3: word(3))
    }

    public init?(_ bytes: [UInt8]) {
        guard bytes.count == 32 else { return nil }
        self = bytes.withUnsafeBytes { ChainHash(raw: $0) }
    }

    public init?(data: Data?) {
        guard let data, data.count == 32 else { return nil }
        self = data.withUnsafeBytes { ChainHash(raw: $0) }
    }

    public var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(32)
        append(to: &out)
        return out
    }

    /// Appends the 32 bytes to `buffer`.
    func append(to buffer: inout [UInt8]) {
        Self.append(w0, &buffer)
        Self.append(w1, &buffer)
        Self.append(w2, &buffer)
        Self.append(w3, &buffer)
    }

    private static func append(_ w: UInt64, _ buffer: inout [UInt8]) {
        var be = w.bigEndian
        withUnsafeBytes(of: &be) { buffer.append(contentsOf: $0) }
    }

    public var data: Data { Data(bytes) }
    /// The first 8 bytes, big-endian.
    public var prefix64: UInt64 { w0 }
    public var hex: String { String(format: "%016llx%016llx%016llx%016llx", w0, w1, w2, w3) }
    /// The first 12 hex digits, enough to tell two heads apart in a message.
    public var short: String { String(hex.prefix(12)) }
    public var description: String { short }
}

public enum OpChain {
    static let opDomain = Array("cchc-op/1".utf8)
    static let headDomain = Array("cchc-head/1\n".utf8)

    /// The canonical bytes of an op, as hashed: varints and length-prefixed UTF-8.
    static func canonical(_ op: Op, into w: inout VarintWriter) {
        withUnsafePointer(to: op) { canonical($0, into: &w) }
    }

    /// As `canonical(_:into:)`, reading the op in place: a verifier hashes ops straight out of
    /// the batch's buffer, and passing an element of it by value beside the `inout` writer made
    /// Swift copy the whole op (a retain and release of each of its strings and arrays) per op.
    static func canonical(_ op: UnsafePointer<Op>, into w: inout VarintWriter) {
        writeString(op.pointee.dot.origin.rawValue, &w)
        w.write(op.pointee.dot.counter)
        w.write(op.pointee.hlc.rawValue)
        writeString(op.pointee.record, &w)
        writeString(op.pointee.field, &w)
        switch op.pointee.value {
        case .null: w.write(0)
        case .int(let i):
            w.write(1)
            w.write(Zigzag.encode(i))
        case .text(let s):
            w.write(2)
            writeString(s, &w)
        }
        // In dot order, as the op log stores them.
        let supersedes = op.pointee.supersedes
        w.write(supersedes.count)
        if supersedes.isEmpty { return }
        var sorted = true
        for i in supersedes.indices.dropFirst() where supersedes[i] < supersedes[i - 1] {
            sorted = false
            break
        }
        for d in sorted ? supersedes : supersedes.sorted() {
            writeString(d.origin.rawValue, &w)
            w.write(d.counter)
        }
    }

    private static func writeString(_ s: String, _ w: inout VarintWriter) {
        // Native strings are contiguous UTF-8: their bytes are appended without a copy of the string.
        let appended =
            s.utf8.withContiguousStorageIfAvailable { u in
                w.write(u.count)
                w.bytes.append(contentsOf: u)
                return true
            } ?? false
        if appended { return }
        var s = s
        s.withUTF8 { u in
            w.write(u.count)
            w.bytes.append(contentsOf: u)
        }
    }

    /// `H(n)` from `H(n−1)` and op n. `buffer` is scratch space reused between calls.
    public static func next(_ previous: ChainHash, _ op: Op) -> ChainHash {
        var buffer = VarintWriter()
        return next(previous, op, buffer: &buffer)
    }

    static func next(_ previous: ChainHash, _ op: Op, buffer: inout VarintWriter) -> ChainHash {
        withUnsafePointer(to: op) { next(previous, $0, buffer: &buffer) }
    }

    /// As `next(_:_:buffer:)`, reading the op in place (see `canonical`).
    static func next(_ previous: ChainHash, _ op: UnsafePointer<Op>, buffer: inout VarintWriter) -> ChainHash {
        buffer.reset()
        buffer.bytes.append(contentsOf: opDomain)
        previous.append(to: &buffer.bytes)
        canonical(op, into: &buffer)
        let digest = buffer.bytes.withUnsafeBytes { SHA256.hash(data: $0) }
        return digest.withUnsafeBytes { ChainHash(raw: $0) }
    }

    /// The bytes an author signs for its head `(origin, counter, hash)`.
    static func headMessage(origin: ReplicaID, counter: UInt64, hash: ChainHash) -> [UInt8] {
        var m = headDomain
        m += Array(origin.rawValue.utf8)
        m.append(0x0A)
        for shift in stride(from: 56, through: 0, by: -8) { m.append(UInt8(truncatingIfNeeded: counter >> UInt64(shift))) }
        hash.append(to: &m)
        return m
    }
}

/// An author's signature on its chain head: "my ops up to `counter` hash to H(counter)". The hash
/// itself does not travel: the receiver computes it from the ops and checks the signature against
/// the origin's public key. An empty `signature` is a legacy head: ops a hub received from a
/// program of the previous release, before signing existed, which only a client accepts from its
/// own hub (docs/PROTOCOL.md).
public struct SignedHead: Hashable, Sendable, Codable {
    public var origin: ReplicaID
    public var counter: UInt64
    public var signature: Data

    public init(origin: ReplicaID, counter: UInt64, signature: Data) {
        self.origin = origin
        self.counter = counter
        self.signature = signature
    }

    /// An author signs its head at every commit and at least every `spacing` ops; stores keep
    /// heads at most about that far apart. A page is cut only at a head, so it holds at most
    /// `spacing` ops more than the size asked for.
    public static let spacing: UInt64 = 64
    /// A page carries a head at least every `wireSpacing` ops (and the one it ends at), or every
    /// head for pages smaller than that: the receiver keeps them to serve small pages in turn.
    public static let wireSpacing: UInt64 = 64

    enum CodingKeys: String, CodingKey {
        case origin = "o"
        case counter = "c"
        case signature = "sig"
    }

    /// Whether `signature` is `key`'s signature of this head with hash `hash`.
    func verifies(hash: ChainHash, key: MachineKey) -> Bool {
        key.isValidSignature(signature, for: OpChain.headMessage(origin: origin, counter: counter, hash: hash))
    }
}

/// A batch of ops with the signed heads that cover them: what every receiver verifies before it
/// applies anything. Ops of one origin come in counter order; each origin's run ends at one of
/// the heads (a run beyond its last head is held back until a head covers it).
public struct OpBatch: Sendable, Equatable {
    public var ops: [Op]
    public var heads: [SignedHead]

    public init(ops: [Op] = [], heads: [SignedHead] = []) {
        self.ops = ops
        self.heads = heads
    }

    public var count: Int { ops.count }
    public var isEmpty: Bool { ops.isEmpty }
}

/// A replica's public signing key, as its registration record carries it (field `key`: the 32
/// raw bytes in base64).
public struct MachineKey: Hashable, Sendable, CustomStringConvertible {
    public let raw: Data

    public init?(base64: String) {
        guard let d = Data(base64Encoded: base64), d.count == 32, (try? Curve25519.Signing.PublicKey(rawRepresentation: d)) != nil else {
            return nil
        }
        raw = d
    }

    init(_ key: Curve25519.Signing.PublicKey) {
        raw = key.rawRepresentation
    }

    public var base64: String { raw.base64EncodedString() }
    /// A short, readable fingerprint (first 16 hex digits of SHA-256 of the key).
    public var fingerprint: String {
        SHA256.hash(data: raw).prefix(8).map { String(format: "%02x", $0) }.joined()
    }
    public var description: String { fingerprint }

    func isValidSignature(_ signature: Data, for message: [UInt8]) -> Bool {
        guard signature.count == 64, let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw) else { return false }
        return key.isValidSignature(signature, for: message)
    }
}

/// This machine's private signing key: made at `init` (or at the first write after an upgrade),
/// kept in the database's local state, never sent anywhere.
/// `@unchecked Sendable`: an immutable value around swift-crypto's private key, itself immutable
/// bytes that the library does not mark `Sendable`.
public struct SigningKey: @unchecked Sendable {
    /// The key itself, kept decoded: rebuilding it from its raw bytes costs as much as a signature.
    private let key: Curve25519.Signing.PrivateKey

    public init() { key = Curve25519.Signing.PrivateKey() }

    /// A key from its 32 raw bytes (tests and the simulator derive them from a seed).
    public init?(raw: Data) {
        guard let k = try? Curve25519.Signing.PrivateKey(rawRepresentation: raw) else { return nil }
        key = k
    }

    /// The 32 raw bytes, as `local_state` stores them.
    var raw: Data { key.rawRepresentation }

    public var publicKey: MachineKey { MachineKey(key.publicKey) }

    /// The signed head `(origin, counter)` with hash `hash`.
    func sign(origin: ReplicaID, counter: UInt64, hash: ChainHash) throws -> SignedHead {
        let sig = try key.signature(for: OpChain.headMessage(origin: origin, counter: counter, hash: hash))
        return SignedHead(origin: origin, counter: counter, signature: sig)
    }
}

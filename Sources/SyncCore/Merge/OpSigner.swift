import Crypto
import Foundation

/// Signs ops made outside a replica store as their authors would (benchmarks, load tests, the
/// simulator and property tests): one key per origin, derived from a seed so that a run repeats
/// exactly, and each origin's chain carried from one call to the next.
public struct OpSigner: Sendable {
    let seed: UInt64
    private var keys: [ReplicaID: SigningKey] = [:]
    private var heads: [ReplicaID: (counter: UInt64, hash: ChainHash)] = [:]

    public init(seed: UInt64 = 0) { self.seed = seed }

    /// The signing key of `origin` (the same for the same seed).
    public mutating func key(for origin: ReplicaID) -> SigningKey {
        if let k = keys[origin] { return k }
        var bytes = Array("cchc-test-key/\(seed)/\(origin.rawValue)".utf8)
        bytes = Array(SHA256.hash(data: bytes))
        let k = SigningKey(raw: Data(bytes)) ?? SigningKey()
        keys[origin] = k
        return k
    }

    /// The value of `origin`'s registration field `key` (an op its generator writes right after `unit`).
    public mutating func publicKey(for origin: ReplicaID) -> Value { .text(key(for: origin).publicKey.base64) }

    /// `ops` with heads: every `SignedHead.spacing` ops of an origin and at the end of each
    /// origin's ops in this call. Each origin's ops must continue its chain from the last call
    /// (counter 1 first).
    public mutating func sign(_ ops: [Op]) throws -> OpBatch {
        var out = OpBatch(ops: ops)
        var buffer = VarintWriter()
        for (i, op) in ops.enumerated() {
            let o = op.dot.origin
            let prev = heads[o] ?? (0, .zero)
            guard op.dot.counter == prev.counter + 1 else {
                throw SyncError(.internal, "OpSigner: \(op.dot) không nối tiếp \(o):\(prev.counter).")
            }
            let h = OpChain.next(prev.hash, op, buffer: &buffer)
            heads[o] = (op.dot.counter, h)
            let runEnds = i + 1 == ops.count || ops[i + 1].dot.origin != o
            if runEnds || op.dot.counter % SignedHead.spacing == 0 {
                out.heads.append(try key(for: o).sign(origin: o, counter: op.dot.counter, hash: h))
            }
        }
        return out
    }
}

import Foundation

/// Constants of the sync protocol (docs/PROTOCOL.md). The version travels in a header and in
/// the first bytes of every body, so a peer from another release is told clearly what is wrong.
public enum SyncProtocol {
    /// The one protocol version this release speaks.
    public static let version: UInt8 = 2
    /// The media type of request and response bodies.
    public static let mediaType = "application/x-cchc-sync"
    /// The path of the sync endpoint.
    public static let path = "/v1/sync"
    /// How many ops a page carries at most, in either direction.
    public static let maxPageOps = 5_000
    /// How many of its own ops a replica may send in one request. A page of them ends at a head
    /// it signed, and a replica of the release before signing has no head inside the ops it wrote
    /// before the upgrade (its first head, and its key, come after them all): its first page
    /// holds every op it never synced, however many. Other origins' ops stay within a page.
    public static let maxOwnOps = 200_000
    /// The largest compressed body a hub accepts.
    public static let maxBodyBytes = 8 << 20
    /// The largest body after decompression (a guard against compression bombs).
    public static let maxInflatedBytes = 64 << 20
    /// How far a request's timestamp may be from the hub's clock, in seconds.
    public static let clockWindow: Int64 = 300
    /// How long a request nonce is remembered, in seconds (longer than the window on both sides).
    public static let nonceLifetime: Int64 = 2 * clockWindow + 60
    /// How old a bundle may be when imported, in seconds; its nonce is remembered that long.
    public static let bundleLifetime: Int64 = 90 * 86_400

    /// Header names.
    public enum Header {
        public static let protocolVersion = "x-cchc-protocol"
        public static let replica = "x-cchc-replica"
        public static let timestamp = "x-cchc-timestamp"
        public static let nonce = "x-cchc-nonce"
        public static let signature = "x-cchc-signature"
        /// The sender's schema version (`SchemaVersion.current`), on requests and replies: a
        /// header, so that a hub of the release before it (which sends none) is recognised.
        public static let schema = "x-cchc-schema"
    }
}

/// One page from a replica to the hub: its vector and the ops of its own that the hub has not
/// acknowledged yet (possibly none).
public struct SyncRequest: Sendable, Equatable {
    public var protocolVersion: UInt8
    /// The sender; must be the authenticated replica.
    public var replica: ReplicaID
    /// Everything the sender knows, so the hub answers with what it lacks.
    public var versionVector: VersionVector
    /// The sender's own ops, in counter order, that the hub has not acknowledged, with the
    /// sender's signed heads covering them.
    public var ops: [Op]
    public var heads: [SignedHead]
    /// How many ops the sender wants back at most in this page.
    public var pageLimit: Int
    /// The public key of the machine sending: the hub binds the enrolment to the first one.
    public var machineKey: MachineKey?
    /// Per origin the sender holds, the first 8 bytes of its chain head H(versionVector[origin]):
    /// the hub re-sends an origin whose head differs from its own at that counter, so that a
    /// fork (say, ops from a forged file) meets the real ops and is detected.
    public var digests: [ReplicaID: UInt64]

    public init(
        replica: ReplicaID, versionVector: VersionVector, batch: OpBatch = OpBatch(), pageLimit: Int = SyncProtocol.maxPageOps,
        machineKey: MachineKey? = nil, digests: [ReplicaID: UInt64] = [:], protocolVersion: UInt8 = SyncProtocol.version
    ) {
        self.digests = digests
        self.protocolVersion = protocolVersion
        self.replica = replica
        self.versionVector = versionVector
        self.ops = batch.ops
        self.heads = batch.heads
        self.pageLimit = pageLimit
        self.machineKey = machineKey
    }

    public var batch: OpBatch { OpBatch(ops: ops, heads: heads) }
}

/// One page from the hub to a replica: the hub's vector after applying the request (which is
/// what it acknowledges), a page of the ops the replica lacks, and whether more remain.
public struct SyncResponse: Sendable, Equatable {
    public var protocolVersion: UInt8
    /// The hub's vector after applying the request: `hubVersionVector[replica]` is what the hub
    /// holds of the replica's own ops.
    public var hubVersionVector: VersionVector
    /// Ops the replica lacks, per origin in counter order, with the heads covering them.
    public var ops: [Op]
    public var heads: [SignedHead]
    /// Whether the hub holds more ops the replica lacks than fitted in this page.
    public var more: Bool
    /// How many of the request's ops were new to the hub, and how many it already had.
    public var applied: Int
    public var duplicates: Int
    /// The hub's chain head for the requesting replica's own origin at `yourCounter` (the lower
    /// of the replica's counter and the hub's), first 8 bytes: the replica compares it with its
    /// own, so a database restored from an old copy that wrote on is found even when no op of it
    /// is sent (docs/PROTOCOL.md, "Forks").
    public var yourCounter: UInt64 = 0
    public var yourDigest: UInt64 = 0
    /// The hub's schema version, from the reply's header (not part of the body).
    public var hubSchema: Int?

    public init(
        hubVersionVector: VersionVector, batch: OpBatch, more: Bool, applied: Int = 0, duplicates: Int = 0,
        protocolVersion: UInt8 = SyncProtocol.version
    ) {
        self.protocolVersion = protocolVersion
        self.hubVersionVector = hubVersionVector
        self.ops = batch.ops
        self.heads = batch.heads
        self.more = more
        self.applied = applied
        self.duplicates = duplicates
    }
}

extension SyncResponse {
    public var batch: OpBatch { OpBatch(ops: ops, heads: heads) }
}

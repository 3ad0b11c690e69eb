//! huren's public gRPC API, `huren.v1`: messages, client stubs and server traits.

#![forbid(unsafe_code)]

mod summary;

/// The `huren.v1` package.
pub mod v1 {
    #![allow(clippy::all, missing_docs)]
    tonic::include_proto!("huren.v1");
}

/// Encoded `FileDescriptorSet` of every huren proto, for server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/huren_descriptor.bin"));

/// Fully qualified names of every huren gRPC service, for health and reflection.
pub const SERVICE_NAMES: [&str; 10] = [
    "huren.v1.RecognitionService",
    "huren.v1.ManifestsService",
    "huren.v1.CoordinationService",
    "huren.v1.RegistryService",
    "huren.v1.FederationService",
    "huren.v1.NodeSummaryService",
    "huren.v1.WitnessService",
    "huren.v1.LookupService",
    "huren.v1.AppealsService",
    "huren.v1.AppealsRelayService",
];

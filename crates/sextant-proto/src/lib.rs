//! The gRPC schema (`proto/sextant/v1/sextant.proto`) as Rust types, client and server traits.
//!
//! Generated at build time by a pure-Rust protobuf compiler (protox); no system `protoc` is involved.

#![allow(missing_docs, unused_qualifications, clippy::all)]

/// Version 1 of the API.
pub mod v1 {
    tonic::include_proto!("sextant.v1");
}

/// The encoded file descriptor set, for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/sextant_descriptor.bin"));

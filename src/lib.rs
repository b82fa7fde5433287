//! destination-hubspot: an Airbyte destination that upserts contacts into
//! HubSpot by email. The binary (`main.rs`) is a thin CLI over this library;
//! tests and benchmarks use the library directly.
#![forbid(unsafe_code)]

pub mod catalog;
pub mod check;
pub mod config;
pub mod discover;
pub mod hubspot;
pub mod protocol;
pub mod s3;
pub mod write;

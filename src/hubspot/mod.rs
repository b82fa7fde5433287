//! The HubSpot API client: one HTTP agent, the rate governor, the retry
//! policy and the single failure-decision function every call goes through.

pub mod api;
pub mod associations;
pub mod batch;
pub mod client;
pub mod errors;
pub mod governor;
pub mod objects;
pub mod pipelines;
pub mod properties;
pub mod retry;

pub use client::Client;
pub use errors::HubSpotError;

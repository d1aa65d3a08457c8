//! nat-flowrec as a library: the CLI's commands, the pure core (trigger, decision, event log
//! fold), the ports to AWS and their adapters. `main.rs` and the Lambda `bootstrap`
//! (`lambda::handle`) are thin entry points over the commands.
//!
//! # Layers
//!
//! Each layer imports only the layers below it:
//!
//! ```text
//! commands, cli, lambda          the entry points: parse arguments, call one function
//! controller, pipeline, doctor   the imperative shell: read AWS, ask the core, act, append
//! store, aws, sim, attribution   adapters: the event log's storage, AWS (real or simulated)
//! config                         the TOML file, checked once and mapped into core types
//! core                           pure decisions: rule, settings, events, state, plans
//! ports, quantity                the AWS capabilities as traits and plain data; units
//! ```
//!
//! `core` imports nothing from `config`, `store`, `aws` or `commands`: the configuration maps
//! its tables into `core::TriggerRule`, `core::RecordingSettings` and `core::Policy`. One
//! exception to the order: `config` checks an `s3://` state location with
//! `store::S3Location`'s parser, which imports nothing from `config`.

#![forbid(unsafe_code)]

pub mod attribution;
pub mod aws;
pub mod cli;
pub mod commands;
pub mod config;
pub mod controller;
pub mod core;
pub mod doctor;
pub mod error_chain;
pub mod iam_policy;
pub mod lambda;
pub mod names;
pub mod pipeline;
pub mod ports;
pub mod quantity;
pub mod sim;
pub mod store;

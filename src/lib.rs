//! nat-flowrec as a library: the CLI's commands, the pure core (trigger, decision, event log
//! fold), the ports to AWS and their adapters. `main.rs` and the Lambda `bootstrap`
//! (`lambda::handle`) are thin entry points over the commands: each resolves its input once
//! into [`app::Settings`] and an [`app::Action`], with AWS names already checked
//! ([`names`]).
//!
//! # Layers
//!
//! Each layer imports only the layers below it:
//!
//! ```text
//! commands, cli, lambda, app     the entry points: resolve settings once, call one function
//! controller, finish, doctor     the imperative shell: read AWS, ask the core, act, append
//! store, aws, sim, attribution   adapters: the event log's storage, AWS (real or simulated)
//! config                         the TOML file, checked once and mapped into core types
//! core                           pure decisions: rule, settings, events, state, plans
//! ports, names, quantity,         the AWS capabilities as traits and plain data; AWS names; units;
//!   s3_layout                    where flow logs delivered to S3 put their files
//! ```
//!
//! `core` imports nothing from `config`, `store`, `aws` or `commands`: the configuration maps
//! its tables into `core::TriggerRule`, `core::RecordingSettings` and `core::Policy`.

#![forbid(unsafe_code)]

pub mod app;
pub mod attribution;
pub mod aws;
pub mod cli;
pub mod commands;
pub mod config;
pub mod controller;
pub mod core;
pub mod doctor;
pub mod error_chain;
pub mod finish;
pub mod iam_policy;
pub mod lambda;
pub mod names;
pub mod ports;
pub mod quantity;
pub mod s3_layout;
pub mod sim;
pub mod store;

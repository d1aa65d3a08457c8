//! nat-flowrec as a library: the CLI's commands, the pure core (trigger, decision, event log
//! fold), the ports to AWS and their adapters. `main.rs` and the Lambda `bootstrap`
//! (`lambda::handle`) are thin entry points over the commands: each resolves its input once
//! into [`app::Settings`] and an [`app::Action`], with AWS names already checked
//! ([`names`]).

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
pub mod sim;
pub mod store;
